/** Run the federation entity alone: `node federation/main.ts` (port FEDERATION_PORT). */
import { runStandalone } from '../kernel/service.ts';
import { startFederationService } from './service.ts';

await runStandalone('federation', startFederationService, (c) => c.FEDERATION_PORT);

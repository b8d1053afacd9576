/** `node subgraphs/licence/main.ts`: the licence subgraph alone (production: one process per service). */
import { runStandalone } from '../../kernel/service.ts';
import { startLicenceService } from './service.ts';

await runStandalone('licence', startLicenceService, (c) => c.LICENCE_PORT);

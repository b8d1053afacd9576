/** The IdP alone: `node idp/main.ts` (listens on IDP_PORT). */
import { runStandalone } from '../kernel/service.ts';
import { startIdpService } from './service.ts';

await runStandalone('idp', startIdpService, (c) => c.IDP_PORT);

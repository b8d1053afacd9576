/** Run the public guide pages alone: `node portal/main.ts` (port PORTAL_PORT; queries PORTAL_GATEWAY_URL). */
import { runStandalone } from '../kernel/service.ts';
import { startPortalServiceFactory } from './service.ts';

await runStandalone('portal', startPortalServiceFactory, (c) => c.PORTAL_PORT, { db: false, cache: false });

/** `node gateway/main.ts`: the gateway alone, on GATEWAY_PORT. */
import './no-telemetry.ts';
import { runStandalone } from '../kernel/service.ts';
import { startGatewayService } from './service.ts';

// The cache (REDIS_URL, shared with the IdP): delegation revoke markers for acting-for tokens (delegations.ts).
await runStandalone('gateway', startGatewayService, (c) => c.GATEWAY_PORT, { db: false, cache: true });

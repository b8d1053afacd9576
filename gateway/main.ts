/** `node gateway/main.ts`: the gateway alone, on GATEWAY_PORT. */
import './no-telemetry.ts';
import { runStandalone } from '../kernel/service.ts';
import { startGatewayService } from './service.ts';

await runStandalone('gateway', startGatewayService, (c) => c.GATEWAY_PORT, { db: false, cache: false });

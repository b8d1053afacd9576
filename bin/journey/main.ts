/**
 * `npm run journey`: run the first user journey against a running platform (start it with
 * `npm start` in another terminal, same directory and environment: the journey reads the
 * registration SMS code from the platform's development sink). Prints each step. Uses the demo
 * staff accounts.
 */
import { loadConfig } from '../../kernel/config.ts';
import { devSinkCodes } from './register.ts';
import { runJourney } from './steps.ts';

const config = loadConfig();
const port = (u: string) => u.replace(/\/graphql$/, '');
try {
  await runJourney({
    gateway: `http://127.0.0.1:${config.GATEWAY_PORT}`,
    issuer: config.IDP_ISSUER,
    licence: port(config.LICENCE_URL),
    resource: config.GATEWAY_RESOURCE,
    redirectUri: config.IDP_PORTAL_REDIRECT_URIS.split(',')[0]!.trim(),
  }, devSinkCodes(), (line) => console.log(line));
  console.log('\nJourney complete. 全流程完成。');
} catch (e) {
  console.error(`Journey failed: ${(e as Error).message}\nIs the platform running (npm start)?`);
  process.exit(1);
}

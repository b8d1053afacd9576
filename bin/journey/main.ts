/**
 * `npm run journey`: run the first user journey against a running platform (start it with
 * `npm start` in another terminal, same directory and environment: the journey reads the
 * registration SMS code from the platform's development sink). Prints each step. Uses the demo
 * staff accounts.
 *
 * `npm run journey -- --tiers <tiers.json>`: the cross-tier journey (./tiers.ts) against a
 * running `npm run tiers` (tiers.json is the file its ready line names). Exits 1 on any failure.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../../kernel/config.ts';
import { devSinkCodes } from './register.ts';
import { runJourney } from './steps.ts';
import { readTiers, runTiersJourney } from './tiers.ts';

const { values: args } = parseArgs({ options: { tiers: { type: 'string' } } });

if (args.tiers) {
  try {
    await runTiersJourney(readTiers(args.tiers), (line) => console.log(line));
    console.log('\nCross-tier journey complete. 跨层级全流程完成。');
  } catch (e) {
    console.error(`Cross-tier journey failed: ${(e as Error).message}\nIs the federation running (npm run tiers), and is ${args.tiers} its tiers.json?`);
    process.exit(1);
  }
} else {
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
}

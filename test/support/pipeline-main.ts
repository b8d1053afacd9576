/**
 * The fault-test pipeline (pipeline.ts) as a process of its own, as services run in production,
 * so a test can see whether a fault ends it. Configured by DATABASE_URL, REDIS_URL (unset: the
 * in-process substitute), REDIS_PREFIX, PIPELINE_CLAIM_IDLE_MS and LOG_LEVEL (logs go to stderr).
 * Prints one line `READY {"caseUrl":…,"licenceUrl":…}` on stdout once both services listen;
 * SIGTERM stops it.
 */
import { openDb } from '../../kernel/db.ts';
import { openCache } from '../../kernel/cache.ts';
import { startPipeline } from './pipeline.ts';

const db = await openDb({ url: process.env.DATABASE_URL, poolSize: 10 });
const cache = await openCache({ url: process.env.REDIS_URL, prefix: process.env.REDIS_PREFIX });
const pipeline = await startPipeline({
  db, cache, claimIdleMs: Number(process.env.PIPELINE_CLAIM_IDLE_MS ?? 1000), logLevel: process.env.LOG_LEVEL ?? 'silent', logTo: 2,
});
process.stdout.write(`READY ${JSON.stringify({ caseUrl: pipeline.caseService.url, licenceUrl: pipeline.licenceService.url })}\n`);
process.once('SIGTERM', () => {
  void (async () => {
    await pipeline.close();
    await cache.close();
    await db.close();
    process.exit(0);
  })();
});

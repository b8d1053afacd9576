/**
 * The whole platform on free ports with a headless Chromium, for the guide pages' browser tests
 * (portal/*.browser.test.ts): a fresh test database and cache, the demo data seeded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { loadConfig } from '../../kernel/config.ts';
import { internalKey } from '../../kernel/internal-auth.ts';
import { silentLogger } from '../../kernel/log.ts';
import { systemClock } from '../../kernel/clock.ts';
import type { Cache } from '../../kernel/cache.ts';
import { startPlatform, type Platform } from '../../bin/platform.ts';
import { TEST_SECRET, testCache, testDb, type TestDb } from './infra.ts';
import { launchBrowser } from './browser.ts';

export interface PortalPlatform {
  db: TestDb;
  cache: Cache;
  platform: Platform;
  browser: Browser;
  /** Base URL of the guide pages. */
  portal: string;
  close(): Promise<void>;
}

export async function startPortalPlatform(): Promise<PortalPlatform> {
  const dataDir = mkdtempSync(join(tmpdir(), 'yiwang-portal-'));
  const db = await testDb();
  const cache = await testCache();
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, BIND_HOST: '127.0.0.1' });
  const platform = await startPlatform({
    config, secrets: { internalSecret: TEST_SECRET, keyPassphrase: 'portal-key-passphrase-0123456789abcdef', cookieKeys: ['portal-cookie-key-0123456789abcdef'] },
    internalKey: internalKey(TEST_SECRET), db, cache, clock: systemClock, log: silentLogger(),
  }, { ports: 'ephemeral', seed: true });
  const browser = await launchBrowser();
  return {
    db, cache, platform, browser, portal: platform.services.portal.url,
    async close() {
      await browser.close();
      await platform.close();
      await cache.close();
      await db.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Real headless Chromium for page tests: Debian's `chromium` (never a downloaded browser),
 * driven by playwright-core. Page tests are named `*.browser.test.ts`; .ci/run installs
 * Chromium, and jest.config.js leaves them out (with a note) on a machine without it outside CI.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // The machine has no outside network: keep Chromium from trying.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** Where tests keep screenshots (ignored by git; CI keeps the run's copies). */
export function artifactPath(name: string): string {
  const dir = join(process.cwd(), 'test', '.artifacts');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

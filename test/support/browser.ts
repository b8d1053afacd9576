/**
 * Real headless Chromium for page tests: Debian's `chromium` (never a downloaded browser),
 * driven by playwright-core. Page tests are named `*.browser.test.ts`; .ci/run installs
 * Chromium, and jest.config.js leaves them out (with a note) on a machine without it outside CI.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

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

/** The portal's redirect URI in tests: nothing listens there, so the browser answers it itself. */
export const PORTAL_CALLBACK = 'http://127.0.0.1:3000/callback';

/**
 * A zh-CN page as a citizen opens it from the portal: the portal's callback is answered in the
 * browser, and any request outside `platform` (or the portal) fails the test — pages must load
 * nothing from elsewhere. Several platforms for a page that goes from one to another.
 */
export async function portalPage(browser: Browser, platform: string | readonly string[]): Promise<Page> {
  const platforms = typeof platform === 'string' ? [platform] : platform;
  const context = await browser.newContext({ locale: 'zh-CN' });
  const page = await context.newPage();
  const portal = new URL(PORTAL_CALLBACK).origin;
  await page.route(`${portal}/**`, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<p>callback</p>' }));
  page.on('request', (r) => {
    const url = r.url();
    if (!platforms.some((p) => url.startsWith(p)) && !url.startsWith(portal) && !url.startsWith('data:')) throw new Error(`external request ${url}`);
  });
  return page;
}

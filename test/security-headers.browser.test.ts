/**
 * The pages' security headers in a real browser: login, registration and logout pages render
 * with their styles and scripts under the strict Content-Security-Policy (no violation), and a
 * page of another origin cannot frame them (clickjacking of login or of the consent page, which
 * releases the full ID number).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { launchBrowser, PORTAL_CALLBACK, portalPage } from './support/browser.ts';
import { startTestIdp, type TestIdp } from './support/oidc.ts';

let idp: TestIdp;
let browser: Browser;
let framer: Server;
let framerUrl: string;

const authorizeUrl = () => {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return `${idp.issuer}/auth?client_id=yiwang-portal&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(PORTAL_CALLBACK)}&code_challenge=${challenge}&code_challenge_method=S256`;
};

beforeAll(async () => {
  idp = await startTestIdp({ seed: true });
  browser = await launchBrowser();
  // Another origin that tries to frame the IdP's pages.
  framer = createServer((req, res) => {
    const target = new URL(req.url ?? '/', 'http://x').searchParams.get('src') ?? '';
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>framer</title><iframe id="f" src="${target.replace(/"/g, '&quot;')}" width="600" height="400"></iframe>`);
  });
  await new Promise<void>((r) => framer.listen(0, 'localhost', () => r()));
  framerUrl = `http://localhost:${(framer.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => framer?.close(r));
  await idp?.close();
});

describe('pages.security-headers', () => {
  test('login (with its QR polling script), registration and logout render under the CSP with no violation, styles applied', async () => {
    const page = await portalPage(browser, idp.issuer);
    const violations: string[] = [];
    page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text()); });
    for (const url of [authorizeUrl(), `${idp.issuer}/register`, `${idp.issuer}/session/end`]) {
      const res = await page.goto(url);
      expect(res!.headers()['x-frame-options']).toBe('DENY');
      expect(res!.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
      // The inline stylesheet applied: the header bar has its colour.
      // (A string, evaluated in the page: this project's type check has no DOM library.)
      expect(await page.evaluate('getComputedStyle(document.querySelector("header")).backgroundColor')).toBe('rgb(179, 32, 42)');
    }
    // The login page's QR polling script ran (it is allowed by hash): it asked for the QR status.
    const polled = page.waitForRequest((r) => r.url().endsWith('/qr') && r.method() === 'GET', { timeout: 10_000 });
    await page.goto(authorizeUrl());
    await polled;
    expect(violations).toEqual([]);
    await page.context().close();
  });

  test('another origin cannot frame the login or registration page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    for (const src of [authorizeUrl(), `${idp.issuer}/register`]) {
      await page.goto(`${framerUrl}/?src=${encodeURIComponent(src)}`);
      await page.waitForTimeout(500);
      const frame = page.frames().find((f) => f !== page.mainFrame())!;
      // Blocked: the frame shows the browser's error page, never the form.
      expect(await frame.$('form')).toBeNull();
      expect(await frame.$('input[type=password]')).toBeNull();
    }
    await context.close();
  });
});

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { koaBody } from 'koa-body';
import { createHttpApp, listen, type Listening } from './http.ts';
import { silentLogger } from './log.ts';
import { AppError } from './errors.ts';
import { createHash } from 'node:crypto';
import { inlineStyle } from './csp.ts';

let server: Listening;
beforeAll(async () => {
  const { app, router } = createHttpApp({ name: 't', log: silentLogger(), health: { ok: async () => true, bad: async () => false } });
  router.post('/echo', koaBody({ jsonLimit: '1kb' }), (ctx) => { ctx.body = ctx.request.body; });
  router.get('/app-error', () => { throw new AppError('FORBIDDEN', 'no'); });
  router.get('/boom', () => { throw new Error('secret internals'); });
  app.use(router.routes());
  server = await listen(app, 0);
});
afterAll(async () => { await server.close(); });

const post = (body: string) => fetch(`${server.url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('http.problems', () => {
  test('malformed JSON is BAD_INPUT, an oversized body PAYLOAD_TOO_LARGE', async () => {
    const bad = await post('{"a":');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('BAD_INPUT');
    const big = await post(JSON.stringify({ a: 'x'.repeat(5000) }));
    expect(big.status).toBe(413);
    expect(((await big.json()) as { code: string }).code).toBe('PAYLOAD_TOO_LARGE');
  });
  test('an AppError keeps its code; anything else is INTERNAL without its message', async () => {
    const f = await fetch(`${server.url}/app-error`);
    expect(f.status).toBe(403);
    expect(f.headers.get('content-type')).toContain('application/problem+json');
    expect(((await f.json()) as { code: string }).code).toBe('FORBIDDEN');
    const b = await fetch(`${server.url}/boom`);
    expect(b.status).toBe(500);
    expect(await b.text()).not.toContain('secret internals');
  });
  test('/healthz reports each check and 503 when one fails', async () => {
    const h = await fetch(`${server.url}/healthz`);
    expect(h.status).toBe(503);
    expect(await h.json()).toEqual({ service: 't', status: 'degraded', checks: { ok: 'ok', bad: 'fail' } });
  });
});

describe('http.proxy', () => {
  test('X-Forwarded-For is ignored unless TRUST_PROXY says a proxy sets it', async () => {
    for (const trustProxy of [false, true]) {
      const { app, router } = createHttpApp({ name: 'p', log: silentLogger(), trustProxy });
      router.get('/ip', (ctx) => { ctx.body = ctx.ip; });
      app.use(router.routes());
      const s = await listen(app, 0);
      try {
        const ip = await (await fetch(`${s.url}/ip`, { headers: { 'x-forwarded-for': '203.0.113.7' } })).text();
        expect(ip).toBe(trustProxy ? '203.0.113.7' : '127.0.0.1');
      } finally {
        await s.close();
      }
    }
  });
});

describe('http.security-headers', () => {
  test('every answer, errors included, forbids framing, sniffing and referrers and carries a CSP allowing only registered inline blocks', async () => {
    const css = inlineStyle('body{color:#123}');
    for (const path of ['/healthz', '/app-error', '/boom', '/nowhere']) {
      const r = await fetch(`${server.url}${path}`);
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
      expect(r.headers.get('strict-transport-security')).toContain('max-age=31536000');
      const csp = r.headers.get('content-security-policy')!;
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain(`style-src 'sha256-${createHash('sha256').update(css).digest('base64')}'`);
      expect(csp).not.toContain('unsafe-inline');
    }
  });
});

/**
 * The HTTP shell every process shares: Koa with a request id, an access log without secrets,
 * problem+json errors with stable codes, and `GET /healthz` reporting each dependency.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import helmet from 'koa-helmet';
import { contentSecurityPolicy } from './csp.ts';
import { AppError, toProblem, isAppError } from './errors.ts';
import type { Logger } from './log.ts';

export type HealthCheck = () => Promise<boolean>;

/** Seconds a client is told to wait (Retry-After) when a dependency is unavailable. */
export const RETRY_AFTER_SECONDS = 5;
/** A /healthz check that has not answered after this long counts as failed. */
export const HEALTH_CHECK_TIMEOUT_MS = 2000;

export interface HttpAppOptions {
  name: string;
  log: Logger;
  /**
   * Trust X-Forwarded-* (TRUST_PROXY). Off by default: a client could otherwise pick its own
   * address and dodge per-address limits.
   */
  trustProxy?: boolean;
  /** Named dependency checks for /healthz (database, cache, …). */
  health?: Record<string, HealthCheck>;
}

export function createHttpApp(opts: HttpAppOptions): { app: Koa; router: Router } {
  const app = new Koa();
  app.proxy = opts.trustProxy ?? false;
  const router = new Router();
  // Koa reports what fails outside the middleware chain (the socket of a streaming answer, such
  // as a live chat's events, reset by a client that went away) on 'error', by default on stderr.
  // A client leaving is no failure; anything else goes to the log.
  app.on('error', (err: NodeJS.ErrnoException) => {
    if (['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE'].includes(err.code ?? '')) return;
    opts.log.error({ err }, 'response failed');
  });
  // Security headers on every answer (pages, JSON, errors): a strict CSP allowing only the
  // registered inline blocks (kernel/csp.ts), no framing (clickjacking of login and consent),
  // nosniff, no referrer, HSTS, same-origin opener and resource policies.
  const headers = helmet({
    contentSecurityPolicy: false, // set below, from kernel/csp.ts
    crossOriginEmbedderPolicy: false,
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
  });
  app.use(async (ctx, next) => {
    const id = ctx.get('x-request-id') || randomUUID();
    ctx.set('x-request-id', id);
    const started = performance.now();
    try {
      await headers(ctx, async () => {
        ctx.set('content-security-policy', Object.entries(contentSecurityPolicy()).map(([k, v]) => `${k} ${v.join(' ')}`).join('; '));
        await next();
      });
    } catch (caught) {
      const e = fromHttpError(caught);
      const { status, body } = toProblem(e);
      if (!isAppError(e)) opts.log.error({ err: e, reqId: id }, 'request failed');
      ctx.status = status;
      ctx.type = 'application/problem+json';
      ctx.body = body;
      if (isAppError(e) && e.code === 'SERVICE_UNAVAILABLE') {
        ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
        opts.log.warn({ err: (e as { cause?: unknown }).cause ?? e, reqId: id }, 'a dependency is unavailable; answered 503');
      }
    } finally {
      if (ctx.path !== '/healthz') {
        opts.log.debug({ reqId: id, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) }, 'http');
      }
    }
  });
  // Readiness for a load balancer: 200 {status: 'ok'} when every dependency answers, else 503
  // {status: 'degraded'} naming the failing checks. A check that does not answer within
  // HEALTH_CHECK_TIMEOUT_MS fails, so the probe itself never hangs while a server is down.
  router.get('/healthz', async (ctx) => {
    const entries = await Promise.all(Object.entries(opts.health ?? {}).map(async ([name, check]) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((r) => { timer = setTimeout(() => r(false), HEALTH_CHECK_TIMEOUT_MS); });
      const ok = await Promise.race([check().catch(() => false), late]);
      clearTimeout(timer);
      return [name, ok ? 'ok' : 'fail'] as const;
    }));
    const checks: Record<string, 'ok' | 'fail'> = Object.fromEntries(entries);
    const ok = Object.values(checks).every((v) => v === 'ok');
    ctx.status = ok ? 200 : 503;
    if (!ok) ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
    ctx.body = { service: opts.name, status: ok ? 'ok' : 'degraded', checks };
  });
  return { app, router };
}

/**
 * Body parsers and Koa throw errors with a 4xx `status` for a client's mistake: malformed
 * JSON, a body over the limit, a wrong content type. Those are the client's fault and get a
 * stable code; anything else stays an internal error.
 */
function fromHttpError(e: unknown): unknown {
  if (isAppError(e) || typeof e !== 'object' || e === null) return e;
  const { status } = e as { status?: unknown };
  if (typeof status !== 'number' || status < 400 || status >= 500) return e;
  if (status === 413) return new AppError('PAYLOAD_TOO_LARGE', '请求内容过大 / the request body is too large');
  if (status === 404) return new AppError('NOT_FOUND', '未找到 / not found');
  return new AppError('BAD_INPUT', '请求格式错误 / malformed request');
}

export interface Listening {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Listen (port 0 picks a free port, for tests) and return a closer that also ends keep-alives. */
export function listen(app: Koa, port: number, host = '127.0.0.1'): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server: Server = app.listen(port, host);
    // Idle keep-alive connections outlive the clients' own idle limit (undici, proxies: <= 60 s),
    // so a client never reuses a socket the server is closing at that instant (ECONNRESET).
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    server.once('error', reject);
    server.once('listening', () => {
      const actual = (server.address() as AddressInfo).port;
      resolve({
        url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actual}`,
        port: actual,
        close: () => new Promise<void>((res) => {
          server.close(() => res());
          server.closeAllConnections();
        }),
      });
    });
  });
}

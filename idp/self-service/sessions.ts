/**
 * A person's own login sessions: list them and end any of them.
 *
 * oidc-provider keeps sessions in the cache by id only; every session that completes a login is
 * added here to a per-account index (`acct:sessions:<accountId>`, with when, how and from what
 * browser, never the address in full). Listing reads each indexed session back (ended or expired
 * ones drop out); ending one destroys it and revokes the grants made in it, so its refresh
 * tokens stop working too.
 */
import type { ParameterizedContext } from 'koa';
import type { Provider } from 'oidc-provider';
import type { Cache } from '../../kernel/cache.ts';
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';

interface OidcSession {
  jti: string; uid: string; accountId?: string; acr?: string; amr?: string[]; loginTs?: number; exp?: number;
  authorizations?: Record<string, { grantId?: string }>;
  destroy(): Promise<void>;
}
interface SessionApi {
  Session: { find(id: string): Promise<OidcSession | undefined>; get(ctx: ParameterizedContext): Promise<OidcSession> };
  Grant: { adapter: { destroy(id: string): Promise<void> } };
  AccessToken: { adapter: { revokeByGrantId(grantId: string): Promise<void> } };
  use(mw: (ctx: ParameterizedContext & { oidc?: { route?: string; session?: OidcSession } }, next: () => Promise<void>) => Promise<void>): void;
}

export interface SessionInfo { id: string; current: boolean; loginAt: string | null; acr: string | null; amr: string[]; browser: string; expiresAt: string | null }
interface Meta { ua: string; at: string }

const INDEX_TTL = 31 * 24 * 3600;

export interface Sessions {
  /** The browser's IdP session, if it is logged in. */
  current(ctx: ParameterizedContext): Promise<OidcSession | undefined>;
  list(accountId: string, currentId?: string): Promise<SessionInfo[]>;
  /** End one of the account's sessions (NOT_FOUND for someone else's or an ended one). */
  end(accountId: string, sessionId: string): Promise<void>;
}

export function createSessions(d: { provider: Provider; cache: Cache; clock: Clock }): Sessions {
  const p = d.provider as unknown as SessionApi;
  const indexKey = (accountId: string) => `acct:sessions:${accountId}`;
  const metaKey = (id: string) => `acct:session-meta:${id}`;

  // Index every session a login completes in (the resume step after an interaction).
  p.use(async (ctx, next) => {
    await next();
    const s = ctx.oidc?.session;
    if (ctx.oidc?.route !== 'resume' || !s?.accountId || !s.jti) return;
    await d.cache.sAdd(indexKey(s.accountId), s.jti, INDEX_TTL);
    const meta: Meta = { ua: (ctx.get('user-agent') || '').slice(0, 120), at: d.clock.now().toISOString() };
    await d.cache.set(metaKey(s.jti), JSON.stringify(meta), { ttlSeconds: INDEX_TTL });
  });

  async function find(accountId: string, id: string): Promise<OidcSession | undefined> {
    const ids = await d.cache.sMembers(indexKey(accountId));
    if (!ids.includes(id)) return undefined;
    const s = await p.Session.find(id);
    return s?.accountId === accountId ? s : undefined;
  }

  return {
    async current(ctx) {
      const s = await p.Session.get(ctx);
      return s?.accountId ? s : undefined;
    },
    async list(accountId, currentId) {
      const out: SessionInfo[] = [];
      for (const id of await d.cache.sMembers(indexKey(accountId))) {
        const s = await p.Session.find(id);
        if (!s || s.accountId !== accountId) continue;
        const meta = JSON.parse(await d.cache.get(metaKey(id)) ?? '{}') as Partial<Meta>;
        out.push({
          id, current: id === currentId,
          loginAt: s.loginTs ? new Date(s.loginTs * 1000).toISOString() : meta.at ?? null,
          acr: s.acr ?? null, amr: s.amr ?? [], browser: meta.ua ?? '',
          expiresAt: s.exp ? new Date(s.exp * 1000).toISOString() : null,
        });
      }
      return out.sort((a, b) => String(b.loginAt).localeCompare(String(a.loginAt)));
    },
    async end(accountId, sessionId) {
      const s = await find(accountId, sessionId);
      if (!s) throw new AppError('NOT_FOUND', '没有该会话 / no such session');
      for (const { grantId } of Object.values(s.authorizations ?? {})) {
        if (!grantId) continue;
        await p.AccessToken.adapter.revokeByGrantId(grantId);
        await p.Grant.adapter.destroy(grantId);
      }
      await s.destroy();
      await d.cache.del(metaKey(sessionId));
    },
  };
}

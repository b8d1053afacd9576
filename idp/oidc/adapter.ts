/**
 * oidc-provider storage over the kernel Cache (Redis, or the in-process substitute), so every
 * IdP process shares sessions, interactions, codes, tokens and grants.
 *
 * Keys (under the cache's prefix):
 *   oidc:<Model>:<id>            the payload (JSON), expiring with the artefact
 *   oidc:<Model>:<id>:consumed   when it was consumed; a separate key written with NX, so
 *                                consuming is one atomic command and never rewrites the payload
 *   oidc:sessionUid:<uid>        Session id by uid (findByUid)
 *   oidc:userCode:<code>         id by device user code (findByUserCode)
 *   oidc:grant:<grantId>         set of payload keys issued under a grant (revokeByGrantId);
 *                                its expiry is kept at the longest-lived member's
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Cache } from '../../kernel/cache.ts';

const GRANTABLE = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode',
]);

const grantKey = (grantId: string) => `oidc:grant:${grantId}`;
const sessionUidKey = (uid: string) => `oidc:sessionUid:${uid}`;
const userCodeKey = (userCode: string) => `oidc:userCode:${userCode}`;

export class CacheAdapter implements Adapter {
  readonly #cache: Cache;
  readonly #model: string;
  readonly #now: () => number;

  constructor(cache: Cache, model: string, now: () => number = Date.now) {
    this.#cache = cache;
    this.#model = model;
    this.#now = now;
  }

  #key(id: string): string {
    return `oidc:${this.#model}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const key = this.#key(id);
    const ttl = typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : undefined;
    const opts = ttl ? { ttlSeconds: ttl } : {};
    await this.#cache.set(key, JSON.stringify(payload), opts);
    if (this.#model === 'Session' && payload.uid) await this.#cache.set(sessionUidKey(payload.uid), id, opts);
    if (payload.userCode) await this.#cache.set(userCodeKey(payload.userCode), id, opts);
    if (GRANTABLE.has(this.#model) && payload.grantId) {
      const gk = grantKey(payload.grantId);
      const current = await this.#cache.ttl(gk);
      await this.#cache.sAdd(gk, key);
      // Never shorten the index: it must outlive the longest-lived token of the grant.
      // -1 = no expiry (keep it); -2 = the set did not exist before.
      if (ttl && current !== -1 && (current === -2 || current < ttl)) await this.#cache.expire(gk, ttl);
    }
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const key = this.#key(id);
    const [raw, consumed] = await Promise.all([this.#cache.get(key), this.#cache.get(`${key}:consumed`)]);
    if (raw === null) return undefined;
    const payload = JSON.parse(raw) as AdapterPayload;
    if (consumed !== null) payload.consumed = Number(consumed);
    return payload;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const id = await this.#cache.get(sessionUidKey(uid));
    return id === null ? undefined : this.find(id);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const id = await this.#cache.get(userCodeKey(userCode));
    return id === null ? undefined : this.find(id);
  }

  async consume(id: string): Promise<void> {
    const key = this.#key(id);
    const ttl = await this.#cache.ttl(key);
    if (ttl === -2) return;
    await this.#cache.set(`${key}:consumed`, String(Math.floor(this.#now() / 1000)), { nx: true, ...(ttl > 0 ? { ttlSeconds: ttl } : {}) });
  }

  async destroy(id: string): Promise<void> {
    const key = this.#key(id);
    const payload = await this.find(id);
    await this.#cache.del(key, `${key}:consumed`);
    if (payload) await this.#dropIndexes(id, payload);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    const gk = grantKey(grantId);
    const members = await this.#cache.sMembers(gk);
    for (const member of members) {
      const raw = await this.#cache.get(member);
      await this.#cache.del(member, `${member}:consumed`);
      if (raw !== null) {
        const payload = JSON.parse(raw) as AdapterPayload;
        await this.#dropIndexes(payload.jti ?? member.slice(member.lastIndexOf(':') + 1), payload);
      }
    }
    await this.#cache.del(gk);
  }

  async #dropIndexes(id: string, payload: AdapterPayload): Promise<void> {
    if (payload.uid && (await this.#cache.get(sessionUidKey(payload.uid))) === id) await this.#cache.del(sessionUidKey(payload.uid));
    if (payload.userCode && (await this.#cache.get(userCodeKey(payload.userCode))) === id) await this.#cache.del(userCodeKey(payload.userCode));
  }
}

/** The `adapter` option for oidc-provider: one CacheAdapter per model name. */
export function cacheAdapterFactory(cache: Cache): (model: string) => CacheAdapter {
  return (model) => new CacheAdapter(cache, model);
}

/**
 * Trust chain resolution (OpenID Federation 1.0, 10.1): from an entity's Entity Configuration up
 * its `authority_hints`, each superior's Entity Configuration gives its fetch endpoint, which
 * gives the Subordinate Statement about the entity below; until a configured Trust Anchor is
 * reached. Every candidate chain is then validated (validate.ts) and the shortest valid one is
 * chosen (10.3).
 *
 * Resolved chains are cached (Redis, or the in-process substitute) until the earlier of the
 * chain's expiry and FEDERATION_CHAIN_CACHE_SECONDS; a cached chain is validated again at every
 * use, so the cache never outlives an `exp`. A platform whose superior stops vouching for it is
 * therefore no longer recognised at most FEDERATION_CHAIN_CACHE_SECONDS later.
 */
import { createHash } from 'node:crypto';
import type { Cache } from '../kernel/cache.ts';
import type { Clock } from '../kernel/clock.ts';
import { AppError, isAppError } from '../kernel/errors.ts';
import { checkUrl, type Fetcher } from './fetcher.ts';
import { decodeStatement, verifyStatement, checkJwks } from './statement.ts';
import { ENTITY_STATEMENT_MEDIA_TYPE, type Json, type Jwks, type ResolvedEntity, type TrustAnchor } from './types.ts';
import { sameEntity, validateTrustChain } from './validate.ts';

export interface ResolverOptions {
  anchors: readonly TrustAnchor[];
  fetcher: Fetcher;
  clock: Clock;
  cache?: Cache | undefined;
  /** Upper bound on how long a resolved chain is reused; 0 = never cached. */
  cacheSeconds: number;
  /** Superiors followed at most above the subject (path length guard). */
  maxDepth?: number;
  /** Authority hints followed at most per entity. */
  maxHints?: number;
}

export interface ResolveOptions {
  /** Only chains to this anchor (it must be configured). */
  trustAnchor?: string;
  /** Skip the cache (the chain is resolved and cached again). */
  fresh?: boolean;
}

export interface RelyingParty {
  /** client_id = the Entity Identifier (automatic registration). */
  clientId: string;
  /** Resolved `openid_relying_party` metadata. */
  metadata: Record<string, Json>;
  /** Keys for request objects and private_key_jwt: from `jwks` in the resolved metadata, or its `jwks_uri`. */
  jwks: Jwks;
  trustAnchor: string;
  trustChain: string[];
  /** Seconds since epoch after which the registration must be resolved again. */
  exp: number;
}

export interface OpenIdProvider {
  entityId: string;
  issuer: string;
  metadata: Record<string, Json>;
  trustAnchor: string;
  trustChain: string[];
  exp: number;
}

export interface Resolver {
  readonly anchors: readonly TrustAnchor[];
  resolve(entityId: string, opts?: ResolveOptions): Promise<ResolvedEntity>;
  resolveRelyingParty(entityId: string, opts?: ResolveOptions): Promise<RelyingParty>;
  resolveOpenIdProvider(entityId: string, opts?: ResolveOptions): Promise<OpenIdProvider>;
  /** Drop cached chains of an entity (all anchors). */
  forget(entityId: string): Promise<void>;
}

const nowSeconds = (clock: Clock) => Math.floor(clock.now().getTime() / 1000);
const cacheKey = (entityId: string, anchor: string) =>
  `federation:chain:${createHash('sha256').update(`${anchor}\n${entityId}`).digest('base64url')}`;

/** Rank errors so the most telling one is reported when no chain validates. */
const RANK: Record<string, number> = {
  FEDERATION_POLICY_VIOLATION: 9, FEDERATION_POLICY_INVALID: 8, FEDERATION_CONSTRAINT_VIOLATION: 8, FEDERATION_SIGNATURE_INVALID: 7,
  FEDERATION_CHAIN_EXPIRED: 6, FEDERATION_STATEMENT_INVALID: 5, FEDERATION_UNREACHABLE: 4, FEDERATION_ENTITY_ID_REFUSED: 3, FEDERATION_UNTRUSTED: 1,
};

export function createResolver(opts: ResolverOptions): Resolver {
  const { anchors, fetcher, clock, cache } = opts;
  const maxDepth = opts.maxDepth ?? 5;
  const maxHints = opts.maxHints ?? 5;
  const anchorOf = (id: string) => anchors.find((a) => sameEntity(a.entityId, id));

  /** A superior's Entity Configuration, self-signed (and signed by the configured keys for an anchor). */
  async function superiorConfiguration(id: string, now: number) {
    const jwt = await fetcher.entityConfiguration(id);
    const { claims } = decodeStatement(jwt);
    if (!sameEntity(claims.iss, id) || claims.iss !== claims.sub) {
      throw new AppError('FEDERATION_STATEMENT_INVALID', '联邦配置的签发者与地址不符 / the Entity Configuration is not about the entity asked for', { entityId: id });
    }
    await verifyStatement(jwt, claims.jwks, now);
    const anchor = anchorOf(id);
    if (anchor) await verifyStatement(jwt, anchor.jwks, now);
    return claims;
  }

  /** Statement paths from `subject` up to an anchor: each is [S(superior→subject), …, S(anchor→…)]. */
  async function pathsAbove(subject: string, hints: readonly string[], depth: number, seen: ReadonlySet<string>, errors: AppError[], now: number, only?: string): Promise<string[][]> {
    if (depth >= maxDepth) {
      errors.push(new AppError('FEDERATION_UNTRUSTED', '信任链过长 / trust chain too long', { entityId: subject }));
      return [];
    }
    const out: string[][] = [];
    for (const hint of hints.slice(0, maxHints)) {
      if (seen.has(hint)) continue;
      try {
        const sup = await superiorConfiguration(hint, now);
        const endpoint = (sup.metadata?.federation_entity as Record<string, unknown> | undefined)?.federation_fetch_endpoint;
        if (typeof endpoint !== 'string') throw new AppError('FEDERATION_UNTRUSTED', '上级未提供 fetch 端点 / the superior has no fetch endpoint', { superior: hint });
        const u = checkUrl(endpoint, fetcher.policy, 'endpoint');
        u.searchParams.set('sub', subject);
        const r = await fetcher.get(u.toString(), ENTITY_STATEMENT_MEDIA_TYPE);
        if (r.status === 404 || (r.status === 400 && r.body.includes('not_found'))) {
          throw new AppError('FEDERATION_UNTRUSTED', '上级不再为该实体出具声明 / the superior issues no statement about this entity', { superior: hint, entityId: subject });
        }
        if (r.status !== 200 || r.contentType !== ENTITY_STATEMENT_MEDIA_TYPE) {
          throw new AppError('FEDERATION_UNREACHABLE', '上级的 fetch 端点答复错误 / the superior\'s fetch endpoint failed', { superior: hint, status: r.status });
        }
        const stmt = r.body.trim();
        const { claims } = decodeStatement(stmt);
        if (!sameEntity(claims.iss, hint) || !sameEntity(claims.sub, subject)) {
          throw new AppError('FEDERATION_STATEMENT_INVALID', '上级的声明与请求不符 / the superior\'s statement is about another entity', { superior: hint, entityId: subject });
        }
        if (anchorOf(hint) && (!only || sameEntity(only, hint))) {
          out.push([stmt]);
        } else if (sup.authority_hints?.length) {
          for (const above of await pathsAbove(hint, sup.authority_hints, depth + 1, new Set([...seen, hint]), errors, now, only)) out.push([stmt, ...above]);
        } else {
          errors.push(new AppError('FEDERATION_UNTRUSTED', '信任链未达到本平台认可的信任锚 / the chain ends at an entity that is not a trust anchor here', { entityId: hint }));
        }
      } catch (e) {
        if (!isAppError(e)) throw e;
        errors.push(e);
      }
    }
    return out;
  }

  async function resolveFresh(entityId: string, only: string | undefined, now: number): Promise<ResolvedEntity> {
    const errors: AppError[] = [];
    const ec = await fetcher.entityConfiguration(entityId);
    const { claims } = decodeStatement(ec);
    if (!sameEntity(claims.sub, entityId) || claims.iss !== claims.sub) {
      throw new AppError('FEDERATION_STATEMENT_INVALID', '联邦配置与所请求的实体不符 / the Entity Configuration is not about the entity asked for', { entityId });
    }
    const candidates: string[][] = [];
    const self = anchorOf(entityId);
    if (self && (!only || sameEntity(only, entityId))) candidates.push([ec]);
    if (claims.authority_hints?.length) {
      for (const p of await pathsAbove(claims.sub, claims.authority_hints, 0, new Set([claims.sub]), errors, now, only)) candidates.push([ec, ...p]);
    }
    candidates.sort((a, b) => a.length - b.length);
    for (const c of candidates) {
      try {
        return await validateTrustChain(c, only ? anchors.filter((a) => sameEntity(a.entityId, only)) : anchors, now);
      } catch (e) {
        if (!isAppError(e)) throw e;
        errors.push(e);
      }
    }
    if (errors.length === 0) {
      throw new AppError('FEDERATION_UNTRUSTED', '该实体没有通往信任锚的上级 / the entity names no superior leading to a trust anchor', { entityId });
    }
    const worst = errors.reduce((a, b) => ((RANK[b.code] ?? 0) > (RANK[a.code] ?? 0) ? b : a));
    throw new AppError(worst.code, worst.message, { ...worst.details, entityId, ...(errors.length > 1 ? { also: errors.filter((e) => e !== worst).map((e) => e.code) } : {}) });
  }

  async function resolve(entityId: string, o: ResolveOptions = {}): Promise<ResolvedEntity> {
    checkUrl(entityId, fetcher.policy, 'entityId');
    if (o.trustAnchor && !anchorOf(o.trustAnchor)) {
      throw new AppError('FEDERATION_UNTRUSTED', '该信任锚未在本平台配置 / that trust anchor is not configured here', { trustAnchor: o.trustAnchor });
    }
    const now = nowSeconds(clock);
    const key = cacheKey(entityId, o.trustAnchor ?? '*');
    if (cache && opts.cacheSeconds > 0 && !o.fresh) {
      const hit = await cache.get(key);
      if (hit) {
        try {
          // Validated again: a cached chain never outlives its own exp, nor a change of anchors.
          return await validateTrustChain(JSON.parse(hit) as string[], anchors, now);
        } catch {
          await cache.del(key);
        }
      }
    }
    const r = await resolveFresh(entityId, o.trustAnchor, now);
    const ttl = Math.min(opts.cacheSeconds, r.exp - now);
    if (cache && ttl > 0) await cache.set(key, JSON.stringify(r.trustChain), { ttlSeconds: ttl });
    return r;
  }

  return {
    anchors,
    resolve,
    async resolveRelyingParty(entityId, o) {
      const r = await resolve(entityId, o);
      const rp = r.metadata.openid_relying_party;
      if (!rp) throw new AppError('FEDERATION_METADATA_MISSING', '该实体不是依赖方 / the entity has no openid_relying_party metadata', { entityId });
      let jwks: Jwks;
      if (rp.jwks !== undefined) {
        jwks = checkJwks(rp.jwks, 'openid_relying_party.jwks');
      } else if (typeof rp.jwks_uri === 'string') {
        const got = await fetcher.get(checkUrl(rp.jwks_uri, fetcher.policy, 'endpoint').toString(), 'application/jwk-set+json, application/json');
        if (got.status !== 200) throw new AppError('FEDERATION_UNREACHABLE', '依赖方的 jwks_uri 无法获取 / the relying party\'s jwks_uri failed', { entityId, status: got.status });
        try {
          jwks = checkJwks(JSON.parse(got.body), 'jwks_uri');
        } catch (e) {
          if (isAppError(e)) throw e;
          throw new AppError('FEDERATION_METADATA_MISSING', '依赖方的 jwks_uri 不是 JWK Set / the relying party\'s jwks_uri is not a JWK Set', { entityId });
        }
      } else {
        throw new AppError('FEDERATION_METADATA_MISSING', '依赖方未提供密钥 / the relying party publishes no jwks or jwks_uri', { entityId });
      }
      return { clientId: r.entityId, metadata: rp, jwks, trustAnchor: r.trustAnchor, trustChain: r.trustChain, exp: r.exp };
    },
    async resolveOpenIdProvider(entityId, o) {
      const r = await resolve(entityId, o);
      const op = r.metadata.openid_provider;
      if (!op || typeof op.issuer !== 'string') throw new AppError('FEDERATION_METADATA_MISSING', '该实体不是身份提供方 / the entity has no openid_provider metadata with an issuer', { entityId });
      return { entityId: r.entityId, issuer: op.issuer, metadata: op, trustAnchor: r.trustAnchor, trustChain: r.trustChain, exp: r.exp };
    },
    async forget(entityId) {
      if (!cache) return;
      await cache.del(cacheKey(entityId, '*'), ...anchors.map((a) => cacheKey(entityId, a.entityId)));
    },
  };
}

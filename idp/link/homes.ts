/**
 * Cross-tier login (R-ID-12, 用户互认): a person registered at their home platform logs in here,
 * at a visiting platform, through the home platform's IdP, found in the OpenID Federation.
 *
 * - Which homes: the directory of the federation (federation/directory.ts: every platform whose
 *   trust chain validates to a configured anchor and which holds accounts), without this platform.
 *   A person picks one, or gives their ID number as a hint (its first six digits are the region
 *   of household registration, `directory.forHint`; the number itself is never stored or sent on).
 * - How the home is talked to: its issuer and endpoints come from its RESOLVED trust chain
 *   (`resolveOpenIdProvider`, cached at most FEDERATION_CHAIN_CACHE_SECONDS and validated again
 *   at every use), never from an unauthenticated discovery document. This IdP is an openid-client
 *   relying party there with client_id = our Entity Identifier and `private_key_jwt` signed with
 *   the RP key our Entity Configuration publishes (idp/oidc/federation.ts): the home registers
 *   us automatically (federation/registration.ts), no secret exists between the platforms.
 * - The level a home may vouch for: the highest urn:yiwang:loa level in its resolved
 *   `acr_values_supported` (a superior's metadata policy can lower it); an ID token above it, or
 *   with an `acr` off the scale, is RECOGNITION_LEVEL_INVALID and nothing is created.
 * - Failures: a platform not in the directory RECOGNITION_HOME_UNKNOWN; a chain that fails now
 *   RECOGNITION_HOME_UNTRUSTED (`details.reason`: the federation code); a home or superior that
 *   cannot be reached RECOGNITION_HOME_UNAVAILABLE.
 */
import * as client from 'openid-client';
import { AppError, isAppError } from '../../kernel/errors.ts';
import { levelOf, type Level } from '../accounts/assurance.ts';
import { sameEntity, type Directory, type FederationKeys, type PlatformEntry } from '../../federation/index.ts';
import type { Resolver } from '../../federation/index.ts';
import { ID_NUMBER_CLAIM, REALNAME_SCOPE, TRUST_FRAMEWORK } from '../partners/realname.ts';
import { UPSTREAM_ATTRIBUTES, type Upstream } from './upstreams.ts';

export interface HomeSummary { entityId: string; platformId: string; name: string; tier: string; region: string | null }

export interface Home {
  entry: PlatformEntry;
  /** As idp/link sees a platform: its id is the home's platform id; `level` the highest it may vouch for. */
  upstream: Upstream;
  config: client.Configuration;
}

export interface Homes {
  /** This platform's Entity Identifier: our client_id at every home. */
  readonly self: string;
  /** Whether this platform keeps no people's accounts (a municipal platform in hybrid mode): people log in at its superior, staff here. */
  readonly hybrid: boolean;
  /** Homes a person may choose (trusted, holding accounts, not this platform). */
  list(): Promise<HomeSummary[]>;
  /** The home picked by platform (id, Entity Identifier or issuer) or found from a hint (ID number, region code). */
  choose(o: { platform?: string; hint?: string }): Promise<PlatformEntry>;
  /** The superior whose accounts a hybrid city uses (its first authority hint). */
  superior(): Promise<PlatformEntry>;
  /** The home, resolved now, with an openid-client configuration from its chain. */
  connect(entityIdOrIssuer: string): Promise<Home>;
  /**
   * Whether the home answers now (its `jwks_uri`, which the callback needs anyway), before the
   * browser is sent there: a cached chain says nothing about a home that is down.
   * RECOGNITION_HOME_UNAVAILABLE when it does not.
   */
  probe(home: Home): Promise<void>;
}

export interface HomesDeps {
  self: string;
  directory: Directory;
  resolver: Resolver;
  rpKeys: FederationKeys;
  authorityHints: readonly string[];
  hybrid: boolean;
  production: boolean;
}

const TIMEOUT_SECONDS = 10;
const PROBE_TIMEOUT_MS = 3000;
const unknown = (platform: string) => new AppError('RECOGNITION_HOME_UNKNOWN', '联邦中没有该平台，或该平台不受信任 / no trusted platform of the federation has that identifier', { platform: platform.slice(0, 200) });

/** A failure of the federation mapped to what the person is told. */
export function homeError(e: unknown, home: string): AppError {
  if (!isAppError(e)) {
    return new AppError('RECOGNITION_HOME_UNAVAILABLE', '暂时无法连接您的注册平台，请稍后再试；本平台账户不受影响 / your home platform cannot be reached right now; try again later (accounts of this platform are not affected)', { home: home.slice(0, 200) });
  }
  if (e.code.startsWith('RECOGNITION_')) return e;
  if (e.code === 'FEDERATION_UNREACHABLE') {
    return new AppError('RECOGNITION_HOME_UNAVAILABLE', '暂时无法连接您的注册平台，请稍后再试；本平台账户不受影响 / your home platform cannot be reached right now; try again later (accounts of this platform are not affected)', { home: home.slice(0, 200) });
  }
  return new AppError('RECOGNITION_HOME_UNTRUSTED', '您的注册平台目前未通过联邦信任校验，暂不能用其账户登录 / your home platform\'s trust chain does not validate now; its accounts cannot be used here for the moment', { home: home.slice(0, 200), reason: e.code });
}

/** The highest level on our scale among the home's resolved `acr_values_supported` (3 when it states none). */
export function allowedLevel(metadata: Record<string, unknown>): Level {
  const values = Array.isArray(metadata.acr_values_supported) ? metadata.acr_values_supported : [];
  const levels = values.map((v) => levelOf(v)).filter((l): l is Level => l !== undefined);
  return (levels.length ? Math.max(...levels) : 3) as Level;
}

export function createHomes(d: HomesDeps): Homes {
  const isSelf = (e: PlatformEntry) => sameEntity(e.entityId, d.self);
  const configs = new Map<string, { fingerprint: string; home: Home }>();

  async function entryOf(idOrIssuer: string): Promise<PlatformEntry> {
    let e: PlatformEntry;
    try {
      e = await d.directory.get(idOrIssuer);
    } catch (err) {
      if (!(isAppError(err) && err.code === 'RECOGNITION_HOME_UNKNOWN')) throw homeError(err, idOrIssuer);
      // Not listed: for an Entity Identifier, say why its chain fails (expired, removed …) when it does.
      if (/^https?:\/\//i.test(idOrIssuer)) {
        try {
          await d.resolver.resolveOpenIdProvider(idOrIssuer);
        } catch (why) {
          // One that does not answer, or is no allowed URL, is simply not known here.
          if (isAppError(why) && why.code !== 'FEDERATION_ENTITY_ID_REFUSED' && why.code !== 'FEDERATION_UNREACHABLE') throw homeError(why, idOrIssuer);
        }
      }
      throw unknown(idOrIssuer);
    }
    if (!e.home || isSelf(e)) throw unknown(idOrIssuer);
    return e;
  }

  return {
    self: d.self,
    hybrid: d.hybrid,
    async list() {
      let all: PlatformEntry[];
      try {
        all = await d.directory.list();
      } catch {
        return [];
      }
      return all.filter((e) => e.home && !isSelf(e) && e.platformId && e.tier)
        .map((e) => ({ entityId: e.entityId, platformId: e.platformId!, name: e.name, tier: e.tier!, region: e.region }))
        .sort((a, b) => (a.region ?? '').localeCompare(b.region ?? ''));
    },
    async choose(o) {
      if (o.platform) return entryOf(o.platform);
      const hint = (o.hint ?? '').trim();
      if (!hint) throw new AppError('BAD_INPUT', '请选择注册平台，或填写身份证号码以查找 / choose your home platform, or give your ID number to find it', { fields: ['platform', 'hint'] });
      let e: PlatformEntry | undefined;
      try {
        e = await d.directory.forHint(hint);
      } catch (err) {
        throw homeError(err, 'hint');
      }
      if (!e || isSelf(e)) throw new AppError('RECOGNITION_HOME_UNKNOWN', '未找到您所在地区的注册平台，请直接选择平台 / no home platform of the federation serves that region; choose the platform instead', { platform: 'hint' });
      return e;
    },
    async superior() {
      const hint = d.authorityHints[0];
      if (!hint) throw unknown('superior');
      return entryOf(hint);
    },
    async connect(idOrIssuer) {
      const entry = await entryOf(idOrIssuer);
      let op;
      try {
        // Resolved (or a cached chain validated again) now: trust that ended since the directory was read counts.
        op = await d.resolver.resolveOpenIdProvider(entry.entityId);
      } catch (e) {
        throw homeError(e, entry.entityId);
      }
      const m = op.metadata as Record<string, unknown>;
      const needed = ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint'];
      if (!entry.platformId || !entry.tier || needed.some((k) => typeof m[k] !== 'string')) {
        throw new AppError('RECOGNITION_HOME_UNTRUSTED', '该平台的联邦元数据不完整 / the home platform\'s federation metadata is incomplete', { home: entry.entityId, reason: 'FEDERATION_METADATA_MISSING' });
      }
      const key = await d.rpKeys.signingKey();
      // The same resolved metadata and RP key as last time: the same configuration (openid-client
      // keeps the home's JWKS in it). The chain itself was validated again just above.
      const fingerprint = `${key.kid}\n${op.trustAnchor}\n${JSON.stringify(m)}`;
      const known = configs.get(entry.entityId);
      if (known && known.fingerprint === fingerprint) return { ...known.home, entry };
      const config = new client.Configuration(
        { ...m, issuer: op.issuer } as client.ServerMetadata, d.self,
        { token_endpoint_auth_method: 'private_key_jwt', id_token_signed_response_alg: 'RS256' },
        client.PrivateKeyJwt({ key: key.key as client.CryptoKey, kid: key.kid }),
      );
      config.timeout = TIMEOUT_SECONDS;
      // Plain http only outside production (tests and `npm run tiers` run every platform on loopback).
      if (!d.production && new URL(op.issuer).protocol === 'http:') client.allowInsecureRequests(config);
      const level = allowedLevel(m);
      const upstream: Upstream = {
        id: entry.platformId, name: { zh: entry.name, en: entry.name }, issuer: op.issuer, scope: `openid ${REALNAME_SCOPE}`,
        level, attributes: [...UPSTREAM_ATTRIBUTES], tier: entry.tier, region: entry.region ?? '000000',
        trustFramework: TRUST_FRAMEWORK, idNumberClaim: ID_NUMBER_CLAIM,
        federation: { entityId: entry.entityId, trustAnchor: op.trustAnchor },
      };
      const home = { entry, upstream, config };
      configs.set(entry.entityId, { fingerprint, home });
      return home;
    },
    async probe(home) {
      try {
        const r = await fetch(home.config.serverMetadata().jwks_uri!, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
        await r.body?.cancel();
        if (r.status >= 500) throw new Error(`answered ${r.status}`);
      } catch {
        throw homeError(new Error('unreachable'), home.entry.entityId);
      }
    },
  };
}

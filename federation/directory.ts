/**
 * Home-platform discovery for the mutual-recognition service (用户互认服务, R-ID-12): which
 * platforms of the federation hold accounts, and which of them is the home of a region.
 *
 * The directory walks the federation down from each configured trust anchor: an authority's
 * `federation_list_endpoint` names its subordinates, each subordinate's chain is resolved and
 * validated (resolver.ts: signatures, expiry, constraints, metadata policy), and an entity that
 * is an OpenID Provider becomes an entry. An entity whose chain fails is left out (and counted),
 * never listed on its own word. What a platform is comes from its resolved `federation_entity`
 * metadata, `yiwang_platform: { id, tier, mode, region }` (GB/T 2260 region code); a superior
 * can set or override it in the statement it issues, so a city cannot claim another's region.
 * Its licence service (`yiwang_licence`: service, status-list base) is read the same way: the
 * licence service fetches another platform's status lists only from a base listed here.
 *
 * Homes by build mode: a platform in `separate` mode stores its own users (a home); a city in
 * `hybrid` mode keeps no accounts (its province does), so it is never a home; in `unified` mode
 * only the province exists. The home of a region code is the entry with the longest region
 * prefix covering it (330106 → Hangzhou 330100 before Zhejiang 330000 before the national
 * platform 000000).
 *
 * The walk is cached in memory for `cacheSeconds` (never beyond the earliest chain expiry seen),
 * and limited in depth and in entities, so a hostile `list` cannot make it run without end.
 */
import type { Clock } from '../kernel/clock.ts';
import { AppError, isAppError } from '../kernel/errors.ts';
import { checkUrl, type Fetcher, type UrlPolicy } from './fetcher.ts';
import type { Resolver } from './resolver.ts';
import type { Json } from './types.ts';
import { sameEntity } from './validate.ts';

export type PlatformTier = 'national' | 'provincial' | 'municipal';
export type PlatformMode = 'separate' | 'hybrid' | 'unified';

export interface PlatformEntry {
  entityId: string;
  /** Its OpenID Provider issuer. */
  issuer: string;
  /** `federation_entity.organization_name`. */
  name: string;
  platformId: string | null;
  tier: PlatformTier | null;
  mode: PlatformMode | null;
  /** GB/T 2260 code of the region it serves; null when it states none. */
  region: string | null;
  /** Whether people's accounts live here (not a hybrid city). */
  home: boolean;
  trustAnchor: string;
  /** Expiry of its chain (seconds since epoch). */
  exp: number;
  /**
   * Its licence service (`federation_entity.yiwang_licence`, R-LI-3): the base of the status
   * lists its licences name; null when it publishes none (or URLs the fetch policy refuses).
   */
  licence: { service: string; statusLists: string } | null;
}

export interface Directory {
  /** Every trusted OpenID Provider of the federation. */
  list(opts?: { fresh?: boolean }): Promise<PlatformEntry[]>;
  /** The home platform of a region code (the most specific one covering it). */
  forRegion(code: string): Promise<PlatformEntry | undefined>;
  /**
   * From an account hint: a resident ID number (its first six digits are the region of household
   * registration: a suggestion, the person may choose another), a region code, or a platform's
   * Entity Identifier or issuer.
   */
  forHint(hint: string): Promise<PlatformEntry | undefined>;
  /** The entry with this Entity Identifier, issuer or platform id; RECOGNITION_HOME_UNKNOWN otherwise. */
  get(idOrIssuer: string): Promise<PlatformEntry>;
}

export interface DirectoryOptions {
  resolver: Resolver;
  fetcher: Fetcher;
  clock: Clock;
  cacheSeconds: number;
  /** Authorities followed below an anchor (default 3: national → province → city). */
  maxDepth?: number;
  /** Entities looked at, at most (default 500). */
  maxEntities?: number;
}

const REGION = /^\d{6}$/;
const TIERS: readonly PlatformTier[] = ['national', 'provincial', 'municipal'];
const MODES: readonly PlatformMode[] = ['separate', 'hybrid', 'unified'];
const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The significant prefix of a region code: 330100 → 3301, 330000 → 33, 000000 → ''. */
export function regionPrefix(code: string): string {
  let p = code;
  while (p.endsWith('00')) p = p.slice(0, -2);
  return p;
}

/** Whether a platform serving `platformRegion` covers the region `code`. */
export function regionCovers(platformRegion: string, code: string): boolean {
  return REGION.test(platformRegion) && REGION.test(code) && code.startsWith(regionPrefix(platformRegion));
}

function licenceOf(fe: Record<string, Json>, policy: UrlPolicy): PlatformEntry['licence'] {
  const l = isObject(fe.yiwang_licence) ? fe.yiwang_licence : {};
  try {
    const service = checkUrl(l.service, policy, 'endpoint').toString().replace(/\/+$/, '');
    const statusLists = checkUrl(l.status_lists, policy, 'endpoint').toString();
    return { service, statusLists: statusLists.endsWith('/') ? statusLists : `${statusLists}/` };
  } catch {
    return null;
  }
}

function entryOf(entityId: string, trustAnchor: string, exp: number, metadata: Record<string, Record<string, Json>>, policy: UrlPolicy): PlatformEntry | undefined {
  const op = metadata.openid_provider;
  if (!op || typeof op.issuer !== 'string') return undefined;
  const fe = metadata.federation_entity ?? {};
  const p = isObject(fe.yiwang_platform) ? fe.yiwang_platform : {};
  const tier = TIERS.includes(p.tier as PlatformTier) ? p.tier as PlatformTier : null;
  const mode = MODES.includes(p.mode as PlatformMode) ? p.mode as PlatformMode : null;
  const region = typeof p.region === 'string' && REGION.test(p.region) ? p.region : null;
  return {
    entityId, issuer: op.issuer, trustAnchor, exp,
    name: typeof fe.organization_name === 'string' ? fe.organization_name.slice(0, 200) : entityId,
    platformId: typeof p.id === 'string' && /^[a-z0-9][a-z0-9.-]{0,62}$/.test(p.id) ? p.id : null,
    tier, mode, region,
    home: !(tier === 'municipal' && mode === 'hybrid'),
    licence: licenceOf(fe, policy),
  };
}

export function createDirectory(o: DirectoryOptions): Directory {
  const maxDepth = o.maxDepth ?? 3;
  const maxEntities = o.maxEntities ?? 500;
  let cached: { at: number; until: number; entries: PlatformEntry[] } | undefined;
  let walking: Promise<PlatformEntry[]> | undefined;
  const now = () => Math.floor(o.clock.now().getTime() / 1000);

  async function subordinatesOf(listEndpoint: string): Promise<string[]> {
    const r = await o.fetcher.get(checkUrl(listEndpoint, o.fetcher.policy, 'endpoint').toString(), 'application/json');
    if (r.status !== 200) throw new AppError('FEDERATION_UNREACHABLE', '上级的 list 端点答复错误 / a list endpoint failed', { url: listEndpoint.slice(0, 300), status: r.status });
    let ids: unknown;
    try {
      ids = JSON.parse(r.body);
    } catch {
      ids = null;
    }
    if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string')) {
      throw new AppError('FEDERATION_STATEMENT_INVALID', 'list 端点的答复不是实体标识数组 / a list endpoint did not answer an array of entity identifiers', { url: listEndpoint.slice(0, 300) });
    }
    return ids as string[];
  }

  async function walk(): Promise<PlatformEntry[]> {
    const entries: PlatformEntry[] = [];
    const seen = new Set<string>();
    let looked = 0;
    let until = now() + o.cacheSeconds;
    const visit = async (entityId: string, anchor: string, depth: number) => {
      if (seen.has(entityId) || looked >= maxEntities) return;
      seen.add(entityId);
      looked++;
      let resolved;
      try {
        resolved = await o.resolver.resolve(entityId, { trustAnchor: anchor });
      } catch (e) {
        if (!isAppError(e)) throw e;
        return; // not trusted (or not reachable now): not listed
      }
      until = Math.min(until, resolved.exp);
      const entry = entryOf(resolved.entityId, resolved.trustAnchor, resolved.exp, resolved.metadata, o.fetcher.policy);
      if (entry) entries.push(entry);
      const list = resolved.metadata.federation_entity?.federation_list_endpoint;
      if (typeof list === 'string' && depth < maxDepth) {
        let subs: string[] = [];
        try {
          subs = await subordinatesOf(list);
        } catch (e) {
          if (!isAppError(e)) throw e;
        }
        for (const s of subs) await visit(s, anchor, depth + 1);
      }
    };
    for (const a of o.resolver.anchors) await visit(a.entityId, a.entityId, 0);
    cached = { at: now(), until, entries };
    return entries;
  }

  async function list(opts: { fresh?: boolean } = {}): Promise<PlatformEntry[]> {
    if (!opts.fresh && cached && now() < cached.until) return cached.entries;
    walking ??= walk().finally(() => { walking = undefined; });
    return walking;
  }

  async function forRegion(code: string): Promise<PlatformEntry | undefined> {
    if (!REGION.test(code)) return undefined;
    const homes = (await list()).filter((e) => e.home && e.region && regionCovers(e.region, code));
    return homes.sort((a, b) => regionPrefix(b.region!).length - regionPrefix(a.region!).length)[0];
  }

  return {
    list,
    forRegion,
    async forHint(hint) {
      const h = hint.trim();
      if (/^\d{17}[\dXx]$/.test(h) || REGION.test(h)) return forRegion(h.slice(0, 6));
      if (/^https?:\/\//.test(h)) return (await list()).find((e) => e.home && (sameEntity(e.entityId, h) || sameEntity(e.issuer, h)));
      return undefined;
    },
    async get(idOrIssuer) {
      const e = (await list()).find((x) => sameEntity(x.entityId, idOrIssuer) || sameEntity(x.issuer, idOrIssuer) || x.platformId === idOrIssuer);
      if (!e) throw new AppError('RECOGNITION_HOME_UNKNOWN', '联邦中没有该平台，或该平台不受信任 / no trusted platform of the federation has that identifier', { platform: idOrIssuer.slice(0, 200) });
      return e;
    },
  };
}

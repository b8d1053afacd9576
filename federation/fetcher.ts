/**
 * Federation HTTP client: Entity Configurations, fetch and resolve endpoints of other
 * platforms. Only URLs the operator allows are ever requested (https; http only on configured
 * development hosts; the host on FEDERATION_ALLOWED_HOSTS when set; no credentials, no
 * fragment), redirects are not followed (a redirect could leave the allow-list), every request
 * has a time limit and a size limit. Connections go through kernel/outbound.ts: every address a
 * host name resolves to is checked when the socket opens, so a name that resolves to a loopback,
 * private or link-local address (DNS rebinding included) is refused unless its network is
 * allowed (FEDERATION_ALLOWED_NETWORKS, or the host is named by IP address). Failures: FEDERATION_ENTITY_ID_REFUSED before sending,
 * FEDERATION_UNREACHABLE for anything the other side did wrong or did not do in time.
 */
import { isIP } from 'node:net';
import { AppError } from '../kernel/errors.ts';
import { networkPolicy, outboundFetch } from '../kernel/outbound.ts';
import { hostMatches } from './constraints.ts';
import { WELL_KNOWN_PATH } from './types.ts';

export interface UrlPolicy {
  /** Host names or `.domain` suffixes; empty = any host. */
  allowedHosts: readonly string[];
  /** Hosts that may use plain http (development). */
  httpHosts: readonly string[];
  /** CIDR networks among the special-use ranges that may be reached (FEDERATION_ALLOWED_NETWORKS). */
  allowedNetworks?: readonly string[];
}

export interface FetcherOptions extends UrlPolicy {
  timeoutMs: number;
  maxBytes: number;
  /** Replaces the network-policy client (benchmarks counting requests). */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

export interface Fetched { status: number; contentType: string; body: string }

export interface Fetcher {
  readonly policy: UrlPolicy;
  /** GET a URL that passed `checkUrl`; non-2xx answers are returned, not thrown. */
  get(url: string, accept: string): Promise<Fetched>;
  /** The compact JWT of an entity's Entity Configuration. */
  entityConfiguration(entityId: string): Promise<string>;
}

const refused = (message: string, url: string) =>
  new AppError('FEDERATION_ENTITY_ID_REFUSED', `不允许的联邦地址 / federation URL refused: ${message}`, { url: url.slice(0, 300) });

/**
 * Loopback, private, link-local and other non-public address literals (and `localhost`): never
 * reached unless the operator names the host (FEDERATION_HTTP_HOSTS, or exactly on
 * FEDERATION_ALLOWED_HOSTS). Host names are not resolved here: set FEDERATION_ALLOWED_HOSTS in
 * production so only the federation's own domains are called.
 */
export function isInternalHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const v = isIP(h);
  if (v === 4) {
    const [a, b] = h.split('.').map(Number) as [number, number];
    return a === 0 || a === 10 || a === 127 || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254)
      || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || a >= 224;
  }
  if (v === 6) {
    if (h === '::' || h === '::1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    if (mapped) return isInternalHost(mapped[1]!);
    return /^(f[cd]|fe[89ab])/.test(h) || h.startsWith('::ffff:');
  }
  return false;
}

/** Check a URL against the policy; `entityId` also forbids a query (1.2: an Entity Identifier). */
export function checkUrl(raw: unknown, policy: UrlPolicy, kind: 'entityId' | 'endpoint' = 'entityId'): URL {
  if (typeof raw !== 'string' || raw.length > 2048) throw refused('not a URL', String(raw));
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw refused('not a URL', raw);
  }
  if (u.username || u.password) throw refused('credentials in the URL', raw);
  if (u.hash || raw.includes('#')) throw refused('fragment in the URL', raw);
  if (kind === 'entityId' && u.search) throw refused('query in an entity identifier', raw);
  const host = u.hostname.toLowerCase();
  if (u.protocol === 'http:') {
    if (!policy.httpHosts.some((h) => h.toLowerCase() === host)) throw refused('plain http on a host not configured for development', raw);
  } else if (u.protocol !== 'https:') {
    throw refused('only https', raw);
  }
  if (policy.allowedHosts.length > 0 && !policy.allowedHosts.some((h) => hostMatches(host, h))) throw refused('host not on the allow-list', raw);
  const named = policy.httpHosts.some((h) => h.toLowerCase() === host) || policy.allowedHosts.some((h) => h.toLowerCase() === host);
  if (!named && isInternalHost(host)) throw refused('an internal address not configured for the federation', raw);
  return u;
}

export function wellKnownUrl(entityId: string): string {
  return `${entityId.replace(/\/+$/, '')}${WELL_KNOWN_PATH}`;
}

/** Hosts given by IP address in the policy, as single-address networks. */
function namedAddresses(policy: UrlPolicy): string[] {
  return [...policy.httpHosts, ...policy.allowedHosts]
    .map((h) => h.replace(/^\[|\]$/g, ''))
    .filter((h) => isIP(h) !== 0)
    .map((h) => `${h}/${isIP(h) === 6 ? 128 : 32}`);
}

export function createFetcher(opts: FetcherOptions): Fetcher {
  const policy: UrlPolicy = { allowedHosts: opts.allowedHosts, httpHosts: opts.httpHosts, allowedNetworks: opts.allowedNetworks ?? [] };
  const doFetch = opts.fetch ?? outboundFetch({
    policy: networkPolicy([...(opts.allowedNetworks ?? []), ...namedAddresses(policy)]),
    // One byte over the limit is enough to know it is too large; the reader below says so.
    maxBytes: opts.maxBytes + 1,
    timeoutMs: opts.timeoutMs,
  });
  const unreachable = (url: string, reason: string, extra: Record<string, unknown> = {}) =>
    new AppError('FEDERATION_UNREACHABLE', `联邦平台无法访问 / a federation platform could not be reached: ${reason}`, { url: url.slice(0, 300), reason, ...extra });

  async function get(url: string, accept: string): Promise<Fetched> {
    checkUrl(url, policy, 'endpoint');
    const signal = AbortSignal.timeout(opts.timeoutMs);
    let res: Response;
    try {
      res = await doFetch(url, { headers: { accept }, redirect: 'manual', signal });
    } catch (e) {
      const m = String((e as Error).message);
      if (m.startsWith('outbound refused')) {
        throw new AppError('FEDERATION_ENTITY_ID_REFUSED', '不允许的联邦地址 / federation URL refused: it resolves to an address outside the allowed networks', { url: url.slice(0, 300) });
      }
      if (m.includes('larger than')) throw unreachable(url, 'response too large');
      throw unreachable(url, (e as Error).name === 'TimeoutError' || signal.aborted || m.includes('timed out') ? 'timeout' : 'connection failed');
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      throw unreachable(url, 'redirect (not followed)', { status: res.status });
    }
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > opts.maxBytes) {
      await res.body?.cancel();
      throw unreachable(url, 'response too large', { status: res.status });
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      const reader = res.body?.getReader();
      while (reader) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > opts.maxBytes) {
          await reader.cancel();
          throw unreachable(url, 'response too large', { status: res.status });
        }
        chunks.push(value);
      }
    } catch (e) {
      if (e instanceof AppError) throw e;
      throw unreachable(url, (e as Error).name === 'TimeoutError' ? 'timeout' : 'connection failed');
    }
    return { status: res.status, contentType: (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase(), body: Buffer.concat(chunks).toString('utf8') };
  }

  return {
    policy,
    get,
    async entityConfiguration(entityId) {
      checkUrl(entityId, policy, 'entityId');
      const url = wellKnownUrl(entityId);
      const r = await get(url, 'application/entity-statement+jwt');
      if (r.status === 404) {
        throw new AppError('FEDERATION_UNTRUSTED', '该实体未发布联邦配置 / the entity publishes no Entity Configuration', { entityId });
      }
      if (r.status !== 200) throw unreachable(url, 'error answer', { status: r.status });
      if (r.contentType !== 'application/entity-statement+jwt') throw unreachable(url, 'wrong content type', { contentType: r.contentType });
      return r.body.trim();
    },
  };
}

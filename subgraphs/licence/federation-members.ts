/**
 * The platforms whose licences this service recognises across tiers (R-LI-3): the members of
 * the OpenID Federation under the configured trust anchors (FEDERATION_TRUST_ANCHORS), each
 * with the licence service it publishes in its Entity Configuration
 * (`federation_entity.yiwang_licence`, federation/config.ts). Members are found by walking the
 * federation down from the anchor and validating every trust chain (federation/directory.ts);
 * nothing a platform says about itself counts without a valid chain.
 *
 * Used for one decision only: another platform's status list is fetched from a URL named in a
 * licence (after its seal verified) only when that URL lies under the status-list base of a
 * trusted member. The walk is cached (FEDERATION_CHAIN_CACHE_SECONDS, never beyond a chain's
 * expiry); a failed walk leaves no member, so nothing new is fetched then (lists fetched
 * earlier stay usable from the status cache until they expire: ./status.ts).
 */
import type { Cache } from '../../kernel/cache.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Config } from '../../kernel/config.ts';
import { createDirectory, createFetcher, createResolver, parseTrustAnchors, urlPolicyFromConfig, type PlatformEntry } from '../../federation/index.ts';

export interface FederationMembers {
  /**
   * The trusted member whose published status-list base holds `url`; `outside` when none does;
   * `unreachable` when not even the trust anchor could be resolved (no answer either way).
   */
  memberFor(url: string): Promise<PlatformEntry | 'outside' | 'unreachable'>;
}

/** From the platform's federation configuration; null when it names no trust anchor (a platform on its own). */
export function federationMembers(o: { config: Config; clock: Clock; cache?: Cache | undefined; fetch?: typeof fetch }): FederationMembers | null {
  const c = o.config;
  const policy = urlPolicyFromConfig(c);
  const anchors = parseTrustAnchors(c.FEDERATION_TRUST_ANCHORS, policy);
  if (anchors.length === 0) return null;
  const fetcher = createFetcher({ ...policy, timeoutMs: c.FEDERATION_FETCH_TIMEOUT_MS, maxBytes: c.FEDERATION_FETCH_MAX_BYTES, ...(o.fetch ? { fetch: o.fetch } : {}) });
  const resolver = createResolver({ anchors, fetcher, clock: o.clock, cache: o.cache, cacheSeconds: c.FEDERATION_CHAIN_CACHE_SECONDS });
  const directory = createDirectory({ resolver, fetcher, clock: o.clock, cacheSeconds: c.FEDERATION_CHAIN_CACHE_SECONDS });
  return {
    async memberFor(url) {
      let u: URL;
      try {
        u = new URL(url);
      } catch {
        return 'outside';
      }
      // Compared as parsed URLs: no dot segments or encoded tricks slip a path out from under a base.
      const wanted = u.toString();
      if (u.search || u.hash || u.username || u.password || wanted !== url) return 'outside';
      const members = await directory.list();
      // The anchor is a member whenever it answers: none at all means the federation was not reached.
      if (members.length === 0) return 'unreachable';
      return members.find((e) => e.licence && wanted.startsWith(e.licence.statusLists)) ?? 'outside';
    },
  };
}

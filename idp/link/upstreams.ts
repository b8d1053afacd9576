/**
 * Trusted real-name platforms (R-ID-3, G 5.1.2(1)② 关联注册): other tiers' or provinces' OpenID
 * Connect providers whose verified identity people may take to register here, and then log in
 * with. Configured in the JSON file IDP_UPSTREAMS, validated once at start-up (CONFIG_INVALID
 * naming the variable and the entry):
 *
 *   [{ "id": "gjzwfw",                                  lower-case, unique; in URLs
 *      "name": { "zh": "国家政务服务平台", "en": "National government service platform" },
 *      "issuer": "https://…",                          its OpenID Provider issuer (https in production)
 *      "clientId": "…", "clientSecret": "…",           this IdP's client there (code + PKCE)
 *      "tokenEndpointAuthMethod": "client_secret_basic" (default) | "client_secret_post",
 *      "scope": "openid yw_realname",                  (default)
 *      "level": 3,                                     the highest assurance level it is trusted for (3-5)
 *      "attributes": ["name", "idNumber", "mobile"],   what it is trusted to vouch for (name and idNumber required)
 *      "tier": "national", "region": "100000",         where it sits (R-ID-12), GB/T 2260 region code
 *      "trustFramework": "cn_realname",                (default) its verified_claims trust framework
 *      "idNumberClaim": "yw_id_number" }]              (default) the claim carrying the ID number
 *
 * A platform not listed here is UPSTREAM_UNKNOWN; one that cannot be reached, or whose discovery
 * document names another issuer (openid-client checks), is UPSTREAM_UNAVAILABLE.
 */
import { readFileSync } from 'node:fs';
import * as client from 'openid-client';
import { z } from 'zod';
import type { Config } from '../../kernel/config.ts';
import { AppError } from '../../kernel/errors.ts';
import type { Level } from '../accounts/assurance.ts';
import { ID_NUMBER_CLAIM, REALNAME_SCOPE, TRUST_FRAMEWORK } from '../partners/realname.ts';

export const UPSTREAM_ATTRIBUTES = ['name', 'idNumber', 'mobile'] as const;
export type UpstreamAttribute = (typeof UPSTREAM_ATTRIBUTES)[number];

const Upstream = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lower-case letters, digits and dashes'),
  name: z.object({ zh: z.string().trim().min(1).max(60), en: z.string().trim().min(1).max(100) }).strict(),
  issuer: z.url({ protocol: /^https?$/ }),
  clientId: z.string().min(1).max(200),
  clientSecret: z.string().min(16).max(500),
  tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic'),
  scope: z.string().regex(/^openid( [\x21\x23-\x5B\x5D-\x7E]+)*$/, 'must start with openid').default(`openid ${REALNAME_SCOPE}`),
  level: z.number().int().min(3).max(5),
  attributes: z.array(z.enum(UPSTREAM_ATTRIBUTES)).refine((a) => a.includes('name') && a.includes('idNumber'), 'must include name and idNumber'),
  tier: z.enum(['national', 'provincial', 'municipal']),
  region: z.string().regex(/^\d{6}$/, 'a 6-digit GB/T 2260 region code'),
  trustFramework: z.string().min(1).max(100).default(TRUST_FRAMEWORK),
  idNumberClaim: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/).default(ID_NUMBER_CLAIM),
}).strict();
/** A platform configured in IDP_UPSTREAMS (with its client secret there). */
export type ConfiguredUpstream = z.output<typeof Upstream>;
/**
 * A platform as the link flows see it: a configured one, or a home platform found in the
 * federation (idp/link/homes.ts: `federation` set, no secret, private_key_jwt with our RP key).
 */
export type Upstream = Omit<ConfiguredUpstream, 'clientId' | 'clientSecret' | 'tokenEndpointAuthMethod'> & {
  federation?: { entityId: string; trustAnchor: string };
};

const UpstreamList = z.array(Upstream).max(50).refine((l) => new Set(l.map((u) => u.id)).size === l.length, 'ids must be unique');

export interface UpstreamSummary { id: string; name: { zh: string; en: string }; tier: Upstream['tier']; region: string; level: Level }

export interface Upstreams {
  list(): UpstreamSummary[];
  /** UPSTREAM_UNKNOWN for an id not configured. */
  get(id: string): ConfiguredUpstream;
  /** What pages show of it (UPSTREAM_UNKNOWN likewise). */
  summary(id: string): UpstreamSummary;
  /** openid-client's configuration from the platform's discovery document (cached; UPSTREAM_UNAVAILABLE). */
  client(u: ConfiguredUpstream): Promise<client.Configuration>;
}

/** Read and check IDP_UPSTREAMS (the list itself, or the file); [] when unset. */
export function loadUpstreams(config: Pick<Config, 'IDP_UPSTREAMS' | 'NODE_ENV' | 'IDP_ISSUER'>): ConfiguredUpstream[] {
  if (!config.IDP_UPSTREAMS) return [];
  const inline = config.IDP_UPSTREAMS.trim().startsWith('[');
  const bad = (why: string) => new AppError('CONFIG_INVALID', `invalid configuration:\n  IDP_UPSTREAMS: ${why}`);
  let raw: unknown;
  try {
    raw = JSON.parse(inline ? config.IDP_UPSTREAMS : readFileSync(config.IDP_UPSTREAMS, 'utf8'));
  } catch (e) {
    throw bad(`cannot read a JSON list from ${inline ? 'the value' : config.IDP_UPSTREAMS}: ${(e as Error).message}`);
  }
  const parsed = UpstreamList.safeParse(raw);
  if (!parsed.success) throw bad(parsed.error.issues.map((i) => `${i.path.join('.') || '(list)'}: ${i.message}`).join('; '));
  for (const u of parsed.data) {
    if (config.NODE_ENV === 'production' && new URL(u.issuer).protocol !== 'https:') throw bad(`${u.id}: production needs an https issuer`);
    if (new URL(u.issuer).href === new URL(config.IDP_ISSUER).href) throw bad(`${u.id}: a platform cannot be its own upstream`);
  }
  return parsed.data;
}

const DISCOVERY_TIMEOUT_SECONDS = 10;

export function createUpstreams(list: readonly ConfiguredUpstream[], o: { production: boolean }): Upstreams {
  const byId = new Map(list.map((u) => [u.id, u]));
  const discovered = new Map<string, Promise<client.Configuration>>();
  const toSummary = (u: ConfiguredUpstream): UpstreamSummary => ({ id: u.id, name: u.name, tier: u.tier, region: u.region, level: u.level as Level });
  const get = (id: string): ConfiguredUpstream => {
    const u = byId.get(id);
    if (!u) throw new AppError('UPSTREAM_UNKNOWN', '未配置该实名认证平台，不能关联 / no trusted real-name platform with that id is configured here', { upstream: id.slice(0, 40) });
    return u;
  };
  return {
    list: () => list.map(toSummary),
    get,
    summary: (id) => toSummary(get(id)),
    async client(u) {
      let p = discovered.get(u.id);
      if (!p) {
        const auth = u.tokenEndpointAuthMethod === 'client_secret_post' ? client.ClientSecretPost(u.clientSecret) : client.ClientSecretBasic(u.clientSecret);
        // Plain http only outside production (tests and development run both IdPs on loopback).
        const insecure = !o.production && new URL(u.issuer).protocol === 'http:';
        p = client.discovery(new URL(u.issuer), u.clientId, undefined, auth, { timeout: DISCOVERY_TIMEOUT_SECONDS, ...(insecure ? { execute: [client.allowInsecureRequests] } : {}) });
        discovered.set(u.id, p);
        // A failed discovery is not remembered: the next request tries again.
        p.catch(() => discovered.delete(u.id));
      }
      try {
        return await p;
      } catch (e) {
        throw new AppError('UPSTREAM_UNAVAILABLE', '暂时无法连接该实名认证平台，请稍后再试 / the real-name platform cannot be reached right now; try again later', {
          upstream: u.id, reason: e instanceof Error ? e.message.slice(0, 200) : 'discovery failed',
        });
      }
    },
  };
}

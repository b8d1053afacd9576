/**
 * The IdP in the federation (R-ID-12), when FEDERATION_ENTITY_ID is set:
 *
 * - **Automatic client registration** (OpenID Federation 1.0, 12.1): a `client_id` that is an
 *   Entity Identifier (an http(s) URL) and is not a registered partner is resolved through the
 *   trust chain to a configured anchor (`resolveRelyingParty`, cached until the chain expires
 *   and validated again at every use) and registered from its resolved `openid_relying_party`
 *   metadata: `private_key_jwt` with the keys its Entity Configuration publishes, its redirect
 *   URIs, code flow only (federation/registration.ts). Nothing is shared between platforms. Such
 *   a client is another platform's IdP recognising our users: it gets a pairwise subject and the
 *   `yw_realname` scope (verified name and ID number, idp/partners/realname.ts), never a token
 *   for our graph. A client whose chain fails (untrusted, removed, expired, tampered, policy) is
 *   unknown to oidc-provider (`invalid_client`), and the reason's code is logged.
 * - **The platform's Entity Configuration** at `<issuer>/.well-known/openid-federation` (and
 *   `fetch` / `list` at a provincial or national IdP, `resolve` at the anchor) when the Entity
 *   Identifier is the issuer, with the IdP's discovery document as `openid_provider` metadata and
 *   `yiwang_platform` (id, tier, build mode, region) in `federation_entity`. A platform whose entity is served
 *   elsewhere (`node federation/main.ts`) still registers federated clients here.
 * - **This IdP as a relying party of the other platforms** (cross-tier login, idp/link/homes.ts):
 *   its Entity Configuration also publishes `openid_relying_party` metadata, so every home
 *   platform registers it automatically: redirect URI `<issuer>/link/callback`, back-channel
 *   logout at `<issuer>/link/backchannel-logout`, post-logout return `<issuer>/link/logged-out`,
 *   code + refresh_token grants, `private_key_jwt` with its own ES256 keys (`rpKeys`:
 *   federation/keys.ts with purpose relying_party, table `federation.rp_keys`, encrypted at rest
 *   under KEY_PASSPHRASE, rotated like the federation keys), automatic registration only. The
 *   homes it may send people to come from the federation's `directory`.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Deps } from '../../kernel/service.ts';
import { isAppError } from '../../kernel/errors.ts';
import {
  automaticClientMetadata, createDirectory, createFederationKeys, createFetcher, federationFromConfig, federationRouter, sameEntity, urlPolicyFromConfig,
  type Directory, type FederationEntity, type FederationKeys, type Json, type Metadata,
} from '../../federation/index.ts';
import type { Router } from '@koa/router';
import { REALNAME_SCOPE } from '../partners/realname.ts';

/** A client id that names a federation entity (automatic registration), not a partner or first-party client. */
export const isEntityClientId = (clientId: string | undefined): boolean => Boolean(clientId && /^https?:\/\//i.test(clientId));

export interface IdpFederation {
  entity: FederationEntity;
  /** Whether this IdP serves the platform's Entity Configuration (the Entity Identifier is its issuer). */
  servesEntity: boolean;
  /** oidc-provider's Client adapter: `inner` first, then federation entities. */
  clientAdapter(inner: Adapter): Adapter;
  /** The federation endpoints, to mount before oidc-provider (only when servesEntity). */
  router(): Router;
  /** Keys this IdP signs with as a relying party of other platforms (client assertions). */
  rpKeys: FederationKeys;
  /** The platforms of the federation (home discovery, R-ID-12). */
  directory: Directory;
  /** This platform's superiors (FEDERATION_AUTHORITY_HINTS). */
  authorityHints: string[];
}

/** Where the home platforms send this IdP's browser and logout notices (idp/link). */
export const RP_PATHS = { callback: '/link/callback', backchannelLogout: '/link/backchannel-logout', loggedOut: '/link/logged-out' } as const;

/** This IdP's `openid_relying_party` metadata (cross-tier login): what a home registers automatically. */
export async function relyingPartyMetadata(issuer: string, name: string, rpKeys: FederationKeys): Promise<Record<string, Json>> {
  const at = (p: string) => new URL(p, issuer).href;
  return {
    client_name: name,
    application_type: 'web',
    redirect_uris: [at(RP_PATHS.callback)],
    post_logout_redirect_uris: [at(RP_PATHS.loggedOut)],
    backchannel_logout_uri: at(RP_PATHS.backchannelLogout),
    backchannel_logout_session_required: true,
    response_types: ['code'],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    client_registration_types: ['automatic'],
    jwks: await rpKeys.publicJwks() as unknown as Json,
  };
}

const DISCOVERY_FIELDS = ['issuer', 'authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'end_session_endpoint',
  'scopes_supported', 'response_types_supported', 'grant_types_supported', 'acr_values_supported', 'subject_types_supported',
  'id_token_signing_alg_values_supported', 'token_endpoint_auth_methods_supported', 'code_challenge_methods_supported', 'claims_supported'];

export async function createIdpFederation(deps: Deps): Promise<IdpFederation | null> {
  const { config, log } = deps;
  if (!config.FEDERATION_ENTITY_ID) return null;
  const servesEntity = sameEntity(config.FEDERATION_ENTITY_ID, config.IDP_ISSUER);
  const rpKeys = createFederationKeys({
    db: deps.db, passphrase: deps.secrets.keyPassphrase, clock: deps.clock, statementTtlSeconds: config.FEDERATION_STATEMENT_TTL_SECONDS, purpose: 'relying_party',
  });
  let discovery: Record<string, Json> | undefined;
  const metadata = async (): Promise<Metadata> => {
    if (!discovery) {
      // The provider's own discovery document, read once through its public URL.
      const r = await fetch(`${config.IDP_ISSUER}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5000) });
      if (!r.ok) throw new Error(`discovery answered ${r.status}`);
      discovery = await r.json() as Record<string, Json>;
    }
    return {
      openid_provider: { ...Object.fromEntries(DISCOVERY_FIELDS.filter((k) => discovery![k] !== undefined).map((k) => [k, discovery![k]!])), client_registration_types_supported: ['automatic'] },
      openid_relying_party: await relyingPartyMetadata(config.IDP_ISSUER, config.FEDERATION_ORGANIZATION_NAME, rpKeys),
      federation_entity: {
        yiwang_platform: { id: config.IDP_PLATFORM_ID, tier: config.IDP_PLATFORM_TIER, mode: config.IDP_BUILD_MODE, ...(config.IDP_PLATFORM_REGION ? { region: config.IDP_PLATFORM_REGION } : {}) },
      },
    };
  };
  const entity = await federationFromConfig({
    config, keyPassphrase: deps.secrets.keyPassphrase, db: deps.db, cache: deps.cache, clock: deps.clock,
    ...(servesEntity ? { metadata, isAuthority: config.IDP_PLATFORM_TIER !== 'municipal' } : { isAuthority: false }),
  });
  if (!entity) return null;
  const policy = urlPolicyFromConfig(config);
  // The RP key exists before anyone asks for the Entity Configuration (made once, kept in the database).
  await rpKeys.signingKey();
  const directory = createDirectory({
    resolver: entity.resolver, clock: deps.clock, cacheSeconds: config.FEDERATION_CHAIN_CACHE_SECONDS,
    fetcher: createFetcher({ ...policy, timeoutMs: config.FEDERATION_FETCH_TIMEOUT_MS, maxBytes: config.FEDERATION_FETCH_MAX_BYTES }),
  });

  async function federated(clientId: string): Promise<AdapterPayload | undefined> {
    try {
      const rp = await entity!.resolver.resolveRelyingParty(clientId);
      const { exp: _exp, ...client } = automaticClientMetadata(rp, policy);
      // Plain JSON, as oidc-provider expects of an adapter's payload.
      return {
        ...JSON.parse(JSON.stringify(client)) as typeof client,
        application_type: 'web',
        subject_type: 'pairwise',
        scope: `openid ${REALNAME_SCOPE}`,
        yw_realname_platform: true,
      } as unknown as AdapterPayload;
    } catch (e) {
      if (!isAppError(e)) throw e;
      log.warn({ clientId: clientId.slice(0, 200), code: e.code }, 'federated client refused');
      return undefined;
    }
  }

  return {
    entity,
    servesEntity,
    rpKeys,
    directory,
    authorityHints: (config.FEDERATION_AUTHORITY_HINTS ?? '').split(',').map((h) => h.trim()).filter(Boolean),
    clientAdapter(inner) {
      return {
        upsert: (id, payload, expiresIn) => inner.upsert(id, payload, expiresIn),
        async find(id) {
          const found = await inner.find(id);
          if (found || !isEntityClientId(id)) return found;
          return federated(id);
        },
        findByUserCode: (code) => inner.findByUserCode(code),
        findByUid: (uid) => inner.findByUid(uid),
        consume: (id) => inner.consume(id),
        destroy: (id) => inner.destroy(id),
        revokeByGrantId: (id) => inner.revokeByGrantId(id),
      };
    },
    router: () => federationRouter(entity, log),
  };
}

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
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Deps } from '../../kernel/service.ts';
import { isAppError } from '../../kernel/errors.ts';
import {
  automaticClientMetadata, federationFromConfig, federationRouter, sameEntity, urlPolicyFromConfig, type FederationEntity, type Json, type Metadata,
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
}

const DISCOVERY_FIELDS = ['issuer', 'authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'end_session_endpoint',
  'scopes_supported', 'response_types_supported', 'grant_types_supported', 'acr_values_supported', 'subject_types_supported',
  'id_token_signing_alg_values_supported', 'token_endpoint_auth_methods_supported', 'code_challenge_methods_supported', 'claims_supported'];

export async function createIdpFederation(deps: Deps): Promise<IdpFederation | null> {
  const { config, log } = deps;
  if (!config.FEDERATION_ENTITY_ID) return null;
  const servesEntity = sameEntity(config.FEDERATION_ENTITY_ID, config.IDP_ISSUER);
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

/**
 * Automatic client registration (OpenID Federation 1.0, 12.1): a relying party of another
 * platform is a client here without any registration step. Its client_id is its Entity
 * Identifier, its metadata is the resolved `openid_relying_party` metadata, and it authenticates
 * with keys from its trust chain (`private_key_jwt`, signed request objects): no client secret
 * exists between tiers. The registration lives as long as the chain (`exp`).
 */
import { AppError } from '../kernel/errors.ts';
import type { RelyingParty } from './resolver.ts';
import type { Json } from './types.ts';

/** Client metadata (RFC 7591 names) for the IdP's client store. */
export interface FederatedClient {
  client_id: string;
  client_name?: string;
  redirect_uris: string[];
  response_types: string[];
  grant_types: string[];
  token_endpoint_auth_method: 'private_key_jwt';
  jwks: { keys: Array<Record<string, unknown>> };
  post_logout_redirect_uris?: string[];
  backchannel_logout_uri?: string;
  request_object_signing_alg?: string;
  token_endpoint_auth_signing_alg?: string;
  /** Seconds since epoch after which the chain must be resolved again. */
  expires_at: number;
  trust_anchor: string;
}

const strings = (v: Json | undefined): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

export function federatedClient(rp: RelyingParty): FederatedClient {
  const m = rp.metadata;
  const missing = (parameter: string) => new AppError('FEDERATION_METADATA_MISSING', `依赖方元数据缺少 ${parameter} / the relying party's metadata lacks ${parameter}`, { entityId: rp.clientId, parameter });
  if (!strings(m.redirect_uris) || m.redirect_uris.length === 0) throw missing('redirect_uris');
  const method = m.token_endpoint_auth_method ?? 'private_key_jwt';
  if (method !== 'private_key_jwt') {
    throw new AppError('FEDERATION_POLICY_VIOLATION', '联邦依赖方必须用链上的密钥认证（private_key_jwt）/ a federated relying party must authenticate with keys from its chain (private_key_jwt)', { entityId: rp.clientId, parameter: 'token_endpoint_auth_method' });
  }
  const types = m.client_registration_types;
  if (types !== undefined && !(strings(types) && types.includes('automatic'))) {
    throw new AppError('FEDERATION_POLICY_VIOLATION', '该依赖方未声明自动注册 / the relying party does not declare automatic registration', { entityId: rp.clientId, parameter: 'client_registration_types' });
  }
  return {
    client_id: rp.clientId,
    ...(typeof m.client_name === 'string' ? { client_name: m.client_name } : {}),
    redirect_uris: m.redirect_uris,
    response_types: strings(m.response_types) ? m.response_types : ['code'],
    grant_types: strings(m.grant_types) ? m.grant_types : ['authorization_code'],
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: rp.jwks as unknown as { keys: Array<Record<string, unknown>> },
    ...(strings(m.post_logout_redirect_uris) ? { post_logout_redirect_uris: m.post_logout_redirect_uris } : {}),
    ...(typeof m.backchannel_logout_uri === 'string' ? { backchannel_logout_uri: m.backchannel_logout_uri } : {}),
    ...(typeof m.request_object_signing_alg === 'string' ? { request_object_signing_alg: m.request_object_signing_alg } : {}),
    ...(typeof m.token_endpoint_auth_signing_alg === 'string' ? { token_endpoint_auth_signing_alg: m.token_endpoint_auth_signing_alg } : {}),
    expires_at: rp.exp,
    trust_anchor: rp.trustAnchor,
  };
}

/**
 * Automatic client registration (OpenID Federation 1.0, 12.1): a relying party of another
 * platform is a client here without any registration step. Its client_id is its Entity
 * Identifier, its metadata is the resolved `openid_relying_party` metadata, and it authenticates
 * with keys from its trust chain (`private_key_jwt`, signed request objects): no client secret
 * exists between tiers. The registration lives as long as the chain (`exp`).
 */
import { AppError } from '../kernel/errors.ts';
import { checkUrl, type UrlPolicy } from './fetcher.ts';
import type { RelyingParty } from './resolver.ts';
import type { Json, Jwks } from './types.ts';

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

/**
 * What an OpenID Provider of this federation registers automatically: `federatedClient`, then
 * what a platform must offer since no secret is ever shared between tiers, each failure
 * FEDERATION_POLICY_VIOLATION naming the parameter (`details.parameter`):
 *
 * - every redirect URI (and post-logout and back-channel logout URI) an allowed URL under the
 *   federation's URL policy (https; http only on development hosts; the allow-listed hosts);
 * - `response_types` only `code`, `grant_types` only `authorization_code` and `refresh_token`;
 * - at least one public signing key (only those are kept), an asymmetric
 *   `token_endpoint_auth_signing_alg` when one is named.
 */
export interface AutomaticClient {
  client_id: string;
  client_name?: string;
  redirect_uris: string[];
  response_types: ['code'];
  grant_types: string[];
  token_endpoint_auth_method: 'private_key_jwt';
  token_endpoint_auth_signing_alg?: string;
  jwks: Jwks;
  post_logout_redirect_uris?: string[];
  backchannel_logout_uri?: string;
  backchannel_logout_session_required?: boolean;
  /** Seconds since epoch after which the registration must be resolved again (the chain's expiry). */
  exp: number;
}

const ALGS = /^(ES|PS|RS)(256|384|512)$|^EdDSA$|^Ed25519$/;
const violation = (parameter: string, message: string) =>
  new AppError('FEDERATION_POLICY_VIOLATION', `依赖方元数据不符合自动注册要求 / the relying party's metadata does not allow automatic registration: ${message}`, { parameter });

function urls(v: Json | undefined, parameter: string, policy: UrlPolicy, required: boolean): string[] | undefined {
  if (v === undefined && !required) return undefined;
  if (!Array.isArray(v) || (required && v.length === 0) || v.length > 20 || !v.every((x) => typeof x === 'string')) {
    throw violation(parameter, `${parameter} must be ${required ? 'a non-empty' : 'an'} array of URLs`);
  }
  for (const u of v as string[]) {
    try {
      checkUrl(u, policy, 'endpoint');
    } catch {
      throw violation(parameter, `${parameter} holds a URL this federation does not allow`);
    }
  }
  return v as string[];
}

export function automaticClientMetadata(rp: RelyingParty, policy: UrlPolicy): AutomaticClient {
  federatedClient(rp);
  const m = rp.metadata;
  const redirectUris = urls(m.redirect_uris, 'redirect_uris', policy, true)!;
  const responseTypes = m.response_types ?? ['code'];
  if (!Array.isArray(responseTypes) || responseTypes.length === 0 || !responseTypes.every((t) => t === 'code')) throw violation('response_types', 'response_types must be ["code"]');
  const grantTypes = m.grant_types ?? ['authorization_code'];
  if (!Array.isArray(grantTypes) || !grantTypes.includes('authorization_code') || !grantTypes.every((g) => g === 'authorization_code' || g === 'refresh_token')) {
    throw violation('grant_types', 'grant_types must be authorization_code (and refresh_token)');
  }
  const signing = rp.jwks.keys.filter((k) => (k.use === undefined || k.use === 'sig') && ['EC', 'RSA', 'OKP'].includes(String(k.kty)));
  if (signing.length === 0) throw violation('jwks', 'no public signing key');
  const alg = m.token_endpoint_auth_signing_alg;
  if (alg !== undefined && !(typeof alg === 'string' && ALGS.test(alg))) throw violation('token_endpoint_auth_signing_alg', 'an asymmetric signing algorithm is required');
  const postLogout = urls(m.post_logout_redirect_uris, 'post_logout_redirect_uris', policy, false);
  const backchannel = m.backchannel_logout_uri;
  if (backchannel !== undefined) urls([backchannel] as Json, 'backchannel_logout_uri', policy, true);
  return {
    client_id: rp.clientId,
    ...(typeof m.client_name === 'string' ? { client_name: m.client_name.slice(0, 200) } : {}),
    redirect_uris: redirectUris,
    response_types: ['code'],
    grant_types: grantTypes as string[],
    token_endpoint_auth_method: 'private_key_jwt',
    ...(typeof alg === 'string' ? { token_endpoint_auth_signing_alg: alg } : {}),
    jwks: { keys: signing },
    ...(postLogout ? { post_logout_redirect_uris: postLogout } : {}),
    ...(typeof backchannel === 'string' ? { backchannel_logout_uri: backchannel, backchannel_logout_session_required: m.backchannel_logout_session_required === true } : {}),
    exp: rp.exp,
  };
}

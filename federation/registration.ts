/**
 * Automatic client registration (OpenID Federation 1.0, 12.1): an OpenID Provider accepts a
 * relying party it has never seen when its `client_id` is an Entity Identifier whose trust chain
 * resolves (resolver.ts `resolveRelyingParty`). This turns the resolved `openid_relying_party`
 * metadata into the client metadata an OpenID Provider registers, after checking what a
 * platform of this federation must offer, since no secret is ever shared between tiers:
 *
 * - `token_endpoint_auth_method` is `private_key_jwt` (its keys are the resolved `jwks`: the
 *   ones its Entity Configuration publishes, vouched for through the chain);
 * - `client_registration_types`, when given, includes `automatic`;
 * - `redirect_uris`: at least one, each an allowed URL (https; http only on development hosts);
 * - `response_types` only `code`, `grant_types` only `authorization_code` and `refresh_token`;
 * - at least one public signing key.
 *
 * A failure is FEDERATION_POLICY_VIOLATION naming the parameter (`details.parameter`).
 */
import { AppError } from '../kernel/errors.ts';
import { checkUrl, type UrlPolicy } from './fetcher.ts';
import type { RelyingParty } from './resolver.ts';
import type { Json, Jwks } from './types.ts';

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
  const m = rp.metadata;
  if (m.token_endpoint_auth_method !== 'private_key_jwt') throw violation('token_endpoint_auth_method', 'token_endpoint_auth_method must be private_key_jwt');
  if (m.client_registration_types !== undefined && !(Array.isArray(m.client_registration_types) && m.client_registration_types.includes('automatic'))) {
    throw violation('client_registration_types', 'client_registration_types must include automatic');
  }
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

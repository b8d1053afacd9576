/**
 * Automatic registration of a relying party from its resolved federation metadata: what is
 * accepted, and each parameter that refuses it.
 */
import { describe, expect, it } from '@jest/globals';
import { exportJWK, generateKeyPair } from 'jose';
import { automaticClientMetadata, type Json, type RelyingParty } from './index.ts';

const policy = { allowedHosts: ['.gov.example.cn'], httpHosts: [] };
const { publicKey } = await generateKeyPair('ES256');
const sig = { ...(await exportJWK(publicKey)), kid: 'rp-1', use: 'sig', alg: 'ES256' };
const enc = { ...sig, kid: 'rp-enc', use: 'enc' };

function rp(metadata: Record<string, Json>, keys = [sig, enc]): RelyingParty {
  return {
    clientId: 'https://idp.city.gov.example.cn', metadata, jwks: { keys }, trustAnchor: 'https://national.gov.example.cn', trustChain: [], exp: 2_000_000_000,
  };
}
const base: Record<string, Json> = {
  client_name: '某市统一身份认证 / city IdP',
  redirect_uris: ['https://idp.city.gov.example.cn/link/callback'],
  token_endpoint_auth_method: 'private_key_jwt',
  client_registration_types: ['automatic'],
  grant_types: ['authorization_code'],
  response_types: ['code'],
};
const codeOf = (f: () => unknown) => {
  try {
    f();
    return 'no error';
  } catch (e) {
    return `${(e as { code: string }).code}:${(e as { details?: { parameter?: string } }).details?.parameter}`;
  }
};

describe('automatic client registration', () => {
  it('registers the entity id as client_id with private_key_jwt and only its signing keys', () => {
    const c = automaticClientMetadata(rp({ ...base, backchannel_logout_uri: 'https://idp.city.gov.example.cn/backchannel', post_logout_redirect_uris: ['https://idp.city.gov.example.cn/'] }), policy);
    expect(c).toEqual({
      client_id: 'https://idp.city.gov.example.cn', client_name: base.client_name, redirect_uris: base.redirect_uris, response_types: ['code'],
      grant_types: ['authorization_code'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [sig] },
      post_logout_redirect_uris: ['https://idp.city.gov.example.cn/'], backchannel_logout_uri: 'https://idp.city.gov.example.cn/backchannel',
      backchannel_logout_session_required: false, exp: 2_000_000_000,
    });
    // Defaults: code, authorization_code.
    const { grant_types: _g, response_types: _r, ...minimal } = base;
    expect(automaticClientMetadata(rp(minimal), policy)).toMatchObject({ grant_types: ['authorization_code'], response_types: ['code'] });
  });

  it('refuses what would need a shared secret, another flow or a URL outside the federation', () => {
    expect(codeOf(() => automaticClientMetadata(rp({ ...base, token_endpoint_auth_method: 'client_secret_basic' }), policy))).toBe('FEDERATION_POLICY_VIOLATION:token_endpoint_auth_method');
    // Without a method a federation client is private_key_jwt (federatedClient's rule): still no secret.
    const { token_endpoint_auth_method: _t, ...noMethod } = base;
    expect(automaticClientMetadata(rp(noMethod), policy).token_endpoint_auth_method).toBe('private_key_jwt');
    expect(codeOf(() => automaticClientMetadata(rp({ ...base, client_registration_types: ['explicit'] }), policy))).toBe('FEDERATION_POLICY_VIOLATION:client_registration_types');
    expect(codeOf(() => automaticClientMetadata(rp({ ...base, redirect_uris: [] }), policy))).toBe('FEDERATION_METADATA_MISSING:redirect_uris');
    expect(codeOf(() => automaticClientMetadata(rp({ ...base, redirect_uris: ['https://evil.example.com/cb'] }), policy))).toBe('FEDERATION_POLICY_VIOLATION:redirect_uris');
    expect(codeOf(() => automaticClientMetadata(rp({ ...base, redirect_uris: ['http://idp.city.gov.example.cn/cb'] }), policy))).toBe('FEDERATION_POLICY_VIOLATION:redirect_uris');
    expect(codeOf(() => automaticClientMetadata(rp({ ...base, response_types: ['code', 'id_token'] }), policy))).toBe('FEDERATION_POLICY_VIOLATION:response_types');
    expect(codeOf(() => automaticClientMetadata(rp({ ...base, grant_types: ['client_credentials'] }), policy))).toBe('FEDERATION_POLICY_VIOLATION:grant_types');
    expect(codeOf(() => automaticClientMetadata(rp({ ...base, token_endpoint_auth_signing_alg: 'HS256' }), policy))).toBe('FEDERATION_POLICY_VIOLATION:token_endpoint_auth_signing_alg');
    expect(codeOf(() => automaticClientMetadata(rp({ ...base, backchannel_logout_uri: 'https://evil.example.com/bc' }), policy))).toBe('FEDERATION_POLICY_VIOLATION:backchannel_logout_uri');
    expect(codeOf(() => automaticClientMetadata(rp(base, [enc]), policy))).toBe('FEDERATION_POLICY_VIOLATION:jwks');
  });
});

/**
 * The IdP's own account pages (/account) log in like any application: through a first-party
 * public client with PKCE whose redirect URI is on the IdP itself. Its consent is implied
 * (idp/interactions/); the pages read the resulting IdP session (idp/self-service/sessions.ts).
 */
export const ACCOUNT_CLIENT_ID = 'yiwang-account';

export function accountClient(issuer: string): Record<string, unknown> {
  return {
    client_id: ACCOUNT_CLIENT_ID,
    client_name: '一网通办账户中心 / Yiwang account',
    application_type: 'web',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: [new URL('/account/callback', issuer).href],
    scope: 'openid',
  };
}

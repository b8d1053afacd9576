/**
 * Token introspection (RFC 7662) for resource servers, through oidc-provider's introspection
 * endpoint (`/token/introspection`, in discovery as `introspection_endpoint`).
 *
 * Who may ask: a client registered as a resource server (`yw_resource_server`, a partner
 * registered with `resource_server: true`, authenticating with its secret) about any token;
 * any other confidential client about its own tokens only; a public client (no authentication)
 * about nothing. Everyone else gets `{"active": false}`, as RFC 7662 §2.2 wants for a token the
 * caller may not learn about.
 *
 * What is active: oidc-provider's stored tokens (opaque access tokens, refresh tokens) that are
 * unexpired, not revoked and whose grant still exists; we add that the account must not be
 * disabled. The graph's access tokens are JWTs (RFC 9068) that oidc-provider does not store, and
 * its endpoint answers `unsupported_token_type` for them: the gateway checks those itself, with
 * the revocation markers (idp/oidc/revocation-markers.ts, docs/gateway-tokens.md).
 */
import type { AccountStore } from '../accounts/store.ts';

interface IntrospectingClient { clientId: string; clientAuthMethod?: string; ywResourceServer?: unknown; yw_resource_server?: unknown }

export function isResourceServer(client: unknown): boolean {
  const c = (client ?? {}) as IntrospectingClient;
  return c.ywResourceServer === true || c.yw_resource_server === true;
}

export function introspectionPolicy(accounts: Pick<AccountStore, 'findById'>) {
  return async (_ctx: unknown, client: IntrospectingClient, token: { clientId?: string; accountId?: string }): Promise<boolean> => {
    if (client.clientAuthMethod === 'none') return false;
    if (!isResourceServer(client) && token.clientId !== client.clientId) return false;
    if (token.accountId) {
      const a = await accounts.findById(token.accountId);
      if (!a || a.disabled) return false;
    }
    return true;
  };
}

/**
 * The oidc-provider configuration. Choices, and why:
 *
 * - Authorization code + PKCE for every client (RFC 9700 §2.1.1); oidc-provider 9 implements
 *   only S256, so `plain` is refused and discovery lists exactly ['S256']. No dev interactions:
 *   login and consent are our pages (idp/interactions/).
 * - Resource indicators (RFC 8707): the only resource server is the graph (GATEWAY_RESOURCE),
 *   also the default when a client names none; any other resource is invalid_target. Its access
 *   tokens are RS256 JWTs (RFC 9068) for 10 minutes with the caller's kind, name, agency and
 *   roles (yw_*) and `acr`, which the gateway maps to its Caller.
 * - useGrantedResource: the token endpoint issues a gateway token without the client repeating
 *   `resource`, except for a refresh request that names its `scope` (and no resource): that is
 *   the "other indication" oidc-provider's docs mention, and yields an opaque token for the
 *   UserInfo endpoint (which refuses any token with an audience).
 * - Refresh tokens for the public portal client: issued whenever the client may use the
 *   refresh_token grant (not only with offline_access, which oidc-provider drops unless
 *   prompt=consent), rotated on every use (oidc-provider's default for public clients; a reused
 *   one revokes the whole grant, RFC 9700 §4.14.2), and bound to the login session unless
 *   offline_access was granted: they end with the session and at most 8 hours after login.
 * - Levels of assurance (idp/accounts/assurance.ts): acr urn:yiwang:loa:2 … 5, asked for with acr_values
 *   or a non-essential acr claim (voluntary: stepped up to when reachable, else the level reached
 *   is issued) or demanded with an essential acr claim or the client's access policy (stepped up
 *   to, or unmet_authentication_requirements); the claims parameter is enabled for acr only and
 *   the interaction policy does the step-up (idp/interactions/acr-policy.ts).
 * - Keys come from idp/oidc/keys.ts; cookies are signed with IDP_COOKIE_KEYS; storage is the cache.
 */
import { createHash } from 'node:crypto';
import type { Account, Configuration, KoaContextWithOIDC, TokenLike } from 'oidc-provider';
import { Provider, errors } from 'oidc-provider';
import type { JWK } from 'jose';
import type { Config, Secrets } from '../../kernel/config.ts';
import type { Cache } from '../../kernel/cache.ts';
import type { Logger } from '../../kernel/log.ts';
import { networkPolicy, outboundFetch, parseNetworks } from '../../kernel/outbound.ts';
import { ACR, ACR_VALUES, acrFor, type AccountRecord, type AccountStore } from '../accounts/store.ts';
import { cacheAdapterFactory } from './adapter.ts';
import { levelOf } from '../accounts/assurance.ts';
import { assertClaimsParameter, stepUpPolicy } from '../interactions/acr-policy.ts';
import { accountClient } from '../self-service/client.ts';
import { Html, escapeHtml, page, pageLang, switchHrefFor } from '../web/html.ts';
import type { PartnerHooks } from '../partners/hooks.ts';
import { IDENTITY_SCOPES, identityClaims, type MembershipsOf } from '../partners/claims.ts';
import type { ActingFor } from '../delegation/delegations.ts';
import { REALNAME_SCOPE, isRealnamePlatform, verifiedClaims } from '../partners/realname.ts';
import { grantClaim, watchRevocations } from './revocation-markers.ts';
import { introspectionPolicy } from './introspection.ts';
import type { IdpFederation } from './federation.ts';

export const PORTAL_CLIENT_ID = 'yiwang-portal';
export const SCOPES = ['openid', 'offline_access', 'profile', 'phone', 'yw_identity', 'yw_companies'] as const;
/** Scopes the graph (gateway) accepts in its access tokens. */
export const GATEWAY_SCOPE = 'openid profile phone';

export const ACCESS_TOKEN_TTL = 600;
/** Delegation markers (kernel/delegation-markers.ts) outlive every access token, with a margin for clock skew. */
export const DELEGATION_MARKER_TTL = ACCESS_TOKEN_TTL + 60;
/** Revocation markers (idp/oidc/revocation-markers.ts) likewise. */
export const REVOCATION_MARKER_TTL = ACCESS_TOKEN_TTL + 60;
const SESSION_TTL = 8 * 3600;
const OFFLINE_TTL = 30 * 24 * 3600;

export interface ProviderDeps {
  config: Config;
  secrets: Secrets;
  jwks: JWK[];
  accounts: AccountStore;
  cache: Cache;
  log: Logger;
  /** Partner clients, pairwise subjects, remembered consent, client policies (idp/partners). */
  partners?: PartnerHooks;
  /** Company memberships for the yw_companies claim (idp/partners/claims.ts). */
  memberships?: MembershipsOf;
  /** R-ID-8: the delegation a person acts under, if in force (idp/delegation); throws DELEGATION_INVALID. */
  actingFor?: (accountId: string, delegationId: string) => Promise<ActingFor>;
  /** R-ID-12: other platforms' IdPs registered automatically through the federation (idp/oidc/federation.ts). */
  federation?: IdpFederation | null;
  /** R-ID-12: an account recognised from its home platform is checked there at every refresh (idp/link/recognition.ts). */
  recognised?: { stillValid(accountId: string): Promise<boolean> } | undefined;
}

/**
 * Account claims by scope (filtered by oidc-provider through `claims` below). `verified_claims`
 * (full ID number) only for a client registered as a trusted real-name platform (R-ID-3,
 * idp/partners/realname.ts), whatever the scope says.
 */
function accountFor(a: AccountRecord, memberships: MembershipsOf, client: unknown): Account {
  return {
    accountId: a.id,
    record: a,
    async claims(_use: string, scope: string) {
      const realname = scope.split(' ').includes(REALNAME_SCOPE) && isRealnamePlatform(client) ? verifiedClaims(a) : undefined;
      return {
        sub: a.id,
        name: a.name,
        ...(await identityClaims(a, acrFor(a), memberships, scope)),
        ...(realname ? { verified_claims: realname } : {}),
      };
    },
  };
}

/** oidc-provider's cookie names, suffixed with a short digest of the issuer. */
export function cookieNames(issuer: string): { session: string; interaction: string; resume: string } {
  const h = createHash('sha256').update(issuer).digest('hex').slice(0, 8);
  return { session: `_session_${h}`, interaction: `_interaction_${h}`, resume: `_interaction_resume_${h}` };
}

/** The yw_* claims the gateway maps to its Caller (kernel/internal-auth.ts). */
export function gatewayClaims(a: AccountRecord, acr: string): Record<string, unknown> {
  return {
    acr,
    yw_kind: a.kind,
    yw_name: a.name,
    ...(a.kind === 'staff' ? { yw_agency: a.agencyCode, yw_roles: a.roles } : {}),
  };
}

/** oidc-provider's own pages (logout, errors) in our layout; their texts are bilingual. */
function simplePage(ctx: KoaContextWithOIDC, titleZh: string, titleEn: string, inner: string): void {
  const lang = pageLang(ctx);
  ctx.type = 'html';
  ctx.body = page({ lang, path: ctx.path, switchHref: switchHrefFor(ctx, lang), title: lang === 'zh' ? titleZh : titleEn, body: new Html(inner) });
}

export function createProvider(d: ProviderDeps): Provider {
  const { config, secrets, accounts, log } = d;
  const gateway = config.GATEWAY_RESOURCE;
  const redirectUris = config.IDP_PORTAL_REDIRECT_URIS.split(',').map((s) => s.trim()).filter(Boolean);
  const portalOrigins = [...new Set(redirectUris.map((u) => new URL(u).origin))];

  const cacheAdapter = cacheAdapterFactory(d.cache);
  const partners = d.partners;
  const memberships: MembershipsOf = d.memberships ?? (async () => []);
  const configuration: Configuration = {
    adapter: (model: string) => (model === 'Client' && partners
      ? (d.federation ? d.federation.clientAdapter(partners.clientAdapter) : partners.clientAdapter)
      : cacheAdapter(model)),
    jwks: { keys: d.jwks },
    cookies: {
      // Named after the issuer: platforms on one host name (`npm run tiers` on 127.0.0.1, ports
      // apart) share a browser's cookies, and a cross-tier login (R-ID-12) holds a session at two
      // IdPs at once; with oidc-provider's fixed names one would overwrite the other's.
      names: cookieNames(config.IDP_ISSUER),
      keys: secrets.cookieKeys,
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    clients: [{
      client_id: PORTAL_CLIENT_ID,
      client_name: '一网通办门户 / Yiwang portal',
      application_type: 'web',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: redirectUris,
      post_logout_redirect_uris: portalOrigins.map((o) => `${o}/`),
      scope: SCOPES.join(' '),
    }, accountClient(config.IDP_ISSUER)],
    responseTypes: ['code'],
    clientBasedCORS(_ctx: unknown, origin: string, client: { redirectUris: string[] }) {
      return client.redirectUris.some((u) => new URL(u).origin === origin);
    },
    // yw_realname: only clients registered as trusted real-name platforms may ask for it (their `scope` metadata).
    scopes: [...SCOPES, REALNAME_SCOPE],
    // Partners (idp/partners) get pairwise subjects; the portal keeps public ones for the gateway.
    subjectTypes: partners ? ['public', 'pairwise'] : ['public'],
    ...(partners ? { pairwiseIdentifier: partners.pairwiseIdentifier, loadExistingGrant: partners.loadExistingGrant } : {}),
    extraClientMetadata: {
      properties: ['yw_sector', 'yw_realname_platform', 'yw_resource_server'],
      validator(_ctx: unknown, key: string, value: unknown) {
        if (key === 'yw_realname_platform' && value !== undefined && typeof value !== 'boolean') throw new errors.InvalidClientMetadata!('yw_realname_platform must be a boolean');
        if (key === 'yw_resource_server' && value !== undefined && typeof value !== 'boolean') throw new errors.InvalidClientMetadata!('yw_resource_server must be a boolean');
      },
    },
    claims: {
      ...IDENTITY_SCOPES,
      [REALNAME_SCOPE]: ['verified_claims'],
      acr: null, amr: null, auth_time: null, sid: null, iss: null,
      // acr and amr in every ID token (not only when requested): relying parties decide by the level and the methods.
      openid: ['sub', 'acr', 'amr'],
      profile: ['name'],
      phone: ['phone_number', 'phone_number_verified'],
    },
    acrValues: [...ACR_VALUES],
    discovery: { ui_locales_supported: ['zh-CN', 'en'], claims_locales_supported: ['zh-CN'] },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      // OIDC Core §5.5: for an essential acr only (idp/interactions/acr-policy.ts); claims are released by scope.
      claimsParameter: { enabled: true, assertClaimsParameter },
      userinfo: { enabled: true },
      backchannelLogout: { enabled: true },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx: unknown, client: { clientId: string }, token: { clientId: string }) => token.clientId === client.clientId,
      },
      // RFC 7662 for resource servers (idp/oidc/introspection.ts).
      introspection: { enabled: true, allowedPolicy: introspectionPolicy(accounts) },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx: KoaContextWithOIDC, form: string) {
          simplePage(ctx, '退出登录？', 'Log out?', `${form}<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">退出 / Log out</button>`
            + '<button type="submit" class="secondary" form="op.logoutForm">保持登录 / Stay logged in</button>');
        },
        async postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
          simplePage(ctx, '已退出登录', 'Logged out', '<p>您已安全退出。/ You have logged out.</p>');
        },
      },
      resourceIndicators: {
        enabled: true,
        async defaultResource(_ctx: unknown, client: { clientId: string }, oneOf?: string[]) {
          if (oneOf) return oneOf.includes(gateway) ? gateway : oneOf[0];
          // Partners: no default resource, i.e. an opaque token for UserInfo only.
          if (partners && !partners.resourceAllowed(client?.clientId, gateway, gateway)) return undefined;
          return gateway;
        },
        async useGrantedResource(ctx: KoaContextWithOIDC) {
          return !(ctx.oidc.route === 'token' && ctx.oidc.params.grant_type === 'refresh_token' && ctx.oidc.params.scope);
        },
        async getResourceServerInfo(_ctx: unknown, resource: string, client?: { clientId: string }) {
          if (partners && !partners.resourceAllowed(client?.clientId, resource, gateway)) throw new errors.InvalidTarget('resource not available to this client');
          if (partners && resource === partners.adminResource) {
            return { audience: resource, scope: 'admin', accessTokenFormat: 'jwt', accessTokenTTL: ACCESS_TOKEN_TTL, jwt: { sign: { alg: 'RS256' } } };
          }
          if (resource !== gateway) throw new errors.InvalidTarget('unknown resource indicator');
          return {
            audience: gateway,
            scope: GATEWAY_SCOPE,
            accessTokenFormat: 'jwt',
            accessTokenTTL: ACCESS_TOKEN_TTL,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    async findAccount(ctx: KoaContextWithOIDC | undefined, sub: string, token?: TokenLike) {
      const a = await accounts.findById(sub);
      if (!a || a.disabled) return undefined;
      // R-ID-10: the client's policy applies at refresh and UserInfo too (it may have changed).
      if (partners && !(await partners.accountAllowed(ctx, a, token?.acr ?? acrFor(a)))) return undefined;
      // R-ID-12: a recognised account lives as long as its home vouches for it (checked at every refresh).
      if (d.recognised && ctx?.oidc?.route === 'token' && (ctx.oidc.params as { grant_type?: string } | undefined)?.grant_type === 'refresh_token'
        && !(await d.recognised.stillValid(a.id))) return undefined;
      return accountFor(a, memberships, ctx?.oidc?.client);
    },
    async extraTokenClaims(ctx: KoaContextWithOIDC, token: TokenLike) {
      if (token.kind !== 'AccessToken' || !token.accountId) return undefined;
      const entities = ctx?.oidc?.entities ?? {};
      const entity = entities.Account as (Account & { record?: AccountRecord }) | undefined;
      const a = entity?.record?.id === token.accountId ? entity.record : await accounts.findById(token.accountId);
      if (!a) return undefined;
      const acr = entities.AuthorizationCode?.acr ?? entities.RefreshToken?.acr ?? acrFor(a);
      // The login's own level (idp/accounts/assurance.ts), else the account's single-factor level.
      const claims = { ...gatewayClaims(a, levelOf(acr) ? acr : acrFor(a)), ...grantClaim(token) };
      // R-ID-8: a person acting for a company names the delegation at the token endpoint
      // (`yw_acting_for=<delegation id>`); it must be theirs and in force, else invalid_grant.
      // yw_act carries its end and last change: the gateway refuses the token once either passes
      // or the delegation is revoked (gateway/delegations.ts).
      const actingFor = (ctx?.oidc?.body as Record<string, unknown> | undefined)?.yw_acting_for;
      if (typeof actingFor === 'string' && actingFor && d.actingFor && a.kind === 'person') {
        try {
          return { ...claims, yw_act: await d.actingFor(a.id, actingFor) };
        } catch (e) {
          throw new errors.InvalidGrant!((e as Error).message);
        }
      }
      return claims;
    },
    async issueRefreshToken(_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }) {
      return client.grantTypeAllowed('refresh_token');
    },
    // stepUpPolicy: a client asking a higher acr than the session's sends the user to step up (idp/interactions/acr-policy.ts).
    interactions: { policy: stepUpPolicy(partners ? { minimumLevel: partners.minimumLevel } : {}), url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    ttl: {
      AccessToken: (_ctx: unknown, token: { resourceServer?: { accessTokenTTL?: number } }) => token.resourceServer?.accessTokenTTL ?? ACCESS_TOKEN_TTL,
      AuthorizationCode: 60,
      IdToken: ACCESS_TOKEN_TTL,
      Interaction: 30 * 60,
      Session: SESSION_TTL,
      Grant: OFFLINE_TTL,
      RefreshToken(ctx: KoaContextWithOIDC, token: TokenLike) {
        // A rotated token keeps its predecessor's remaining lifetime: rotation never extends it.
        const rotated = ctx?.oidc?.entities.RotatedRefreshToken as (TokenLike & { remainingTTL?: number }) | undefined;
        if (rotated?.remainingTTL) return rotated.remainingTTL;
        return token.scopes.has('offline_access') ? OFFLINE_TTL : SESSION_TTL;
      },
    },
    // Every call oidc-provider makes (back-channel logout, a client's keys) obeys the network policy:
    // special-use addresses only within IDP_OUTBOUND_ALLOWED_NETWORKS (kernel/outbound.ts).
    fetch: outboundFetch({ policy: networkPolicy(parseNetworks(config.IDP_OUTBOUND_ALLOWED_NETWORKS)), timeoutMs: 2500 }),
    async renderError(ctx: KoaContextWithOIDC, out: Record<string, string>) {
      const detail = Object.entries(out).map(([k, v]) => `<p><strong>${escapeHtml(k)}</strong>: ${escapeHtml(String(v))}</p>`).join('');
      simplePage(ctx, '出错了', 'Something went wrong', `<p>请返回应用重新开始。/ Go back to the application and start again.</p>${detail}`);
    },
  };

  const provider = new Provider(config.IDP_ISSUER, configuration);
  // Behind a TLS-terminating proxy only when configured (TRUST_PROXY), like the kernel's Koa shell.
  provider.proxy = config.TRUST_PROXY;
  provider.on('server_error', (_ctx: unknown, err: Error) => log.error({ err }, 'oidc-provider server error'));
  // Revoked grants reach the gateway within seconds (idp/oidc/revocation-markers.ts).
  watchRevocations(provider, d.cache, REVOCATION_MARKER_TTL, log);
  return provider;
}

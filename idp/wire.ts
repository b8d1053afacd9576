/**
 * The IdP's wiring, in one place: service.ts builds the parts from their dependencies here and
 * mounts their routes before handing the rest to oidc-provider.
 *
 * - `createIdentityAccounts`: registration, verification, SMS codes, login methods, assurance,
 *   recovery, sessions, protection, the counter desk and the self-service account pages; called
 *   before the provider is built, `mount` after.
 * - `createLinking` (inside it): linked registration through trusted real-name platforms (R-ID-3).
 * - `createIdentityAdmin`: partner clients, remembered consent, client policies, administration,
 *   the audit log, delegations (R-ID-8) and the `identity` subgraph at `/graphql`; its hooks,
 *   memberships and acting-for lookups go into the provider.
 */
import { createHash, createSecretKey, type KeyObject } from 'node:crypto';
import type { Router } from '@koa/router';
import type { Provider } from 'oidc-provider';
import type { JWK } from 'jose';
import type { Deps } from '../kernel/service.ts';
import { createNotifier, type Notifier } from '../kernel/notify.ts';
import { createAccountStore, type AccountStore, type Platform } from './accounts/store.ts';
import { bearerVerifier } from './self-service/bearer.ts';
import { mountAccountApi } from './self-service/api.ts';
import { createMobileChange } from './self-service/mobile.ts';
import { mountAccountPages } from './self-service/routes.ts';
import { mountDelegationPages } from './self-service/delegations.ts';
import { createDelegationStore } from './delegation/delegations.ts';
import { createSessions } from './self-service/sessions.ts';
import { ACCOUNT_CLIENT_ID } from './self-service/client.ts';
import { createCompanyStore, type CompanyStore } from './company/companies.ts';
import { createCounterPersons } from './counter/persons.ts';
import { mountCounterDesk } from './counter/desk.ts';
import { auditKey, createAuditLog } from './audit/log.ts';
import { registerDevSink } from './otp/dev-sinks.ts';
import type { SentNotice } from '../kernel/notify.ts';
import { mountInteractions } from './interactions/index.ts';
import { createQrLogins } from './interactions/qr-codes.ts';
import { createOtpService, type OtpService } from './otp/otp.ts';
import { createLoginGuard, createRateLimiter } from './protect/guard.ts';
import { createPasswordReset } from './recovery/reset.ts';
import { mountRegister } from './accounts/registration.ts';
import { createVerifier } from './verify/index.ts';
import { DELEGATION_MARKER_TTL, REVOCATION_MARKER_TTL } from './oidc/provider.ts';
import { createCertificateProof } from './company/certificate.ts';
import { createLicenceProof } from './company/licence.ts';
import { mountCompanyRoutes } from './company/routes.ts';
import type { Verifier } from './verify/verifier.ts';
import type { ParameterizedContext } from 'koa';
import type { BearerCaller } from './self-service/bearer.ts';
import type { Sessions } from './self-service/sessions.ts';
import type { AuditLog } from './audit/log.ts';
import type { RateLimiter } from './protect/guard.ts';
import { createLinkFlows } from './link/flow.ts';
import { createHandoff } from './link/handoff.ts';
import { createLinkStore } from './link/links.ts';
import { mountLinkRoutes } from './link/routes.ts';
import { createUpstreams, loadUpstreams } from './link/upstreams.ts';
import { createHomes } from './link/homes.ts';
import { createRecognition, type Recognition } from './link/recognition.ts';
import type { IdpFederation } from './oidc/federation.ts';
import { clientSecretKey, createPartnerClientStore } from './partners/clients.ts';
import type { BackchannelDelivery } from './partners/backchannel.ts';
import { networkPolicy, parseNetworks } from '../kernel/outbound.ts';
import { createConsentStore } from './partners/consents.ts';
import { adminResource, createPartnerHooks } from './partners/hooks.ts';
import { pairwiseKey } from './partners/pairwise.ts';
import { createAccountAdmin } from './admin/accounts.ts';
import { createAdminAuthenticator } from './admin/auth.ts';
import { createPolicyStore } from './admin/policies.ts';
import { mountAdmin } from './admin/routes.ts';
import { mountIdentitySubgraph } from './identity/subgraph.ts';

export interface IdentityAccounts {
  accounts: AccountStore;
  companies: CompanyStore;
  verifier: Verifier;
  otp: OtpService;
  notifier: Notifier;
  platform: Platform;
  /** R-ID-12: accounts recognised from their home platform (refresh checks, logout); undefined outside a federation. */
  recognition: Recognition | undefined;
  mount(router: Router, provider: Provider): void;
}

function derivedKey(secret: string, purpose: string): KeyObject {
  return createSecretKey(createHash('sha256').update(`${purpose}\n`).update(secret).digest());
}

export function createIdentityAccounts(deps: Deps, jwks: JWK[], o: { notifier?: Notifier; federation?: IdpFederation | null } = {}): IdentityAccounts {
  const { config, secrets, db, cache, clock, log } = deps;
  const platform: Platform = { id: config.IDP_PLATFORM_ID, tier: config.IDP_PLATFORM_TIER };
  const verifier = createVerifier(config, clock, log);
  // Factor values are hashed under a key of their own, derived from the internal secret.
  const factorKey = derivedKey(secrets.internalSecret, 'yiwang.idp.factor-key');
  const accounts = createAccountStore({ db, clock, factorKey, verifier, platform });
  const companies = createCompanyStore({ db, clock, accounts, verifier, platform });
  const notifier = o.notifier ?? createNotifier(config, log, clock);
  // Development sink only (refused in production): test helpers read registration codes from it.
  const readSink = (notifier as { read?: () => Promise<SentNotice[]> }).read;
  if (config.NODE_ENV !== 'production' && config.NOTIFY_SINK === 'dev' && readSink) registerDevSink(config.IDP_ISSUER, readSink.bind(notifier));
  const otp = createOtpService({ cache, clock, notifier, key: derivedKey(secrets.internalSecret, 'yiwang.idp.otp-key'), config });
  const protectKey = derivedKey(secrets.internalSecret, 'yiwang.idp.protect-key');
  const guard = createLoginGuard({ cache, clock, key: protectKey, config });
  const limiter = createRateLimiter({ cache, clock, key: protectKey });
  const qr = createQrLogins({ cache, clock, ttlSeconds: config.IDP_QR_TTL_SECONDS });
  const now = () => clock.now();
  // R-ID-3: trusted real-name platforms (IDP_UPSTREAMS, checked here, at start-up).
  const linking = createLinking(deps, accounts, o.federation ?? null);
  const upstreamList = () => linking.upstreams.list();

  return {
    accounts, companies, verifier, otp, notifier, platform, recognition: linking.recognition,
    mount(router, provider) {
      const sessions = createSessions({ provider, cache, clock });
      const caller = bearerVerifier({ jwks, issuer: config.IDP_ISSUER, audience: config.GATEWAY_RESOURCE, clock });
      const mobile = createMobileChange({ accounts, otp, cache, verifier, now });
      const reset = createPasswordReset({ accounts, otp, guard });
      // Counter acts and a person removing a platform link (R-ID-9): the same keyed, anchored chain as createIdentityAdmin's.
      const audit = createAuditLog(db, {
        key: auditKey(secrets.internalSecret), cache,
        onAnchorError: (e) => log.warn({ err: e instanceof Error ? e.message : String(e) }, 'audit head not anchored (the next append or verify anchors it)'),
      });
      const counter = createCounterPersons({ accounts, companies, otp, verifier, guard, now, db, audit });
      mountInteractions(router, {
        provider, accounts, key: deps.internalKey, log, cache, otp, guard, qr, issuer: config.IDP_ISSUER, trustedClients: [ACCOUNT_CLIENT_ID],
        linked: { upstreams: upstreamList, flows: linking.flows, handoff: linking.handoff, homes: linking.homes },
      });
      // R-ID-12: a hybrid city's registration is its province's.
      if (linking.homes?.hybrid) linking.mountHybridRegistration(router);
      mountRegister(router, { accounts, otp, key: deps.internalKey, log, limiter, perHour: config.IDP_REGISTER_PER_HOUR, upstreams: upstreamList });
      linking.mount(router, { sessions, limiter, caller, audit });
      linking.recognition?.chainLogout(provider);
      // R-ID-4's electronic business licence and enterprise certificate routes (/account/companies, /account/api/companies/*).
      mountCompanyRoutes(router, {
        accounts, companies, sessions, limiter, perHour: config.IDP_REGISTER_PER_HOUR, caller, key: deps.internalKey, log,
        licence: createLicenceProof({ config, clock }), certificate: createCertificateProof({ cache, clock, config }),
      });
      mountAccountApi(router, { accounts, companies, counter, mobile, sessions, qr, reset, limiter, registerPerHour: config.IDP_REGISTER_PER_HOUR, caller, log });
      mountAccountPages(router, { accounts, companies, mobile, sessions, reset, qr, key: deps.internalKey, log, issuer: config.IDP_ISSUER });
      // R-ID-2 at the service window: the counter desk pages for receiver staff (the same functions as /counter/*).
      mountCounterDesk(router, { accounts, counter, sessions, key: deps.internalKey, log });
      // R-ID-8 on the account pages: /account/delegations (the store is stateless; createIdentityAdmin builds its own for the subgraph).
      mountDelegationPages(router, { accounts, delegations: createDelegationStore({ db, clock, cache, markerTtlSeconds: DELEGATION_MARKER_TTL }), sessions, key: deps.internalKey, clock, log });
    },
  };
}

/**
 * Linked registration (R-ID-3): the configured platforms (IDP_UPSTREAMS, checked at start-up),
 * the relying-party round trip, the hand-off in the cache, the link store and the routes. With no
 * platform configured the routes still answer (UPSTREAM_UNKNOWN) and the pages offer none.
 */
function createLinking(deps: Deps, accounts: AccountStore, federation: IdpFederation | null) {
  const { config, db, cache, clock, log } = deps;
  const production = config.NODE_ENV === 'production';
  const upstreams = createUpstreams(loadUpstreams(config), { production });
  // R-ID-12: home platforms of the federation, when this IdP publishes its relying-party metadata (it serves the entity).
  const homes = federation?.servesEntity ? createHomes({
    self: federation.entity.entityId, directory: federation.directory, resolver: federation.entity.resolver, rpKeys: federation.rpKeys,
    authorityHints: federation.authorityHints, hybrid: config.IDP_PLATFORM_TIER === 'municipal' && config.IDP_BUILD_MODE === 'hybrid', production,
  }) : undefined;
  const flows = createLinkFlows({ upstreams, cache, clock, issuer: config.IDP_ISSUER, homes });
  const handoff = createHandoff(cache);
  const links = createLinkStore({ db, clock, accounts });
  const audit = createAuditLog(db, {
    key: auditKey(deps.secrets.internalSecret), cache,
    onAnchorError: (e) => log.warn({ err: e instanceof Error ? e.message : String(e) }, 'audit head not anchored (the next append or verify anchors it)'),
  });
  const recognition = homes ? createRecognition({ homes, links, cache, db, audit, clock, log, issuer: config.IDP_ISSUER, tokensKey: derivedKey(deps.secrets.keyPassphrase, 'yiwang.idp.recognition-home-tokens') }) : undefined;
  return {
    upstreams, flows, handoff, links, homes, recognition,
    /** GET /register at a hybrid city: to the province's registration page (accounts live there). */
    mountHybridRegistration(router: Router): void {
      router.get('/register', async (ctx, next) => {
        try {
          const superior = await homes!.superior();
          ctx.redirect(new URL('/register', superior.issuer).href);
        } catch {
          await next();
        }
      });
    },
    mount(router: Router, o: { sessions: Sessions; limiter: RateLimiter; audit: AuditLog; caller(ctx: ParameterizedContext): Promise<BearerCaller> }): void {
      mountLinkRoutes(router, {
        upstreams, flows, handoff, links, accounts, sessions: o.sessions, limiter: o.limiter, registerPerHour: config.IDP_REGISTER_PER_HOUR,
        caller: o.caller, key: deps.internalKey, log, audit: o.audit, now: () => clock.now(), recognition,
      });
      recognition?.mount(router, o.sessions);
    },
  };
}

/**
 * Partner sites, administration, delegation and the identity subgraph: the stores, the hooks
 * oidc/provider.ts plugs in, the admin routes and the `identity` subgraph at `/graphql`.
 */
export function createIdentityAdmin(deps: Deps, accounts: AccountStore, jwks: JWK[]) {
  const { db, clock, log, config } = deps;
  const clients = createPartnerClientStore(db, clientSecretKey(deps.secrets.keyPassphrase), networkPolicy(parseNetworks(deps.config.IDP_OUTBOUND_ALLOWED_NETWORKS)));
  const consents = createConsentStore(db);
  const policies = createPolicyStore(db);
  const audit = createAuditLog(db, {
    key: auditKey(deps.secrets.internalSecret), cache: deps.cache,
    onAnchorError: (e) => log.warn({ err: e instanceof Error ? e.message : String(e) }, 'audit head not anchored (the next append or verify anchors it)'),
  });
  const delegations = createDelegationStore({ db, clock, cache: deps.cache, markerTtlSeconds: DELEGATION_MARKER_TTL });
  const hooks = createPartnerHooks({
    issuer: config.IDP_ISSUER, clientAdapter: clients.adapter(), pairwiseKey: pairwiseKey(deps.secrets.internalSecret), consents, policies, clock,
  });
  const accountAdmin = createAccountAdmin({
    db, accounts, audit, notifier: createNotifier(config, log, clock), clock, log, revocation: { cache: deps.cache, ttlSeconds: REVOCATION_MARKER_TTL },
  });
  const authenticate = createAdminAuthenticator({ issuer: config.IDP_ISSUER, audience: adminResource(config.IDP_ISSUER), jwks, accounts, clock });
  let stopSubgraph: (() => Promise<void>) | undefined;
  return {
    hooks, clients, consents, policies, audit, accountAdmin, delegations,
    /** For oidc/provider.ts: yw_companies claim and acting-for tokens (R-ID-8). */
    memberships: (accountId: string) => delegations.memberships(accountId),
    actingFor: (accountId: string, delegationId: string) => delegations.actingFor(accountId, delegationId),
    /** Admin API and the identity subgraph (`/graphql`) on the IdP's router. */
    async mount(router: Router, provider: Provider, backchannel?: BackchannelDelivery): Promise<void> {
      const Client = provider.Client as unknown as { validate(m: Record<string, unknown>): Promise<void> };
      mountAdmin(router, { db, clock, authenticate, accountAdmin, clients, policies, audit, backchannel, validateClient: (m) => Client.validate(m) });
      const apollo = await mountIdentitySubgraph(router, { db, accounts, delegations, consents, clients, key: deps.internalKey, clock, log });
      stopSubgraph = () => apollo.stop();
    },
    async close(): Promise<void> {
      await stopSubgraph?.();
    },
  };
}

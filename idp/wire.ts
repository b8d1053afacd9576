/**
 * Wiring of issue 3's accounts half (registration, verification, SMS codes, login methods,
 * assurance, recovery, sessions, protection, account pages) into the IdP process: service.ts
 * calls `createIdentityAccounts` before building the provider and `mount` before handing the
 * rest to oidc-provider.
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
import { createQrLogins } from './interactions/qr-logins.ts';
import { createOtpService, type OtpService } from './otp/otp.ts';
import { createLoginGuard, createRateLimiter } from './protect/guard.ts';
import { createPasswordReset } from './recovery/reset.ts';
import { mountRegister } from './accounts/registration.ts';
import { createVerifier } from './verify/index.ts';
import { DELEGATION_MARKER_TTL } from './oidc/provider.ts';
import { createLinking } from './link/wire.ts';
import { createCertificateProof } from './company/certificate.ts';
import { createLicenceProof } from './company/licence.ts';
import { mountCompanyRoutes } from './company/routes.ts';
import type { Verifier } from './verify/verifier.ts';

export interface IdentityAccounts {
  accounts: AccountStore;
  companies: CompanyStore;
  verifier: Verifier;
  otp: OtpService;
  notifier: Notifier;
  platform: Platform;
  mount(router: Router, provider: Provider): void;
}

function derivedKey(secret: string, purpose: string): KeyObject {
  return createSecretKey(createHash('sha256').update(`${purpose}\n`).update(secret).digest());
}

export function createIdentityAccounts(deps: Deps, jwks: JWK[], o: { notifier?: Notifier } = {}): IdentityAccounts {
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
  const linking = createLinking(deps, accounts);
  const upstreamList = () => linking.upstreams.list();

  return {
    accounts, companies, verifier, otp, notifier, platform,
    mount(router, provider) {
      const sessions = createSessions({ provider, cache, clock });
      const caller = bearerVerifier({ jwks, issuer: config.IDP_ISSUER, audience: config.GATEWAY_RESOURCE, clock });
      const mobile = createMobileChange({ accounts, otp, cache, verifier, now });
      const reset = createPasswordReset({ accounts, otp, guard });
      // Counter acts and a person removing a platform link (R-ID-9): the same keyed, anchored chain as idp/admin/wire.ts.
      const audit = createAuditLog(db, {
        key: auditKey(secrets.internalSecret), cache,
        onAnchorError: (e) => log.warn({ err: e instanceof Error ? e.message : String(e) }, 'audit head not anchored (the next append or verify anchors it)'),
      });
      const counter = createCounterPersons({ accounts, companies, otp, verifier, guard, now, db, audit });
      mountInteractions(router, {
        provider, accounts, key: deps.internalKey, log, cache, otp, guard, qr, issuer: config.IDP_ISSUER, trustedClients: [ACCOUNT_CLIENT_ID],
        linked: { upstreams: upstreamList, flows: linking.flows, handoff: linking.handoff },
      });
      mountRegister(router, { accounts, otp, key: deps.internalKey, log, limiter, perHour: config.IDP_REGISTER_PER_HOUR, upstreams: upstreamList });
      linking.mount(router, { sessions, limiter, caller, audit });
      // R-ID-4's electronic business licence and enterprise certificate routes (/account/companies, /account/api/companies/*).
      mountCompanyRoutes(router, {
        accounts, companies, sessions, limiter, perHour: config.IDP_REGISTER_PER_HOUR, caller, key: deps.internalKey, log,
        licence: createLicenceProof({ config, clock }), certificate: createCertificateProof({ cache, clock, config }),
      });
      mountAccountApi(router, { accounts, companies, counter, mobile, sessions, qr, reset, limiter, registerPerHour: config.IDP_REGISTER_PER_HOUR, caller, log });
      mountAccountPages(router, { accounts, companies, mobile, sessions, reset, qr, key: deps.internalKey, log, issuer: config.IDP_ISSUER });
      // R-ID-2 at the service window: the counter desk pages for receiver staff (the same functions as /counter/*).
      mountCounterDesk(router, { accounts, counter, sessions, key: deps.internalKey, log });
      // R-ID-8 on the account pages: /account/delegations (the store is stateless; idp/admin/wire.ts builds its own for the subgraph).
      mountDelegationPages(router, { accounts, delegations: createDelegationStore({ db, clock, cache, markerTtlSeconds: DELEGATION_MARKER_TTL }), sessions, key: deps.internalKey, clock, log });
    },
  };
}

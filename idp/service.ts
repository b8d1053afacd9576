/**
 * The IdP process: OpenID Connect provider (oidc-provider on the kernel's Koa shell), the
 * login / consent / registration pages, and the internal account API.
 *
 * Start-up order: migrate `idp` → load (or generate once) the signing keys → seed → build the
 * provider → listen. Our routes (/healthz, /interaction, /register, /internal) are tried first;
 * everything else goes to oidc-provider (discovery, /auth, /token, /me, /jwks, …).
 */
import type { ServiceFactory } from '../kernel/service.ts';
import { createHttpApp, listen } from '../kernel/http.ts';
import { migrate } from '../kernel/migrate.ts';
import { createIdentityAccounts, createIdentityAdmin } from './wire.ts';
import { mountInternal } from './accounts/internal-api.ts';
import { loadSigningKeys } from './oidc/keys.ts';
import { IDP_MIGRATIONS, IDP_SCHEMA } from './migrations.ts';
import { createProvider } from './oidc/provider.ts';
import { seedDemoAccounts } from './accounts/seed.ts';
import { seedDemoAdmins } from './admin/seed.ts';
import { startBackchannelDelivery } from './partners/backchannel.ts';
import { createIdpFederation } from './oidc/federation.ts';

export const startIdpService: ServiceFactory = async (deps, opts) => {
  const { config, secrets, db, cache, clock, log } = deps;
  await migrate(db, IDP_SCHEMA, IDP_MIGRATIONS);
  const jwks = await loadSigningKeys(db, secrets.keyPassphrase, clock);
  // R-ID-12: in a federation, other platforms' IdPs register automatically; the Entity Configuration when the entity is this issuer.
  const federation = await createIdpFederation(deps);
  // Accounts: verification, registration, SMS codes, login methods, recovery, account pages (wire.ts);
  // with a federation also the cross-tier login through people's home platforms (idp/link/homes.ts).
  const identity = createIdentityAccounts(deps, jwks, { federation });
  const accounts = identity.accounts;
  if (opts.seed) await seedDemoAccounts(accounts, clock);
  if (opts.seed) await seedDemoAdmins(accounts);
  // Partner clients, remembered consent, client policies, administration, audit log, delegations (wire.ts).
  const identityAdmin = createIdentityAdmin(deps, accounts, jwks);

  const provider = createProvider({
    config, secrets, jwks, accounts, cache, log,
    partners: identityAdmin.hooks, memberships: identityAdmin.memberships, actingFor: identityAdmin.actingFor, federation,
    recognised: identity.recognition,
  });

  // Failed back-channel logout deliveries: logged, stored, retried with backoff.
  const backchannel = startBackchannelDelivery({
    provider, db, clock, log, maxAttempts: config.IDP_BACKCHANNEL_MAX_ATTEMPTS, intervalMs: config.IDP_BACKCHANNEL_RETRY_MS,
  });

  const { app, router } = createHttpApp({
    name: 'idp',
    log,
    trustProxy: deps.config.TRUST_PROXY,
    health: {
      database: async () => { await db.query('select 1'); return true; },
      cache: () => cache.ping(),
    },
  });
  identity.mount(router, provider);
  mountInternal(router, { accounts, key: deps.internalKey, clock, log });
  // Admin API (/admin) and the identity subgraph (/graphql).
  await identityAdmin.mount(router, provider, backchannel);
  app.use(router.routes());
  if (federation?.servesEntity) app.use(federation.router().routes());

  const oidc = provider.callback();
  app.use(async (ctx) => {
    // Hand the raw request to oidc-provider; it writes the response itself.
    ctx.respond = false;
    await oidc(ctx.req, ctx.res);
  });

  const server = await listen(app, opts.port, opts.host);
  return { name: 'idp', url: server.url, close: async () => { await backchannel.stop(); await identityAdmin.close(); await server.close(); } };
};

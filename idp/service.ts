/**
 * The IdP process: OpenID Connect provider (oidc-provider on the kernel's Koa shell), the
 * login / consent / registration pages, and the internal account API.
 *
 * Start-up order: migrate `idp` → load (or generate once) the signing keys → seed → build the
 * provider → listen. Our routes (/healthz, /interaction, /register, /internal) are tried first;
 * everything else goes to oidc-provider (discovery, /auth, /token, /me, /jwks, …).
 */
import { createHash, createSecretKey } from 'node:crypto';
import type { ServiceFactory } from '../kernel/service.ts';
import { createHttpApp, listen } from '../kernel/http.ts';
import { migrate } from '../kernel/migrate.ts';
import { createAccountStore } from './accounts.ts';
import { mountInteractions } from './interactions.ts';
import { mountInternal } from './internal.ts';
import { loadSigningKeys } from './keys.ts';
import { IDP_MIGRATIONS, IDP_SCHEMA } from './migrations.ts';
import { createProvider } from './provider.ts';
import { mountRegister } from './register.ts';
import { seedDemoAccounts } from './seed.ts';

export const startIdpService: ServiceFactory = async (deps, opts) => {
  const { config, secrets, db, cache, clock, log } = deps;
  await migrate(db, IDP_SCHEMA, IDP_MIGRATIONS);
  const jwks = await loadSigningKeys(db, secrets.keyPassphrase, clock);
  // Factor values are hashed under a key of their own, derived from the internal secret.
  const factorKey = createSecretKey(createHash('sha256').update('yiwang.idp.factor-key\n').update(secrets.internalSecret).digest());
  const accounts = createAccountStore({ db, clock, factorKey });
  if (opts.seed) await seedDemoAccounts(accounts, clock);

  const provider = createProvider({ config, secrets, jwks, accounts, cache, log });

  const { app, router } = createHttpApp({
    name: 'idp',
    log,
    health: {
      database: async () => { await db.query('select 1'); return true; },
      cache: () => cache.ping(),
    },
  });
  mountInteractions(router, { provider, accounts, key: deps.internalKey, log });
  mountRegister(router, { accounts, key: deps.internalKey, log });
  mountInternal(router, { accounts, key: deps.internalKey, clock, log });
  app.use(router.routes());

  const oidc = provider.callback();
  app.use(async (ctx) => {
    // Hand the raw request to oidc-provider; it writes the response itself.
    ctx.respond = false;
    await oidc(ctx.req, ctx.res);
  });

  const server = await listen(app, opts.port, opts.host);
  return { name: 'idp', url: server.url, close: () => server.close() };
};

/**
 * The federation entity as a service of its own (`node federation/main.ts`, FEDERATION_PORT):
 * for an authority (the national trust anchor, a province) that runs its federation endpoints
 * apart from an IdP. Needs FEDERATION_ENTITY_ID.
 */
import { AppError } from '../kernel/errors.ts';
import { createHttpApp, listen } from '../kernel/http.ts';
import type { ServiceFactory } from '../kernel/service.ts';
import { federationFromConfig } from './config.ts';
import { federationRouter } from './http.ts';

export const startFederationService: ServiceFactory = async (deps, opts) => {
  const entity = await federationFromConfig({ config: deps.config, keyPassphrase: deps.secrets.keyPassphrase, db: deps.db, cache: deps.cache, clock: deps.clock, isAuthority: true });
  if (!entity) throw new AppError('CONFIG_INVALID', 'invalid configuration: the federation service needs FEDERATION_ENTITY_ID');
  // Made now, so the first request does not pay for it and a wrong passphrase stops the start.
  await entity.keys.signingKey();
  const { app, router } = createHttpApp({ name: 'federation', log: deps.log, trustProxy: deps.config.TRUST_PROXY, health: { database: async () => (await deps.db.query('select 1')).rowCount === 1 } });
  app.use(router.routes());
  app.use(federationRouter(entity, deps.log).routes());
  const server = await listen(app, opts.port, opts.host);
  deps.log.info({ entityId: entity.entityId, trustAnchor: entity.isTrustAnchor }, 'federation entity ready');
  return { name: 'federation', url: server.url, close: () => server.close() };
};

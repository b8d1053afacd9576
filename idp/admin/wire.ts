/**
 * Builds issue 3's partner-site, administration, delegation and identity-subgraph parts of the
 * IdP from its dependencies, for idp/service.ts: the stores, the hooks idp/provider.ts plugs in,
 * the admin routes and the `identity` subgraph at `/graphql`.
 */
import { networkPolicy, parseNetworks } from '../../kernel/outbound.ts';
import type { Router } from '@koa/router';
import type { JWK } from 'jose';
import type { Provider } from 'oidc-provider';
import type { Deps } from '../../kernel/service.ts';
import { createNotifier } from '../../kernel/notify.ts';
import type { AccountStore } from '../accounts.ts';
import { auditKey, createAuditLog } from '../audit/log.ts';
import { clientSecretKey, createPartnerClientStore } from '../partners/clients.ts';
import type { BackchannelDelivery } from '../partners/backchannel.ts';
import { createConsentStore } from '../partners/consents.ts';
import { adminResource, createPartnerHooks } from '../partners/hooks.ts';
import { pairwiseKey } from '../partners/pairwise.ts';
import { createAccountAdmin } from './accounts.ts';
import { createAdminAuthenticator } from './auth.ts';
import { createPolicyStore } from './policies.ts';
import { mountAdmin } from './routes.ts';
import { createDelegationStore } from '../delegation/delegations.ts';
import { mountIdentitySubgraph } from '../identity/subgraph.ts';
import { DELEGATION_MARKER_TTL, REVOCATION_MARKER_TTL } from '../provider.ts';

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
    /** For idp/provider.ts: yw_companies claim and acting-for tokens (R-ID-8). */
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

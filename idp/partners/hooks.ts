/**
 * What idp/oidc/provider.ts plugs in for partner sites, remembered consent and client policies
 * (R-ID-10), kept here so the provider configuration stays readable:
 *
 * - `clientAdapter`: oidc-provider's `Client` model from `idp.partner_clients`.
 * - `pairwiseIdentifier`: see pairwise.ts (partners are registered with subject_type pairwise).
 * - `loadExistingGrant`: the session's grant as oidc-provider does it, then (partners only)
 *   remembered consent from `idp.consents`; before either, the client's access policy
 *   (R-ID-10) — an account of a refused kind or role ends the request with `access_denied`
 *   at the client. The policy's minimum level is not checked here but by the login prompt
 *   (`minimumLevel`, idp/interactions/acr-policy.ts), which steps the user up to it.
 * - `minimumLevel`: the policy's minimum level, an essential demand.
 * - `accountAllowed`: the same policy at the token and UserInfo endpoints (refresh after the
 *   policy changed, UserInfo with an older token).
 * - `resourceServer`: partners get no token for the graph (their subjects are pairwise; the
 *   gateway needs public ones); the admin API resource is only for the first-party portal.
 */
import type { Adapter, GrantInstance, KoaContextWithOIDC } from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../../kernel/clock.ts';
import type { AccountRecord } from '../accounts/store.ts';
import { levelOf, type Level } from '../accounts/assurance.ts';
import type { PolicyStore } from '../admin/policies.ts';
import { policyRefusal } from '../admin/policies.ts';
import type { ConsentStore } from './consents.ts';
import { pairwiseIdentifier } from './pairwise.ts';

export const isPartnerClient = (clientId: string | undefined): boolean => Boolean(clientId?.startsWith('partner-'));

/** RFC 8707 resource of the IdP's admin API (idp/admin). */
export const adminResource = (issuer: string): string => `${issuer}/admin`;
export const ADMIN_SCOPE = 'admin';

interface GrantLike extends GrantInstance {
  getOIDCScope(): string;
  resources?: Record<string, string>;
}

export interface PartnerHooksDeps {
  issuer: string;
  clientAdapter: Adapter;
  pairwiseKey: KeyObject;
  consents: ConsentStore;
  policies: PolicyStore;
  clock: Clock;
}

export function createPartnerHooks(d: PartnerHooksDeps) {
  const admin = adminResource(d.issuer);

  async function enforcePolicy(clientId: string, a: Pick<AccountRecord, 'kind' | 'roles'>, acr: string | undefined, o: { level?: boolean } = {}): Promise<string | undefined> {
    return policyRefusal(await d.policies.get(clientId), { kind: a.kind, roles: a.roles }, acr, o);
  }

  return {
    clientAdapter: d.clientAdapter,
    pairwiseIdentifier: pairwiseIdentifier(d.pairwiseKey),
    adminResource: admin,

    async loadExistingGrant(ctx: KoaContextWithOIDC): Promise<GrantInstance | undefined> {
      const oidc = ctx.oidc as KoaContextWithOIDC['oidc'] & {
        session: { accountId: string; acr?: string; grantIdFor(clientId: string): string | undefined };
        client: { clientId: string };
        result?: { consent?: { grantId?: string } };
        account?: { accountId: string; record?: AccountRecord };
        provider: { Grant: { new (init: { accountId: string; clientId: string }): GrantLike; find(id: string): Promise<GrantLike | undefined> } };
      };
      const { clientId } = oidc.client;
      const record = oidc.account?.record;
      if (record) {
        const refusal = await enforcePolicy(clientId, record, oidc.session.acr, { level: false });
        if (refusal) throw new errors.AccessDenied(refusal);
      }
      const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(clientId);
      const { accountId } = oidc.session;
      if (grantId) {
        const grant = await oidc.provider.Grant.find(grantId);
        // Consent was just given (the consent prompt resolved): remember it for this partner.
        if (grant && oidc.result?.consent && isPartnerClient(clientId)) {
          await d.consents.remember(accountId, clientId, grant.getOIDCScope().split(' ').filter(Boolean), grant.resources ?? {}, d.clock.now());
        }
        return grant;
      }
      if (!isPartnerClient(clientId)) return undefined;
      const remembered = await d.consents.find(accountId, clientId);
      if (!remembered) return undefined;
      const grant = new oidc.provider.Grant({ accountId, clientId });
      grant.addOIDCScope(remembered.scopes.join(' '));
      for (const [resource, scope] of Object.entries(remembered.resourceScopes)) grant.addResourceScope(resource, scope);
      await grant.save();
      return grant;
    },

    /** The client's policy minimum level (an essential demand at login, idp/interactions/acr-policy.ts). */
    async minimumLevel(clientId: string): Promise<Level | undefined> {
      return levelOf((await d.policies.get(clientId))?.minAcr);
    },

    /** At the token and UserInfo endpoints: false when the client's policy refuses the account now. */
    async accountAllowed(ctx: KoaContextWithOIDC | undefined, a: AccountRecord, acr: string | undefined): Promise<boolean> {
      const route = ctx?.oidc?.route;
      const clientId = ctx?.oidc?.client?.clientId;
      if (!clientId || (route !== 'token' && route !== 'userinfo')) return true;
      return !(await enforcePolicy(clientId, a, acr));
    },

    /** Which resources a client may get a token for: undefined = not this one. */
    resourceAllowed(clientId: string | undefined, resource: string, gateway: string): boolean {
      // Partners and other platforms' IdPs (federation entities, R-ID-12) get no token for the graph.
      if (resource === gateway) return !isPartnerClient(clientId) && !/^https?:\/\//i.test(clientId ?? '');
      if (resource === admin) return clientId === 'yiwang-portal';
      return false;
    },
  };
}

export type PartnerHooks = ReturnType<typeof createPartnerHooks>;

/**
 * The `identity` subgraph, served by the IdP at `/graphql` behind the same
 * gateway identity guard as every subgraph (kernel/subgraph.ts): front ends ask `me` through
 * the gateway. It owns the `Account` entity the case subgraph references
 * (`@key(fields: "id", resolvable: false)`), and the delegation operations (R-ID-8).
 *
 * Visibility: an account sees all of itself; staff see a person's kind, name, masked ID number
 * and level (what case handling needs), not their companies or delegations; anyone else
 * resolving another account gets FORBIDDEN. Full ID numbers never leave through the graph.
 */
import KoaRouter, { type Router } from '@koa/router';
import { parse } from 'graphql';
import type { ApolloServer } from '@apollo/server';
import type { Db } from '../../kernel/db.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Logger } from '../../kernel/log.ts';
import type { KeyObject } from 'node:crypto';
import { AppError } from '../../kernel/errors.ts';
import { maskIdNumber, normaliseIdNumber } from '../../kernel/ids.ts';
import { normaliseName } from '../../kernel/names.ts';
import { requirePerson, type Caller } from '../../kernel/internal-auth.ts';
import { mountSubgraph, type SubgraphContext } from '../../kernel/subgraph.ts';
import { subgraphSdl } from '../../schema/compose.ts';
import type { AccountRecord, AccountStore } from '../accounts/store.ts';
import type { Delegation, DelegationStore } from '../delegation/delegations.ts';
import type { ConsentStore } from '../partners/consents.ts';
import type { PartnerClientStore } from '../partners/clients.ts';


type Visibility = 'self' | 'staff';
interface AccountView { record: AccountRecord; visibility: Visibility }

export interface IdentityDeps {
  db: Db;
  accounts: AccountStore;
  delegations: DelegationStore;
  consents: ConsentStore;
  clients: PartnerClientStore;
  key: KeyObject;
  clock: Clock;
  log: Logger;
}

async function view(accounts: AccountStore, caller: Caller, id: string): Promise<AccountView | null> {
  if (caller.kind === 'anonymous') throw new AppError('UNAUTHENTICATED', '请先登录 / please log in');
  const visibility: Visibility | undefined = caller.sub === id ? 'self' : caller.kind === 'staff' ? 'staff' : undefined;
  if (!visibility) throw new AppError('FORBIDDEN', '无权查看该账户 / you may not see this account');
  const record = await accounts.findById(id);
  return record ? { record, visibility } : null;
}

const delegationFields = {
  status: (d: Delegation) => d.status.toUpperCase(),
};

export function identityResolvers(d: IdentityDeps) {
  const { accounts, delegations } = d;

  async function granteeId(idNumber: string, name: string): Promise<string> {
    const { rows } = await d.db.query<{ id: string; name: string }>(
      `select id, name from idp.accounts where id_number = $1 and kind = 'person' and not disabled`, [normaliseIdNumber(idNumber)]);
    const r = rows[0];
    if (!r || r.name !== normaliseName(name)) throw new AppError('NOT_FOUND', '没有与该身份证号码和姓名相符的账户 / no account matches this ID number and name');
    return r.id;
  }

  return {
    Query: {
      me: async (_: unknown, __: unknown, ctx: SubgraphContext) => (ctx.caller.kind === 'anonymous' ? null : view(accounts, ctx.caller, ctx.caller.sub)),
      actingFor: (_: unknown, __: unknown, ctx: SubgraphContext) => (ctx.caller.kind === 'person' ? ctx.caller.actingFor ?? null : null),
    },
    Mutation: {
      async grantDelegation(_: unknown, { input }: { input: Record<string, unknown> }, ctx: SubgraphContext) {
        const me = requirePerson(ctx.caller);
        const { granteeIdNumber, granteeName, ...rest } = input;
        const grantee = await granteeId(String(granteeIdNumber ?? ''), String(granteeName ?? ''));
        return delegations.grant(me.sub, { ...stripNulls(rest), granteeId: grantee });
      },
      requestDelegation: (_: unknown, { input }: { input: Record<string, unknown> }, ctx: SubgraphContext) => delegations.request(requirePerson(ctx.caller).sub, stripNulls(input)),
      decideDelegation: (_: unknown, a: { id: string; approve: boolean }, ctx: SubgraphContext) => delegations.decide(requirePerson(ctx.caller).sub, a.id, a.approve),
      changeDelegation: (_: unknown, a: { id: string; input: Record<string, unknown> }, ctx: SubgraphContext) => delegations.change(requirePerson(ctx.caller).sub, a.id, stripNulls(a.input)),
      revokeDelegation: (_: unknown, a: { id: string }, ctx: SubgraphContext) => delegations.revoke(requirePerson(ctx.caller).sub, a.id),
      withdrawConsent: (_: unknown, a: { clientId: string }, ctx: SubgraphContext) => d.consents.withdraw(requirePerson(ctx.caller).sub, a.clientId),
    },
    Account: {
      __resolveReference: (ref: { id: string }, ctx: SubgraphContext) => view(accounts, ctx.caller, ref.id),
      id: (v: AccountView) => v.record.id,
      kind: (v: AccountView) => v.record.kind.toUpperCase(),
      displayName: (v: AccountView) => v.record.name,
      maskedIdNumber: (v: AccountView) => (v.record.idNumber ? maskIdNumber(v.record.idNumber) : null),
      assuranceLevel: (v: AccountView) => v.record.assuranceLevel,
      companies: async (v: AccountView) => (v.visibility === 'self'
        ? (await delegations.memberships(v.record.id)).map((m) => ({ ...m, relation: m.relation === 'delegate' ? 'DELEGATE' : 'LEGAL_REPRESENTATIVE' }))
        : []),
      delegations: async (v: AccountView) => (v.visibility === 'self' ? delegations.visibleTo(v.record.id) : []),
      consents: async (v: AccountView) => {
        if (v.visibility !== 'self') return [];
        return Promise.all((await d.consents.list(v.record.id)).map(async (c) => ({
          clientId: c.clientId, clientName: (await d.clients.get(c.clientId))?.clientName ?? c.clientId, scopes: c.scopes, grantedAt: c.grantedAt,
        })));
      },
    },
    Delegation: {
      ...delegationFields,
      inForce: (dl: Delegation) => delegations.inForce(dl),
    },
  };
}

/** GraphQL passes absent optional input fields as absent, explicit nulls as null: treat both as absent. */
function stripNulls(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));
}

/**
 * Mount `/graphql` on the IdP's router; returns the server so the IdP can stop it. Apollo's Koa
 * middleware calls `next()` after answering, which in the IdP would fall through to
 * oidc-provider (and a 404): so the subgraph lives on a router of its own, run as a dead end.
 */
export async function mountIdentitySubgraph(router: Router, d: IdentityDeps): Promise<ApolloServer<SubgraphContext>> {
  const inner = new KoaRouter();
  const server = await mountSubgraph<SubgraphContext>(inner, {
    name: 'identity', typeDefs: parse(subgraphSdl('identity')), resolvers: identityResolvers(d) as never, key: d.key, clock: d.clock, log: d.log,
  });
  const dispatch = inner.routes();
  router.post('/graphql', (ctx) => dispatch(ctx as never, async () => undefined));
  return server;
}

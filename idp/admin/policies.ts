/**
 * Per-client access policies (R-ID-10): which account kinds, assurance levels
 * or staff roles may use a client. Stored in `idp.client_policies` and read on every
 * authorization, refresh and UserInfo request, so an administrator's change applies to the next
 * request without restarting anything and without touching other clients. No policy = anyone.
 *
 * The rules are small named checks in one table (POLICY_CHECKS); the first that fails names the
 * refusal. At the authorization endpoint a refused kind or role reaches the relying party as
 * `access_denied` with that description; the minimum level is an essential demand instead
 * (idp/interactions/acr-policy.ts): the user is stepped up when the account can reach it, and the relying
 * party gets `unmet_authentication_requirements` when it cannot. At refresh and UserInfo every
 * rule refuses (`invalid_grant`, `invalid_token`).
 */
import { z } from 'zod';
import type { Db, Queryable } from '../../kernel/db.ts';
import { badInput } from '../partners/clients.ts';

export interface ClientPolicy {
  /** Account kinds allowed (person, staff, company …); absent = all. */
  kinds?: string[] | undefined;
  /** Minimum level of assurance (urn:yiwang:loa:N); absent = any. */
  minAcr?: string | undefined;
  /** Staff roles of which the account needs at least one; absent = no role needed. */
  roles?: string[] | undefined;
}

export const PolicyInput = z.object({
  kinds: z.array(z.string().regex(/^[a-z-]{1,20}$/)).min(1).max(10).nullable().optional(),
  minAcr: z.string().regex(/^urn:yiwang:loa:[1-5]$/).nullable().optional(),
  roles: z.array(z.string().regex(/^[a-z-]{1,30}$/)).min(1).max(20).nullable().optional(),
}).strict();

/** The level number of an acr value (urn:yiwang:loa:N); 0 for anything else. */
export function loaLevel(acr: string | undefined): number {
  const m = /^urn:yiwang:loa:(\d)$/.exec(acr ?? '');
  return m ? Number(m[1]) : 0;
}

export interface PolicySubject { kind: string; roles: readonly string[] }

type Check = (p: ClientPolicy, a: PolicySubject, acr: string | undefined) => string | undefined;

/** Each check returns the refusal (zh / en) or undefined. Order = which refusal is reported. */
export const POLICY_CHECKS: ReadonlyArray<readonly [name: string, check: Check]> = [
  ['kind', (p, a) => (p.kinds && !p.kinds.includes(a.kind) ? `此应用不对该类账户开放 / this application is not open to ${a.kind} accounts` : undefined)],
  ['role', (p, a) => (p.roles && !p.roles.some((r) => a.roles.includes(r)) ? `此应用需要以下角色之一：${p.roles.join('、')} / this application needs one of the roles: ${p.roles.join(', ')}` : undefined)],
  ['level', (p, _a, acr) => (p.minAcr && loaLevel(acr) < loaLevel(p.minAcr) ? `此应用要求认证等级不低于 ${p.minAcr} / this application requires assurance level ${p.minAcr} or higher` : undefined)],
];

/** The first refusal, or undefined; `level: false` leaves the minimum level out (the login steps up to it). */
export function policyRefusal(p: ClientPolicy | undefined, a: PolicySubject, acr: string | undefined, o: { level?: boolean } = {}): string | undefined {
  if (!p) return undefined;
  for (const [name, check] of POLICY_CHECKS) {
    if (name === 'level' && o.level === false) continue;
    const why = check(p, a, acr);
    if (why) return why;
  }
  return undefined;
}

export interface PolicyStore {
  get(clientId: string): Promise<ClientPolicy | undefined>;
  /** Validates (BAD_INPUT); null fields clear that rule. Returns the stored policy. */
  set(q: Queryable, clientId: string, input: unknown, actorId: string): Promise<ClientPolicy>;
  clear(q: Queryable, clientId: string): Promise<boolean>;
}

interface Row { kinds: string[] | null; min_acr: string | null; roles: string[] | null }

export function createPolicyStore(db: Db): PolicyStore {
  return {
    async get(clientId) {
      const { rows } = await db.query<Row>('select kinds, min_acr, roles from idp.client_policies where client_id = $1', [clientId]);
      const r = rows[0];
      return r ? { kinds: r.kinds ?? undefined, minAcr: r.min_acr ?? undefined, roles: r.roles ?? undefined } : undefined;
    },
    async set(q, clientId, input, actorId) {
      const parsed = PolicyInput.safeParse(input);
      if (!parsed.success) throw badInput(parsed.error);
      const p = parsed.data;
      await q.query(
        `insert into idp.client_policies (client_id, kinds, min_acr, roles, updated_by, updated_at) values ($1, $2, $3, $4, $5, now())
         on conflict (client_id) do update set kinds = excluded.kinds, min_acr = excluded.min_acr, roles = excluded.roles,
           updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
        [clientId, p.kinds ?? null, p.minAcr ?? null, p.roles ?? null, actorId],
      );
      return { kinds: p.kinds ?? undefined, minAcr: p.minAcr ?? undefined, roles: p.roles ?? undefined };
    },
    async clear(q, clientId) {
      const { rowCount } = await q.query('delete from idp.client_policies where client_id = $1', [clientId]);
      return rowCount > 0;
    },
  };
}

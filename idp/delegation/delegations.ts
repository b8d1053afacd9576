/**
 * Delegation for legal persons (R-ID-8). A company — through its legal
 * representative (idp.companies, R-ID-4) — grants a person rights for a scope of service items
 * (item ids, or `*` for all) and a validity period. A grantee may pass the rights on, at most
 * 3 levels deep, never wider nor longer than what they hold. Operations: grant, request (the
 * person asks the company; the legal representative approves or rejects), change (scope and
 * period, by the grantor), revoke (by the grantor, the legal representative, or the grantee
 * renouncing; cascades to everything passed on from it), view.
 *
 * "In force" = status active, now within [validFrom, validUntil), company not disabled, and
 * every ancestor in force (revocation cascades, and a child's period lies within its parent's,
 * but an ancestor's period may later be shortened, so ancestors are checked each time).
 *
 * The rules are small named checks (GRANT_CHECKS) in one table; each refusal has one code.
 *
 * Acting-for tokens (R-ID-8) name a delegation and carry its end and the instant it last changed;
 * a revoke (with its cascade) or a change writes a marker to the shared cache in the same
 * transaction (kernel/delegation-markers.ts), so the gateway refuses such tokens within seconds.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Db, Queryable } from '../../kernel/db.ts';
import type { Cache } from '../../kernel/cache.ts';
import type { Clock } from '../../kernel/clock.ts';
import { writeDelegationMarkers, type DelegationMarker } from '../../kernel/delegation-markers.ts';
import { AppError } from '../../kernel/errors.ts';
import { isValidCreditCode } from '../../kernel/ids.ts';
import { badInput } from '../partners/clients.ts';

export const MAX_DELEGATION_LEVEL = 3;
export const ALL_ITEMS = '*';

export type DelegationStatus = 'requested' | 'active' | 'rejected' | 'revoked';

export interface Delegation {
  id: string;
  companyCreditCode: string;
  companyName: string;
  grantorId: string;
  granteeId: string;
  granteeName: string;
  parentId: string | null;
  level: number;
  scope: string[];
  validFrom: string;
  validUntil: string;
  status: DelegationStatus;
  createdAt: string;
  /** Last change of status, scope or period. */
  updatedAt: string;
  revokedAt: string | null;
}

const iso = z.iso.datetime({ offset: true });
const scope = z.array(z.string().regex(/^(\*|[0-9A-Za-z-]{1,64})$/)).min(1).max(200);

export const GrantInput = z.object({
  company: z.string().refine(isValidCreditCode, 'invalid credit code'),
  granteeId: z.uuid(),
  scope,
  validFrom: iso.optional(),
  validUntil: iso,
}).strict();

export const RequestInput = z.object({
  company: z.string().refine(isValidCreditCode, 'invalid credit code'),
  scope,
  validFrom: iso.optional(),
  validUntil: iso,
}).strict();

export const ChangeInput = z.object({ scope: scope.optional(), validUntil: iso.optional() }).strict();

interface Row {
  id: string; company_credit_code: string; company_name: string; grantor_account_id: string; grantee_account_id: string; grantee_name: string;
  parent_id: string | null; level: number; scope: string[]; valid_from: Date | string; valid_until: Date | string; status: DelegationStatus;
  created_at: Date | string; updated_at: Date | string; revoked_at: Date | string | null; company_disabled: boolean;
}

const SELECT = `select d.*, c.name as company_name, c.disabled as company_disabled, a.name as grantee_name
  from idp.delegations d join idp.companies c on c.credit_code = d.company_credit_code join idp.accounts a on a.id = d.grantee_account_id`;

const t = (v: Date | string) => new Date(v).toISOString();
function toDelegation(r: Row): Delegation {
  return {
    id: r.id, companyCreditCode: r.company_credit_code, companyName: r.company_name, grantorId: r.grantor_account_id, granteeId: r.grantee_account_id,
    granteeName: r.grantee_name, parentId: r.parent_id, level: Number(r.level), scope: r.scope, validFrom: t(r.valid_from), validUntil: t(r.valid_until),
    status: r.status, createdAt: t(r.created_at), updatedAt: t(r.updated_at), revokedAt: r.revoked_at ? t(r.revoked_at) : null,
  };
}

/** Is `inner` within `outer` (scope ⊆, period ⊆)? */
export function covers(outer: Pick<Delegation, 'scope' | 'validFrom' | 'validUntil'>, inner: Pick<Delegation, 'scope' | 'validFrom' | 'validUntil'>): boolean {
  const scopeOk = outer.scope.includes(ALL_ITEMS) || (!inner.scope.includes(ALL_ITEMS) && inner.scope.every((s) => outer.scope.includes(s)));
  return scopeOk && Date.parse(inner.validFrom) >= Date.parse(outer.validFrom) && Date.parse(inner.validUntil) <= Date.parse(outer.validUntil);
}

/** What a new grant is checked against: who grants, through what (a held delegation), when. */
interface GrantContext {
  grantorId: string;
  granteeId: string;
  /** The grantor is the company's legal representative (a level-1 grant). */
  isLegalRep: boolean;
  /** The delegation the grantor passes on (levels 2 and 3). */
  parent: Delegation | undefined;
  parentInForce: boolean;
  validFrom: string;
  validUntil: string;
  scope: string[];
  now: Date;
}

type GrantCheck = (c: GrantContext) => AppError | undefined;

export const GRANT_CHECKS: ReadonlyArray<readonly [string, GrantCheck]> = [
  ['not to oneself', (c) => (c.granteeId === c.grantorId ? new AppError('BAD_INPUT', '不能授权给自己 / you cannot delegate to yourself', { fields: ['granteeId'] }) : undefined)],
  ['period', (c) => (Date.parse(c.validUntil) <= Date.parse(c.validFrom) || Date.parse(c.validUntil) <= c.now.getTime()
    ? new AppError('BAD_INPUT', '有效期不正确 / the validity period is not valid', { fields: ['validFrom', 'validUntil'] }) : undefined)],
  ['grantor holds rights', (c) => (!c.isLegalRep && !c.parent
    ? new AppError('FORBIDDEN', '您不是该企业的法定代表人，也没有可转授的授权 / you neither represent this company nor hold a delegation from it') : undefined)],
  ['parent in force', (c) => (c.parent && !c.parentInForce ? new AppError('DELEGATION_INVALID', '您持有的授权已失效 / the delegation you hold is not in force') : undefined)],
  ['depth', (c) => (c.parent && c.parent.level >= MAX_DELEGATION_LEVEL
    ? new AppError('DELEGATION_DEPTH_EXCEEDED', `授权最多可转授 ${MAX_DELEGATION_LEVEL} 级 / a delegation may be passed on at most ${MAX_DELEGATION_LEVEL} levels`) : undefined)],
  ['within parent', (c) => (c.parent && !covers(c.parent, c)
    ? new AppError('DELEGATION_INVALID', '转授的范围或期限不能超出您持有的授权 / a delegation passed on cannot be wider or longer than the one you hold') : undefined)],
];

/**
 * What an acting-for token says (`yw_act`): the company, the items, the delegation, when it ends
 * (the earliest end along its chain) and when it last changed (epoch ms), for the gateway's checks.
 */
export interface ActingFor { company: string; scope: string[]; delegationId: string; validUntil: string; changedAt: number }

export interface DelegationStoreDeps {
  db: Db;
  clock: Clock;
  /** Where revoke and change markers go (kernel/delegation-markers.ts): the cache the gateway reads. */
  cache: Cache;
  /** How long a marker lives: at least the longest access-token lifetime. */
  markerTtlSeconds: number;
}

export function createDelegationStore(d: DelegationStoreDeps) {
  const { db, clock } = d;

  /** Markers for the gateway, inside the caller's transaction (a cache failure rolls it back). */
  async function mark(markers: Array<readonly [string, DelegationMarker]>): Promise<void> {
    try {
      await writeDelegationMarkers(d.cache, markers, d.markerTtlSeconds);
    } catch {
      throw new AppError('SERVICE_UNAVAILABLE', '缓存服务暂不可用，授权未变更，请稍后再试 / the shared cache is unavailable; nothing was changed, try again later');
    }
  }

  async function get(q: Queryable, id: string, lock = false): Promise<Delegation & { companyDisabled: boolean } | undefined> {
    if (!z.uuid().safeParse(id).success) return undefined;
    const { rows } = await q.query<Row>(`${SELECT} where d.id = $1${lock ? ' for update of d' : ''}`, [id]);
    return rows[0] ? { ...toDelegation(rows[0]), companyDisabled: rows[0].company_disabled } : undefined;
  }

  async function legalRepOf(q: Queryable, creditCode: string): Promise<string | undefined> {
    const { rows } = await q.query<{ legal_rep_account_id: string; disabled: boolean }>(
      'select legal_rep_account_id, disabled from idp.companies where credit_code = $1', [creditCode]);
    const r = rows[0];
    if (!r) throw new AppError('NOT_FOUND', '企业未注册 / no such company');
    return r.disabled ? undefined : r.legal_rep_account_id;
  }

  /** In force now: this one and every ancestor. */
  async function inForce(q: Queryable, dl: Delegation & { companyDisabled?: boolean }, now = clock.now()): Promise<boolean> {
    return (await endInForce(q, dl, now)) !== undefined;
  }

  /** When the chain ends (the earliest validUntil of it and its ancestors, epoch ms), if in force now. */
  async function endInForce(q: Queryable, dl: Delegation & { companyDisabled?: boolean }, now = clock.now()): Promise<number | undefined> {
    let end = Infinity;
    let cur: (Delegation & { companyDisabled?: boolean }) | undefined = dl;
    while (cur) {
      const ok = cur.status === 'active' && !cur.companyDisabled && Date.parse(cur.validFrom) <= now.getTime() && now.getTime() < Date.parse(cur.validUntil);
      if (!ok) return undefined;
      end = Math.min(end, Date.parse(cur.validUntil));
      cur = cur.parentId ? await get(q, cur.parentId) : undefined;
    }
    return end;
  }

  /** The delegation `accountId` holds for `company` that covers the request, preferring the shallowest. */
  async function heldBy(q: Queryable, accountId: string, company: string, want: Pick<Delegation, 'scope' | 'validFrom' | 'validUntil'>): Promise<{ parent?: Delegation; inForce: boolean }> {
    const { rows } = await q.query<Row>(`${SELECT} where d.grantee_account_id = $1 and d.company_credit_code = $2 and d.status = 'active' order by d.level, d.created_at`, [accountId, company]);
    const held = rows.map((r) => ({ ...toDelegation(r), companyDisabled: r.company_disabled }));
    for (const h of held) if (covers(h, want) && await inForce(q, h)) return { parent: h, inForce: true };
    // None in force covering it: report against the first held (depth or scope refusal), if any.
    const first = held.find((h) => covers(h, want)) ?? held[0];
    return first ? { parent: first, inForce: await inForce(q, first) } : { inForce: false };
  }

  async function ensurePerson(q: Queryable, accountId: string): Promise<void> {
    const { rows } = await q.query<{ kind: string; disabled: boolean }>('select kind, disabled from idp.accounts where id = $1', [accountId]);
    if (!rows[0] || rows[0].kind !== 'person' || rows[0].disabled) throw new AppError('NOT_FOUND', '被授权人账户不存在 / no such person account');
  }

  async function insert(q: Queryable, v: { company: string; grantorId: string; granteeId: string; parentId: string | null; level: number; scope: string[]; validFrom: string; validUntil: string; status: DelegationStatus }): Promise<string> {
    const id = randomUUID();
    const now = clock.now().toISOString();
    await q.query(
      `insert into idp.delegations (id, company_credit_code, grantor_account_id, grantee_account_id, parent_id, level, scope, valid_from, valid_until, status, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`,
      [id, v.company, v.grantorId, v.granteeId, v.parentId, v.level, [...new Set(v.scope)], v.validFrom, v.validUntil, v.status, now],
    );
    return id;
  }

  return {
    get: (id: string) => get(db, id),

    /** Grant (legal representative: level 1; a grantee: one level below what they hold). */
    async grant(grantorId: string, input: unknown): Promise<Delegation> {
      const parsed = GrantInput.safeParse(input);
      if (!parsed.success) throw badInput(parsed.error);
      const p = parsed.data;
      const now = clock.now();
      const id = await db.tx(async (q) => {
        await ensurePerson(q, p.granteeId);
        const validFrom = p.validFrom ?? now.toISOString();
        const isLegalRep = (await legalRepOf(q, p.company)) === grantorId;
        const held = isLegalRep ? { inForce: true } : await heldBy(q, grantorId, p.company, { scope: p.scope, validFrom, validUntil: p.validUntil });
        const c: GrantContext = { grantorId, granteeId: p.granteeId, isLegalRep, parent: held.parent, parentInForce: held.inForce, validFrom, validUntil: p.validUntil, scope: p.scope, now };
        for (const [, check] of GRANT_CHECKS) {
          const refusal = check(c);
          if (refusal) throw refusal;
        }
        return insert(q, {
          company: p.company, grantorId, granteeId: p.granteeId, parentId: isLegalRep ? null : held.parent!.id, level: isLegalRep ? 1 : held.parent!.level + 1,
          scope: p.scope, validFrom, validUntil: p.validUntil, status: 'active',
        });
      });
      return (await get(db, id))!;
    },

    /** A person asks the company (its legal representative decides). */
    async request(granteeId: string, input: unknown): Promise<Delegation> {
      const parsed = RequestInput.safeParse(input);
      if (!parsed.success) throw badInput(parsed.error);
      const p = parsed.data;
      const now = clock.now();
      const validFrom = p.validFrom ?? now.toISOString();
      if (Date.parse(p.validUntil) <= Math.max(Date.parse(validFrom), now.getTime())) {
        throw new AppError('BAD_INPUT', '有效期不正确 / the validity period is not valid', { fields: ['validFrom', 'validUntil'] });
      }
      const id = await db.tx(async (q) => {
        const rep = await legalRepOf(q, p.company);
        if (!rep) throw new AppError('NOT_FOUND', '企业已停用 / the company is disabled');
        if (rep === granteeId) throw new AppError('BAD_INPUT', '法定代表人无需申请授权 / the legal representative needs no delegation', { fields: ['company'] });
        return insert(q, { company: p.company, grantorId: rep, granteeId, parentId: null, level: 1, scope: p.scope, validFrom, validUntil: p.validUntil, status: 'requested' });
      });
      return (await get(db, id))!;
    },

    /** The legal representative approves or rejects a request. */
    async decide(actorId: string, id: string, approve: boolean): Promise<Delegation> {
      await db.tx(async (q) => {
        const dl = await get(q, id, true);
        if (!dl || (dl.grantorId !== actorId && dl.granteeId !== actorId)) throw new AppError('NOT_FOUND', '没有这项授权 / no such delegation');
        if (dl.grantorId !== actorId) throw new AppError('FORBIDDEN', '只有法定代表人可以审批 / only the legal representative decides');
        if (dl.status !== 'requested') throw new AppError('CONFLICT', '申请已处理 / the request has been decided');
        if ((await legalRepOf(q, dl.companyCreditCode)) !== actorId) throw new AppError('FORBIDDEN', '只有法定代表人可以审批 / only the legal representative decides');
        await q.query('update idp.delegations set status = $2, updated_at = $3 where id = $1', [id, approve ? 'active' : 'rejected', clock.now().toISOString()]);
      });
      return (await get(db, id))!;
    },

    /** The grantor changes scope or period; never wider than their own, never narrower than what was passed on. */
    async change(actorId: string, id: string, input: unknown): Promise<Delegation> {
      const parsed = ChangeInput.safeParse(input);
      if (!parsed.success) throw badInput(parsed.error);
      await db.tx(async (q) => {
        const dl = await get(q, id, true);
        if (!dl || (dl.grantorId !== actorId && dl.granteeId !== actorId)) throw new AppError('NOT_FOUND', '没有这项授权 / no such delegation');
        if (dl.grantorId !== actorId) throw new AppError('FORBIDDEN', '只有授权人可以变更 / only the grantor may change a delegation');
        if (dl.status !== 'active') throw new AppError('DELEGATION_INVALID', '授权已失效 / the delegation is not in force');
        const next = { scope: parsed.data.scope ?? dl.scope, validFrom: dl.validFrom, validUntil: parsed.data.validUntil ?? dl.validUntil };
        if (Date.parse(next.validUntil) <= Date.parse(next.validFrom)) throw new AppError('BAD_INPUT', '有效期不正确 / the validity period is not valid', { fields: ['validUntil'] });
        const parent = dl.parentId ? await get(q, dl.parentId) : undefined;
        if (parent && !covers(parent, next)) throw new AppError('DELEGATION_INVALID', '不能超出您持有的授权 / cannot be wider or longer than the one you hold');
        const { rows } = await q.query<Row>(`${SELECT} where d.parent_id = $1 and d.status = 'active'`, [id]);
        if (rows.some((r) => !covers(next, toDelegation(r)))) {
          throw new AppError('CONFLICT', '已转授的授权超出变更后的范围，请先撤销 / rights already passed on exceed the change: revoke them first');
        }
        const at = clock.now();
        await q.query('update idp.delegations set scope = $2, valid_until = $3, updated_at = $4 where id = $1', [id, next.scope, next.validUntil, at.toISOString()]);
        // Tokens minted before carry the old scope or period: the gateway refuses them from now on.
        await mark([[id, { changedAt: at.getTime() }]]);
      });
      return (await get(db, id))!;
    },

    /** Revoke, cascading to everything passed on from it. Returns the ids revoked. */
    async revoke(actorId: string, id: string): Promise<string[]> {
      return db.tx(async (q) => {
        const dl = await get(q, id, true);
        if (!dl) throw new AppError('NOT_FOUND', '没有这项授权 / no such delegation');
        const rep = await legalRepOf(q, dl.companyCreditCode).catch(() => undefined);
        if (actorId !== dl.grantorId && actorId !== dl.granteeId && actorId !== rep) throw new AppError('NOT_FOUND', '没有这项授权 / no such delegation');
        if (dl.status === 'revoked' || dl.status === 'rejected') throw new AppError('CONFLICT', '授权已撤销 / the delegation has already ended');
        const { rows } = await q.query<{ id: string }>(
          `with recursive tree as (select id from idp.delegations where id = $1
             union all select d.id from idp.delegations d join tree on d.parent_id = tree.id)
           update idp.delegations set status = 'revoked', revoked_at = $2, revoked_by = $3, updated_at = $2
           where id in (select id from tree) and status in ('active', 'requested') returning id`,
          [id, clock.now().toISOString(), actorId],
        );
        // The gateway refuses tokens acting under any of them within seconds (not at their expiry).
        await mark(rows.map((r) => [r.id, { revoked: true }] as const));
        return rows.map((r) => r.id);
      });
    },

    /** Delegations the person holds, granted, or (as legal representative) of their companies. */
    async visibleTo(accountId: string): Promise<Delegation[]> {
      const { rows } = await db.query<Row>(
        `${SELECT} where d.grantee_account_id = $1 or d.grantor_account_id = $1 or c.legal_rep_account_id = $1 order by d.created_at, d.id`, [accountId]);
      return rows.map(toDelegation);
    },

    inForce: (dl: Delegation) => inForce(db, dl),

    /** For a token: the delegation must be the person's own and in force (DELEGATION_INVALID otherwise). */
    async actingFor(accountId: string, delegationId: string): Promise<ActingFor> {
      const dl = await get(db, delegationId);
      const end = dl && dl.granteeId === accountId ? await endInForce(db, dl) : undefined;
      if (!dl || end === undefined) {
        throw new AppError('DELEGATION_INVALID', '授权不存在或已失效 / the delegation does not exist or is not in force');
      }
      return { company: dl.companyCreditCode, scope: dl.scope, delegationId: dl.id, validUntil: new Date(end).toISOString(), changedAt: Date.parse(dl.updatedAt) };
    },

    /** Companies a person belongs to: as legal representative, or through a delegation in force. */
    async memberships(accountId: string): Promise<Array<{ creditCode: string; name: string; relation: 'legal-representative' | 'delegate' }>> {
      const { rows: reps } = await db.query<{ credit_code: string; name: string }>(
        'select credit_code, name from idp.companies where legal_rep_account_id = $1 and not disabled order by credit_code', [accountId]);
      const out: Array<{ creditCode: string; name: string; relation: 'legal-representative' | 'delegate' }> = reps.map((r) => ({ creditCode: r.credit_code, name: r.name, relation: 'legal-representative' as const }));
      const { rows } = await db.query<Row>(`${SELECT} where d.grantee_account_id = $1 and d.status = 'active' order by d.level`, [accountId]);
      for (const r of rows) {
        const dl = { ...toDelegation(r), companyDisabled: r.company_disabled };
        if (out.some((o) => o.creditCode === dl.companyCreditCode)) continue;
        if (await inForce(db, dl)) out.push({ creditCode: dl.companyCreditCode, name: dl.companyName, relation: 'delegate' });
      }
      return out;
    },
  };
}

export type DelegationStore = ReturnType<typeof createDelegationStore>;

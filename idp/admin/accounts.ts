/**
 * Account administration (R-ID-9):
 *
 * - open: an administrator opens a staff account (agency, roles) with a random initial password
 *   shown once; the response carries the service agreement version to print for signature.
 * - disable: the account stops working at once (login refused, refresh and UserInfo refused,
 *   its sessions find no account); the person is notified by SMS (kernel/notify.ts) after the
 *   change is committed.
 * - re-enable: two people. An `admin` asks (with a reason); a **different** staff member with the
 *   `department-head` role approves (SECOND_APPROVER_REQUIRED otherwise) or rejects.
 *
 * Each act and its audit entry (idp/audit/log.ts) are one transaction.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../../kernel/db.ts';
import { pgCode } from '../../kernel/db.ts';
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import { isValidCreditCode } from '../../kernel/ids.ts';
import { isValidName, normaliseName } from '../../kernel/names.ts';
import type { Logger } from '../../kernel/log.ts';
import type { Notifier } from '../../kernel/notify.ts';
import { AGREEMENT, type AccountStore } from '../accounts/store.ts';
import { hashPassword } from '../accounts/password.ts';
import { PROOFING_LEVEL } from '../accounts/assurance.ts';
import type { AuditLog } from '../audit/log.ts';
import { badInput } from '../partners/clients.ts';
import type { Admin } from './auth.ts';
import type { Cache } from '../../kernel/cache.ts';
import { markAccountDisabled } from '../oidc/revocation-markers.ts';

export const OpenStaffInput = z.object({
  username: z.string().regex(/^[a-z][a-z0-9-]{2,31}$/),
  name: z.string().transform(normaliseName).refine((n) => isValidName(n), 'a name of 1 to 50 characters without invisible, format or control characters'),
  agencyCode: z.string().refine(isValidCreditCode, 'invalid credit code'),
  roles: z.array(z.enum(['receiver', 'acceptor', 'reviewer', 'decider', 'admin', 'department-head'])).max(6),
  mobile: z.string().regex(/^1\d{10}$/).optional(),
}).strict();

export interface EnableRequest {
  id: string; accountId: string; requestedBy: string; reason: string; status: 'pending' | 'approved' | 'rejected';
  decidedBy: string | null; decidedAt: string | null; createdAt: string;
}

interface RequestRow {
  id: string; account_id: string; requested_by: string; reason: string; status: EnableRequest['status'];
  decided_by: string | null; decided_at: Date | string | null; created_at: Date | string;
}

const toRequest = (r: RequestRow): EnableRequest => ({
  id: r.id, accountId: r.account_id, requestedBy: r.requested_by, reason: r.reason, status: r.status,
  decidedBy: r.decided_by, decidedAt: r.decided_at ? new Date(r.decided_at).toISOString() : null, createdAt: new Date(r.created_at).toISOString(),
});

/** Random initial password meeting the policy (upper, lower, digit, symbol; 16 characters). */
export function initialPassword(): string {
  return `Yw#${randomBytes(12).toString('base64url')}9a`;
}

export function createAccountAdmin(d: {
  db: Db; accounts: AccountStore; audit: AuditLog; notifier: Notifier; clock: Clock; log: Logger;
  /** Where a disable marks the account so that its access tokens end at the gateway (idp/oidc/revocation-markers.ts). */
  revocation?: { cache: Cache; ttlSeconds: number };
}) {
  const { db, audit, clock } = d;
  const reason = (body: unknown): string => {
    const r = typeof (body as { reason?: unknown })?.reason === 'string' ? (body as { reason: string }).reason.trim() : '';
    if (!r || r.length > 500) throw new AppError('BAD_INPUT', '请填写理由 / a reason is required', { fields: ['reason'] });
    return r;
  };
  async function existing(accountId: string) {
    const a = await d.accounts.findById(accountId);
    if (!a) throw new AppError('NOT_FOUND', '账户不存在 / no such account');
    return a;
  }

  return {
    async openStaff(admin: Admin, body: unknown) {
      const parsed = OpenStaffInput.safeParse(body);
      if (!parsed.success) throw badInput(parsed.error);
      const p = parsed.data;
      const id = randomUUID();
      const password = initialPassword();
      const hash = await hashPassword(password);
      const at = clock.now();
      try {
        await db.tx(async (q) => {
          await q.query(
            // Staff are proven in person by their agency; the initial password must be changed at first login.
            `insert into idp.accounts (id, kind, name, username, mobile, agency_code, roles, password_hash, created_at, proofing, assurance_level, must_change_password)
             values ($1, 'staff', $2, $3, $4, $5, $6, $7, $8, 'staff', $9, true)`,
            [id, p.name, p.username, p.mobile ?? null, p.agencyCode, p.roles, hash, at.toISOString(), PROOFING_LEVEL.staff],
          );
          await audit.append(q, { actorId: admin.id, action: 'account.open', target: id, details: { kind: 'staff', username: p.username, agencyCode: p.agencyCode, roles: p.roles } }, at);
        });
      } catch (e) {
        if (pgCode(e) === '23505') throw new AppError('ACCOUNT_EXISTS', '用户名或手机号码已被使用 / the username or mobile number is taken');
        throw e;
      }
      return { id, username: p.username, initialPassword: password, agreement: { version: AGREEMENT.version, title: AGREEMENT.title } };
    },

    async disable(admin: Admin, accountId: string, body: unknown) {
      const why = reason(body);
      const a = await existing(accountId);
      if (a.id === admin.id) throw new AppError('FORBIDDEN', '不能停用自己的账户 / administrators cannot disable their own account');
      const at = clock.now();
      await db.tx(async (q) => {
        const { rowCount } = await q.query('update idp.accounts set disabled = true where id = $1 and not disabled', [a.id]);
        if (!rowCount) throw new AppError('CONFLICT', '账户已是停用状态 / the account is already disabled');
        await audit.append(q, { actorId: admin.id, action: 'account.disable', target: a.id, details: { reason: why } }, at);
        // Before the commit: the account's access tokens stop at the gateway within seconds.
        if (d.revocation) await markAccountDisabled(d.revocation.cache, a.id, at, d.revocation.ttlSeconds);
      });
      // After the commit: a notice about a change that did not happen would be worse than none.
      if (a.mobile) {
        await d.notifier.send({
          to: a.mobile, template: 'account.disabled',
          text: '【一网通办】您的账户已被管理员停用，如有疑问请联系服务窗口。/ Your Yiwang account has been disabled by an administrator.',
        }).catch((err: unknown) => d.log.warn({ err, accountId: a.id }, 'disable notice not sent'));
      }
      return { id: a.id, disabled: true };
    },

    async requestEnable(admin: Admin, accountId: string, body: unknown): Promise<EnableRequest> {
      const why = reason(body);
      const a = await existing(accountId);
      if (!a.disabled) throw new AppError('CONFLICT', '账户未被停用 / the account is not disabled');
      const id = randomUUID();
      const at = clock.now();
      try {
        await db.tx(async (q) => {
          await q.query(
            `insert into idp.enable_requests (id, account_id, requested_by, reason, status, created_at) values ($1, $2, $3, $4, 'pending', $5)`,
            [id, a.id, admin.id, why, at.toISOString()],
          );
          await audit.append(q, { actorId: admin.id, action: 'account.enable.request', target: a.id, details: { requestId: id, reason: why } }, at);
        });
      } catch (e) {
        if (pgCode(e) === '23505') throw new AppError('CONFLICT', '已有待审批的启用申请 / a re-enable request is already pending');
        throw e;
      }
      return (await this.getRequest(id))!;
    },

    async getRequest(id: string): Promise<EnableRequest | undefined> {
      if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
      const { rows } = await db.query<RequestRow>('select * from idp.enable_requests where id = $1', [id]);
      return rows[0] ? toRequest(rows[0]) : undefined;
    },

    async listRequests(status?: string): Promise<EnableRequest[]> {
      const { rows } = status
        ? await db.query<RequestRow>('select * from idp.enable_requests where status = $1 order by created_at', [status])
        : await db.query<RequestRow>('select * from idp.enable_requests order by created_at');
      return rows.map(toRequest);
    },

    /** The second person: a department head other than the requester approves or rejects. */
    async decide(head: Admin, requestId: string, decision: 'approve' | 'reject'): Promise<EnableRequest> {
      const at = clock.now();
      await db.tx(async (q) => {
        const { rows } = await q.query<RequestRow>('select * from idp.enable_requests where id = $1 for update', [requestId]);
        const r = rows[0];
        if (!r) throw new AppError('NOT_FOUND', '没有这项申请 / no such request');
        if (r.status !== 'pending') throw new AppError('CONFLICT', '申请已处理 / the request has already been decided');
        if (r.requested_by === head.id) {
          throw new AppError('SECOND_APPROVER_REQUIRED', '申请人不能审批自己的申请，需另一名部门负责人审批 / the requester cannot approve their own request: another department head must');
        }
        await q.query('update idp.enable_requests set status = $2, decided_by = $3, decided_at = $4 where id = $1',
          [r.id, decision === 'approve' ? 'approved' : 'rejected', head.id, at.toISOString()]);
        if (decision === 'approve') await q.query('update idp.accounts set disabled = false where id = $1', [r.account_id]);
        await audit.append(q, { actorId: head.id, action: `account.enable.${decision}`, target: r.account_id, details: { requestId: r.id, requestedBy: r.requested_by } }, at);
      });
      return (await this.getRequest(requestId))!;
    },
  };
}

export type AccountAdmin = ReturnType<typeof createAccountAdmin>;

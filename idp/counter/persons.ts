/**
 * Counter registration of natural persons (R-ID-2, G 5.1.2(1)② 线下窗口注册), by staff with the
 * `receiver` role (the service window):
 *
 * 1. `start`: staff have read the ID card; name + ID number must match the population registry;
 *    the account is created `pending` (no password) and an SMS code goes to the applicant's mobile.
 * 2. `activate`: the applicant tells staff the code; it must be right (OTP_INVALID …); the
 *    account becomes active with a random initial password (shown once, for staff to hand over;
 *    never stored or logged in clear), which must be changed at first login (idp/interactions/change-password.ts).
 *
 * Counter-registered accounts are L5 (proven in person); login name = ID number (or the mobile).
 *
 * `resetPassword` is R-ID-6's counter route (G 5.1.2(2)① 凭身份证到窗口): staff check the ID card,
 * the population registry confirms it, and the person gets a new random password to change at
 * the next login; a brute-force lock on the account is lifted.
 *
 * Staff see the registrations they started that wait for the applicant's code (`pending`) and
 * may send a new code (`resendCode`, throttled like every code); the staff pages
 * (idp/counter/desk.ts) and the JSON API (idp/self-service/api.ts) call the same functions.
 *
 * Every act (start, resend, activate, password reset, company registered at the counter) is an
 * administrative act: its audit entry is written in the same transaction as the act (R-ID-9,
 * idp/audit/log.ts), with ids and masked values only. The staff account is read afresh on every
 * request, so a disabled staff member or a removed `receiver` role loses counter powers at once,
 * whatever the access token says (as idp/admin/auth.ts does for administrators).
 */
import { randomInt } from 'node:crypto';
import { AppError } from '../../kernel/errors.ts';
import type { Db } from '../../kernel/db.ts';
import { isValidIdNumber, isValidMobile, maskIdNumber, maskMobile, normaliseIdNumber } from '../../kernel/ids.ts';
import { isValidName, nameError, normaliseName } from '../../kernel/names.ts';
import type { AccountStore, DeclaredFactor } from '../accounts/store.ts';
import type { AuditLog } from '../audit/log.ts';
import type { Company, CompanyStore } from '../company/companies.ts';
import type { OtpService } from '../otp/otp.ts';
import type { Verifier } from '../verify/verifier.ts';
import type { BearerCaller } from '../self-service/bearer.ts';
import type { LoginGuard } from '../protect/guard.ts';


/** 12 characters from all four classes, from a CSPRNG (meets the password policy). */
export function randomInitialPassword(): string {
  const sets = ['ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnpqrstuvwxyz', '23456789', '#@%+=?!'];
  const chars = sets.map((s) => s[randomInt(s.length)]!);
  const all = sets.join('');
  while (chars.length < 12) chars.push(all[randomInt(all.length)]!);
  for (let i = chars.length - 1; i > 0; i--) { const j = randomInt(i + 1); [chars[i], chars[j]] = [chars[j]!, chars[i]!]; }
  return chars.join('');
}

const notCounterStaff = () => new AppError('FORBIDDEN', '仅窗口收件人员可办理窗口注册 / only counter (receiver) staff may register people at a counter');

/** What the token says (a first, cheap refusal); counterStaff() below is what counts. */
export function requireCounterStaff(c: BearerCaller): void {
  if (c.kind !== 'staff' || !c.roles.includes('receiver')) throw notCounterStaff();
}

/** The staff account as it is now: enabled, staff, with the `receiver` role (FORBIDDEN otherwise). */
async function counterStaff(accounts: AccountStore, c: BearerCaller): Promise<{ id: string }> {
  requireCounterStaff(c);
  const a = await accounts.findById(c.sub);
  if (!a || a.disabled || a.kind !== 'staff' || !a.roles.includes('receiver')) throw notCounterStaff();
  return { id: a.id };
}

/** A counter registration waiting for the applicant's SMS code (masked: R-ID-11). */
export interface PendingRegistration { id: string; name: string; maskedIdNumber: string; maskedMobile: string; startedAt: string }

export interface CounterPersons {
  start(staff: BearerCaller, body: unknown, source: string): Promise<{ id: string; status: 'pending' }>;
  /** Registrations this staff member started that are not activated yet, newest first. */
  pending(staff: BearerCaller): Promise<PendingRegistration[]>;
  /** A new SMS code to a pending registration's mobile (OTP_RESEND_TOO_SOON … like any code). */
  resendCode(staff: BearerCaller, id: string, source: string): Promise<void>;
  resetPassword(staff: BearerCaller, body: unknown): Promise<{ id: string; loginName: string; initialPassword: string }>;
  activate(staff: BearerCaller, id: string, code: string): Promise<{ id: string; loginName: string; initialPassword: string }>;
  /** R-ID-4 at a counter (idp/company/companies.ts), audited. */
  registerCompany(staff: BearerCaller, body: unknown): Promise<Company>;
}

export function createCounterPersons(d: {
  accounts: AccountStore; companies: CompanyStore; otp: OtpService; verifier: Verifier; guard: LoginGuard; now: () => Date; db: Db; audit: AuditLog;
}): CounterPersons {
  const { accounts, otp, verifier, db, audit } = d;
  return {
    async resetPassword(caller, body) {
      const staff = await counterStaff(accounts, caller);
      const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
      const name = normaliseName(typeof b.name === 'string' ? b.name : '');
      const idNumber = normaliseIdNumber(typeof b.idNumber === 'string' ? b.idNumber : '');
      if (!isValidIdNumber(idNumber)) throw new AppError('ID_NUMBER_INVALID', '身份证号码格式或校验位不正确 / the resident ID number is malformed or its check digit is wrong');
      const a = await accounts.findByLogin(idNumber);
      if (!a || a.kind !== 'person' || a.name !== name || a.status !== 'active') throw new AppError('NOT_FOUND', '没有与该身份证对应的账户 / no account for this ID card');
      if (await verifier.person({ name, idNumber }) !== 'match') {
        throw new AppError('FACTOR_UNVERIFIED', '姓名与身份证号码未通过人口库核验 / the name and resident ID number could not be verified with the population registry');
      }
      const initialPassword = randomInitialPassword();
      await db.tx(async (q) => {
        await accounts.setPassword(a.id, initialPassword, { mustChange: true, q });
        await audit.append(q, { actorId: staff.id, action: 'counter.password-reset', target: a.id, details: { idNumber: maskIdNumber(idNumber) } }, d.now());
      });
      await d.guard.succeeded(a.id);
      return { id: a.id, loginName: idNumber, initialPassword };
    },

    async start(caller, body, source) {
      const staff = await counterStaff(accounts, caller);
      const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
      const name = normaliseName(typeof b.name === 'string' ? b.name : '');
      const idNumber = normaliseIdNumber(typeof b.idNumber === 'string' ? b.idNumber : '');
      const mobile = typeof b.mobile === 'string' ? b.mobile.replace(/[\s-]/g, '') : '';
      if (!isValidName(name)) throw nameError(name);
      if (!isValidIdNumber(idNumber)) throw new AppError('ID_NUMBER_INVALID', '身份证号码格式或校验位不正确 / the resident ID number is malformed or its check digit is wrong');
      if (!isValidMobile(mobile)) throw new AppError('MOBILE_INVALID', '手机号码应为 11 位大陆手机号 / the mobile number must be an 11-digit mainland number');
      if (await verifier.person({ name, idNumber }) !== 'match') {
        throw new AppError('FACTOR_UNVERIFIED', '姓名与身份证号码未通过人口库核验 / the name and resident ID number could not be verified with the population registry');
      }
      const at = d.now().toISOString();
      const factors: DeclaredFactor[] = [{ type: 'mobile', last4: mobile.slice(-4), verified: false, at, source: 'sms' }];
      const { id } = await db.tx(async (q) => {
        const created = await accounts.createPending({ name, idNumber, mobile, registeredBy: staff.id, factors }, q);
        await audit.append(q, { actorId: staff.id, action: 'counter.person.start', target: created.id, details: { idNumber: maskIdNumber(idNumber), mobileLast4: mobile.slice(-4) } }, d.now());
        return created;
      });
      await otp.send('counter', mobile, { source, subject: id });
      return { id, status: 'pending' };
    },

    async pending(caller) {
      const staff = await counterStaff(accounts, caller);
      const { rows } = await db.query<{ id: string; name: string; id_number: string; mobile: string; created_at: Date | string }>(
        `select id, name, id_number, mobile, created_at from idp.accounts
         where status = 'pending' and registered_by = $1 order by created_at desc, id limit 50`, [staff.id]);
      return rows.map((r) => ({
        id: r.id, name: r.name, maskedIdNumber: maskIdNumber(r.id_number), maskedMobile: maskMobile(r.mobile), startedAt: new Date(r.created_at).toISOString(),
      }));
    },

    async resendCode(caller, id, source) {
      const staff = await counterStaff(accounts, caller);
      const a = await accounts.findById(id);
      if (!a || a.status !== 'pending' || !a.mobile) throw new AppError('NOT_FOUND', '没有待激活的该账户 / no pending account with that id');
      await otp.send('counter', a.mobile, { source, subject: a.id });
      await db.tx((q) => audit.append(q, { actorId: staff.id, action: 'counter.person.resend', target: a.id, details: { mobileLast4: a.mobile!.slice(-4) } }, d.now()));
    },

    async activate(caller, id, code) {
      const staff = await counterStaff(accounts, caller);
      const a = await accounts.findById(id);
      if (!a || a.status !== 'pending' || !a.mobile || !a.idNumber) throw new AppError('NOT_FOUND', '没有待激活的该账户 / no pending account with that id');
      await otp.verify('counter', a.mobile, code, a.id);
      const at = d.now().toISOString();
      const factors: DeclaredFactor[] = a.factors.map((f) => (f.type === 'mobile' ? { ...f, verified: true, at, source: 'sms' } : f));
      const initialPassword = randomInitialPassword();
      await db.tx(async (q) => {
        await accounts.activate(a.id, staff.id, initialPassword, factors, q);
        await audit.append(q, { actorId: staff.id, action: 'counter.person.activate', target: a.id }, d.now());
      });
      return { id: a.id, loginName: a.idNumber, initialPassword };
    },

    async registerCompany(caller, body) {
      const staff = await counterStaff(accounts, caller);
      return d.companies.registerAtCounter(staff.id, body, (q, c) => audit.append(q, {
        actorId: staff.id, action: 'counter.company.register', target: c.id,
        details: { creditCode: c.creditCode, route: 'counter', delegateAccountId: c.delegateAccountId ?? null },
      }, d.now()).then(() => undefined));
    },
  };
}

/**
 * Counter registration of natural persons (R-ID-2, G 5.1.2(1)② 线下窗口注册), by staff with the
 * `receiver` role (the service window):
 *
 * 1. `start`: staff have read the ID card; name + ID number must match the population registry;
 *    the account is created `pending` (no password) and an SMS code goes to the applicant's mobile.
 * 2. `activate`: the applicant tells staff the code; it must be right (OTP_INVALID …); the
 *    account becomes active with a random initial password (shown once, for staff to hand over;
 *    never stored or logged in clear), which must be changed at first login (interactions.ts).
 *
 * Counter-registered accounts are L5 (proven in person); login name = ID number (or the mobile).
 *
 * `resetPassword` is R-ID-6's counter route (G 5.1.2(2)① 凭身份证到窗口): staff check the ID card,
 * the population registry confirms it, and the person gets a new random password to change at
 * the next login; a brute-force lock on the account is lifted.
 */
import { randomInt } from 'node:crypto';
import { AppError } from '../../kernel/errors.ts';
import { isValidIdNumber, isValidMobile, normaliseIdNumber } from '../../kernel/ids.ts';
import type { AccountStore, DeclaredFactor } from '../accounts.ts';
import type { OtpService } from '../otp/otp.ts';
import type { Verifier } from '../verify/verifier.ts';
import type { BearerCaller } from '../account/bearer.ts';
import type { LoginGuard } from '../protect/guard.ts';

const NAME = /^[^\p{Cc}<>]{1,50}$/u;

/** 12 characters from all four classes, from a CSPRNG (meets the password policy). */
export function randomInitialPassword(): string {
  const sets = ['ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnpqrstuvwxyz', '23456789', '#@%+=?!'];
  const chars = sets.map((s) => s[randomInt(s.length)]!);
  const all = sets.join('');
  while (chars.length < 12) chars.push(all[randomInt(all.length)]!);
  for (let i = chars.length - 1; i > 0; i--) { const j = randomInt(i + 1); [chars[i], chars[j]] = [chars[j]!, chars[i]!]; }
  return chars.join('');
}

export function requireCounterStaff(c: BearerCaller): void {
  if (c.kind !== 'staff' || !c.roles.includes('receiver')) {
    throw new AppError('FORBIDDEN', '仅窗口收件人员可办理窗口注册 / only counter (receiver) staff may register people at a counter');
  }
}

export interface CounterPersons {
  start(staff: BearerCaller, body: unknown, source: string): Promise<{ id: string; status: 'pending' }>;
  resetPassword(staff: BearerCaller, body: unknown): Promise<{ id: string; loginName: string; initialPassword: string }>;
  activate(staff: BearerCaller, id: string, code: string): Promise<{ id: string; loginName: string; initialPassword: string }>;
}

export function createCounterPersons(d: { accounts: AccountStore; otp: OtpService; verifier: Verifier; guard: LoginGuard; now: () => Date }): CounterPersons {
  const { accounts, otp, verifier } = d;
  return {
    async resetPassword(staff, body) {
      requireCounterStaff(staff);
      const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
      const name = typeof b.name === 'string' ? b.name.trim() : '';
      const idNumber = normaliseIdNumber(typeof b.idNumber === 'string' ? b.idNumber : '');
      if (!isValidIdNumber(idNumber)) throw new AppError('ID_NUMBER_INVALID', '身份证号码格式或校验位不正确 / the resident ID number is malformed or its check digit is wrong');
      const a = await accounts.findByLogin(idNumber);
      if (!a || a.kind !== 'person' || a.name !== name || a.status !== 'active') throw new AppError('NOT_FOUND', '没有与该身份证对应的账户 / no account for this ID card');
      if (await verifier.person({ name, idNumber }) !== 'match') {
        throw new AppError('FACTOR_UNVERIFIED', '姓名与身份证号码未通过人口库核验 / the name and resident ID number could not be verified with the population registry');
      }
      const initialPassword = randomInitialPassword();
      await accounts.setPassword(a.id, initialPassword, { mustChange: true });
      await d.guard.succeeded(a.id);
      return { id: a.id, loginName: idNumber, initialPassword };
    },

    async start(staff, body, source) {
      requireCounterStaff(staff);
      const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
      const name = typeof b.name === 'string' ? b.name.trim() : '';
      const idNumber = normaliseIdNumber(typeof b.idNumber === 'string' ? b.idNumber : '');
      const mobile = typeof b.mobile === 'string' ? b.mobile.replace(/[\s-]/g, '') : '';
      if (!NAME.test(name)) throw new AppError('BAD_INPUT', '姓名格式不正确 / the name is not valid', { fields: ['name'] });
      if (!isValidIdNumber(idNumber)) throw new AppError('ID_NUMBER_INVALID', '身份证号码格式或校验位不正确 / the resident ID number is malformed or its check digit is wrong');
      if (!isValidMobile(mobile)) throw new AppError('MOBILE_INVALID', '手机号码应为 11 位大陆手机号 / the mobile number must be an 11-digit mainland number');
      if (await verifier.person({ name, idNumber }) !== 'match') {
        throw new AppError('FACTOR_UNVERIFIED', '姓名与身份证号码未通过人口库核验 / the name and resident ID number could not be verified with the population registry');
      }
      const at = d.now().toISOString();
      const factors: DeclaredFactor[] = [{ type: 'mobile', last4: mobile.slice(-4), verified: false, at, source: 'sms' }];
      const { id } = await accounts.createPending({ name, idNumber, mobile, registeredBy: staff.sub, factors });
      await otp.send('counter', mobile, { source, subject: id });
      return { id, status: 'pending' };
    },

    async activate(staff, id, code) {
      requireCounterStaff(staff);
      const a = await accounts.findById(id);
      if (!a || a.status !== 'pending' || !a.mobile || !a.idNumber) throw new AppError('NOT_FOUND', '没有待激活的该账户 / no pending account with that id');
      await otp.verify('counter', a.mobile, code, a.id);
      const at = d.now().toISOString();
      const factors: DeclaredFactor[] = a.factors.map((f) => (f.type === 'mobile' ? { ...f, verified: true, at, source: 'sms' } : f));
      const initialPassword = randomInitialPassword();
      await accounts.activate(a.id, staff.sub, initialPassword, factors);
      return { id: a.id, loginName: a.idNumber, initialPassword };
    },
  };
}

/**
 * Password reset by SMS to the bound mobile (R-ID-6, G 5.1.2(2)① 找回密码):
 *
 * 1. `sendCode(login)`: the ID number or bound mobile; a code goes to the bound mobile. The
 *    answer is the same whether or not an account exists (no enumeration); codes are throttled
 *    like every code (idp/otp).
 * 2. `reset(login, code, password)`: the code must be right; the new password must meet the
 *    policy; the account's failed-login lock is cleared.
 */
import { AppError } from '../../kernel/errors.ts';
import type { AccountStore } from '../accounts/store.ts';
import type { OtpService } from '../otp/otp.ts';
import type { LoginGuard } from '../protect/guard.ts';
import { assertPasswordPolicy } from '../accounts/password.ts';

export interface PasswordReset {
  sendCode(login: string, source: string): Promise<void>;
  reset(login: string, code: string, password: string): Promise<{ accountId: string }>;
}

export function createPasswordReset(d: { accounts: AccountStore; otp: OtpService; guard: LoginGuard }): PasswordReset {
  const invalid = () => new AppError('OTP_INVALID', '验证码错误、已过期或已使用，请重新获取 / the code is wrong, expired or already used; request a new one');
  const person = async (login: string) => {
    const v = login.trim();
    // Staff passwords are reset by their agency, not by SMS.
    const a = /^\d{11}$|^\d{17}[\dXx]$/.test(v) ? await d.accounts.findByLogin(v) : undefined;
    return a && a.kind === 'person' && a.mobile && !a.disabled && a.status === 'active' ? a : undefined;
  };
  return {
    async sendCode(login, source) {
      const a = await person(login);
      if (a?.mobile) await d.otp.send('reset', a.mobile, { source, subject: a.id });
    },
    async reset(login, code, password) {
      assertPasswordPolicy(password);
      const a = await person(login);
      if (!a?.mobile) throw invalid();
      await d.otp.verify('reset', a.mobile, code, a.id);
      await d.accounts.setPassword(a.id, password);
      await d.guard.succeeded(a.id);
      return { accountId: a.id };
    },
  };
}

/**
 * Change of the bound mobile (R-ID-7, G 5.1.2(2)① 更换绑定手机号码): a code to the old number
 * confirms releasing it, then a code to the new number confirms binding it. The confirmation of
 * the old number is kept 10 minutes for this account only; the new number must not be bound to
 * another account (ACCOUNT_EXISTS) and is checked with the carrier (recorded on the factor).
 */
import type { Cache } from '../../kernel/cache.ts';
import { AppError } from '../../kernel/errors.ts';
import { isValidMobile } from '../../kernel/ids.ts';
import type { AccountRecord, AccountStore } from '../accounts/store.ts';
import type { OtpService } from '../otp/otp.ts';
import type { Verifier } from '../verify/verifier.ts';

const STEP_TTL = 10 * 60;

export interface MobileChange {
  sendOld(a: AccountRecord, source: string): Promise<void>;
  confirmOld(a: AccountRecord, code: string): Promise<void>;
  sendNew(a: AccountRecord, mobile: string, source: string): Promise<void>;
  confirmNew(a: AccountRecord, mobile: string, code: string): Promise<void>;
}

export function createMobileChange(d: { accounts: AccountStore; otp: OtpService; cache: Cache; verifier: Verifier; now: () => Date }): MobileChange {
  const step = (id: string) => `mobile-change:${id}`;
  const needOld = async (a: AccountRecord) => {
    if (await d.cache.get(step(a.id)) !== 'old-confirmed') {
      throw new AppError('FORBIDDEN', '请先用原手机号码确认 / confirm with your current mobile first');
    }
  };
  const valid = (m: string) => {
    if (!isValidMobile(m)) throw new AppError('MOBILE_INVALID', '手机号码应为 11 位大陆手机号 / the mobile number must be an 11-digit mainland number');
  };
  return {
    async sendOld(a, source) {
      if (!a.mobile) throw new AppError('BAD_INPUT', '账户未绑定手机 / the account has no bound mobile');
      await d.otp.send('mobile-old', a.mobile, { source, subject: a.id });
    },
    async confirmOld(a, code) {
      if (!a.mobile) throw new AppError('BAD_INPUT', '账户未绑定手机 / the account has no bound mobile');
      await d.otp.verify('mobile-old', a.mobile, code, a.id);
      await d.cache.set(step(a.id), 'old-confirmed', { ttlSeconds: STEP_TTL });
    },
    async sendNew(a, mobile, source) {
      await needOld(a);
      valid(mobile);
      if (mobile === a.mobile) throw new AppError('BAD_INPUT', '新号码与原号码相同 / the new number is the current one', { fields: ['mobile'] });
      const other = await d.accounts.findByLogin(mobile);
      if (other) throw new AppError('ACCOUNT_EXISTS', '该手机号码已绑定其他账户 / this mobile number is bound to another account');
      await d.otp.send('mobile-new', mobile, { source, subject: a.id });
    },
    async confirmNew(a, mobile, code) {
      await needOld(a);
      valid(mobile);
      await d.otp.verify('mobile-new', mobile, code, a.id);
      const carrier = a.idNumber ? await d.verifier.factor({ name: a.name, idNumber: a.idNumber }, 'mobile', mobile) : 'unknown';
      await d.accounts.setMobile(a.id, mobile, {
        type: 'mobile', last4: mobile.slice(-4), verified: carrier === 'match', at: d.now().toISOString(), source: 'carrier',
        ...(carrier === 'match' ? {} : { result: carrier }),
      });
      await d.cache.del(step(a.id));
    },
  };
}

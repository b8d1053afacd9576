/**
 * SMS one-time codes (R-ID-2, R-ID-5, R-ID-6, R-ID-7), sent through kernel/notify.ts:
 *
 * - 6 digits from a CSPRNG; valid IDP_OTP_TTL_SECONDS (5 minutes); single use; void after
 *   IDP_OTP_MAX_ATTEMPTS wrong entries (OTP_TOO_MANY_ATTEMPTS); a new code for the same number
 *   and purpose at most every IDP_OTP_RESEND_SECONDS (OTP_RESEND_TOO_SOON) and IDP_OTP_PER_HOUR
 *   per number (×5 per source address) (RATE_LIMITED).
 * - Stored in Redis only as an HMAC of (purpose, number, code) under a key derived from the
 *   internal secret, under a key naming an HMAC of the number (no numbers or codes in Redis).
 * - Each code is bound to a purpose (a login code does not reset a password) and, optionally, a
 *   subject (the account or interaction it was sent for).
 * - Expiry is checked against the injected clock (Redis TTLs are only the clean-up).
 * - Single use is one atomic DEL: of two concurrent correct entries exactly one wins.
 */
import { createHmac, randomInt, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Cache } from '../../kernel/cache.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Config } from '../../kernel/config.ts';
import { AppError } from '../../kernel/errors.ts';
import type { Notifier } from '../../kernel/notify.ts';

export type OtpPurpose = 'login' | 'stepup' | 'reset' | 'mobile-old' | 'mobile-new' | 'counter' | 'register';

const TEXT: Record<OtpPurpose, string> = {
  login: '登录',
  stepup: '身份加强验证',
  reset: '重置密码',
  'mobile-old': '更换手机号码（原号码确认）',
  'mobile-new': '绑定新手机号码',
  counter: '窗口注册确认',
  register: '注册账户（确认手机号码）',
};

interface Stored { h: string; at: number; subject: string }

export interface OtpService {
  /** Send a code; returns when it expires and when another may be asked for (seconds). */
  send(purpose: OtpPurpose, mobile: string, o: { source: string; subject?: string }): Promise<{ expiresIn: number; resendAfter: number }>;
  /** Check and consume a code; throws OTP_INVALID or OTP_TOO_MANY_ATTEMPTS. */
  verify(purpose: OtpPurpose, mobile: string, code: string, subject?: string): Promise<void>;
}

export function createOtpService(d: { cache: Cache; clock: Clock; notifier: Notifier; key: KeyObject; config: Config }): OtpService {
  const { cache, clock, notifier, key, config } = d;
  const ttl = config.IDP_OTP_TTL_SECONDS;
  const mac = (...parts: string[]) => createHmac('sha256', key).update(`yiwang.idp.otp:${parts.join(':')}`).digest('base64url');
  const codeKey = (purpose: string, mobile: string) => `otp:code:${purpose}:${mac('m', mobile)}`;
  const attemptsKey = (purpose: string, mobile: string) => `otp:att:${purpose}:${mac('m', mobile)}`;
  const resendKey = (purpose: string, mobile: string) => `otp:resend:${purpose}:${mac('m', mobile)}`;
  const invalid = () => new AppError('OTP_INVALID', '验证码错误、已过期或已使用，请重新获取 / the code is wrong, expired or already used; request a new one');

  async function hourly(k: string, limit: number): Promise<void> {
    const hour = Math.floor(clock.now().getTime() / 3_600_000);
    const n = await cache.incr(`otp:rate:${k}:${hour}`, 3600);
    if (n > limit) {
      const retryAfter = 3600 - Math.floor((clock.now().getTime() % 3_600_000) / 1000);
      throw new AppError('RATE_LIMITED', '验证码发送过于频繁，请稍后再试 / too many codes requested; try again later', { retryAfter });
    }
  }

  return {
    async send(purpose, mobile, o) {
      const now = clock.now().getTime();
      const resend = config.IDP_OTP_RESEND_SECONDS;
      if (resend > 0) {
        const mark = String(now);
        if (!await cache.set(resendKey(purpose, mobile), mark, { ttlSeconds: resend, nx: true })) {
          const last = Number(await cache.get(resendKey(purpose, mobile)) ?? 0);
          const wait = Math.ceil((last + resend * 1000 - now) / 1000);
          if (wait > 0) throw new AppError('OTP_RESEND_TOO_SOON', '验证码已发送，请稍后再获取 / a code was just sent; wait a moment before asking again', { retryAfter: wait });
          await cache.set(resendKey(purpose, mobile), mark, { ttlSeconds: resend });
        }
      }
      await hourly(`m:${mac('m', mobile)}`, config.IDP_OTP_PER_HOUR);
      await hourly(`s:${mac('s', o.source)}`, config.IDP_OTP_PER_HOUR * 5);
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      const stored: Stored = { h: mac('c', purpose, mobile, code), at: now, subject: o.subject ?? '' };
      await cache.set(codeKey(purpose, mobile), JSON.stringify(stored), { ttlSeconds: ttl + 5 });
      await cache.del(attemptsKey(purpose, mobile));
      const minutes = Math.round(ttl / 60);
      await notifier.send({
        to: mobile, template: `otp.${purpose}`, params: { code },
        text: `【一网通办】您正在${TEXT[purpose]}，验证码 ${code}，${minutes} 分钟内有效，请勿告诉他人。/ Yiwang code ${code}, valid ${minutes} minutes. Never share it.`,
      });
      return { expiresIn: ttl, resendAfter: resend };
    },

    async verify(purpose, mobile, code, subject) {
      const raw = await cache.get(codeKey(purpose, mobile));
      if (!raw) throw invalid();
      const stored = JSON.parse(raw) as Stored;
      if (clock.now().getTime() > stored.at + ttl * 1000) {
        await cache.del(codeKey(purpose, mobile));
        throw invalid();
      }
      const given = Buffer.from(mac('c', purpose, mobile, String(code).trim()));
      const expected = Buffer.from(stored.h);
      const right = given.length === expected.length && timingSafeEqual(given, expected) && (subject === undefined || stored.subject === subject);
      if (!right) {
        const n = await cache.incr(attemptsKey(purpose, mobile), ttl + 5);
        if (n >= config.IDP_OTP_MAX_ATTEMPTS) {
          await cache.del(codeKey(purpose, mobile));
          throw new AppError('OTP_TOO_MANY_ATTEMPTS', '验证码输入错误次数过多，已失效，请重新获取 / too many wrong entries: the code is void; request a new one');
        }
        throw invalid();
      }
      // Single use: only the caller whose DEL removed the code may proceed.
      if (await cache.del(codeKey(purpose, mobile)) !== 1) throw invalid();
      await cache.del(attemptsKey(purpose, mobile));
    },
  };
}

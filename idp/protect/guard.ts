/**
 * Brute-force protection and rate limits, in Redis so every IdP replica sees
 * the same counts; time from the injected clock.
 *
 * - Logins: failures are counted per account (or, for a login name matching no account, per
 *   that name, so probing unknown names is throttled alike) and per source address. At
 *   IDP_LOGIN_MAX_FAILURES failures on an account (IDP_LOGIN_IP_MAX_FAILURES from an address, in
 *   15 minutes) it is locked for IDP_LOGIN_LOCK_SECONDS, doubling with every further failure (at
 *   most a day): LOGIN_LOCKED with `retryAfter`. A lock is checked *before* the password, so a
 *   locked account is no password oracle. A successful login clears the account's count.
 * - Fixed-window counters for other actions (registration per address, …): RATE_LIMITED.
 */
import { createHmac, type KeyObject } from 'node:crypto';
import type { Cache } from '../../kernel/cache.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Config } from '../../kernel/config.ts';
import { AppError } from '../../kernel/errors.ts';

const DAY = 86_400;
const IP_WINDOW = 15 * 60;

export interface LoginGuard {
  /** Throws LOGIN_LOCKED when the subject or the address is locked. */
  check(subject: string, source: string): Promise<void>;
  failed(subject: string, source: string): Promise<void>;
  succeeded(subject: string): Promise<void>;
}

export interface RateLimiter {
  /** Count one `action` by `who` in a window of `windowSeconds`; RATE_LIMITED beyond `limit`. */
  hit(action: string, who: string, limit: number, windowSeconds: number): Promise<void>;
}

export function createRateLimiter(d: { cache: Cache; clock: Clock; key: KeyObject }): RateLimiter {
  const h = (v: string) => createHmac('sha256', d.key).update(`yiwang.idp.rate:${v}`).digest('base64url').slice(0, 22);
  return {
    async hit(action, who, limit, windowSeconds) {
      const nowMs = d.clock.now().getTime();
      const bucket = Math.floor(nowMs / (windowSeconds * 1000));
      const n = await d.cache.incr(`rate:${action}:${h(who)}:${bucket}`, windowSeconds);
      if (n > limit) {
        const retryAfter = Math.ceil(((bucket + 1) * windowSeconds * 1000 - nowMs) / 1000);
        throw new AppError('RATE_LIMITED', '操作过于频繁，请稍后再试 / too many requests; try again later', { retryAfter });
      }
    },
  };
}

export function createLoginGuard(d: { cache: Cache; clock: Clock; key: KeyObject; config: Config }): LoginGuard {
  const { cache, clock, config } = d;
  const h = (v: string) => createHmac('sha256', d.key).update(`yiwang.idp.guard:${v}`).digest('base64url').slice(0, 22);
  const now = () => clock.now().getTime();

  async function lockedFor(k: string): Promise<number> {
    const until = Number(await cache.get(`guard:lock:${k}`) ?? 0);
    return Math.max(0, Math.ceil((until - now()) / 1000));
  }

  async function count(k: string, max: number, window: number): Promise<void> {
    const n = await cache.incr(`guard:fail:${k}`, window);
    if (n < max) return;
    // Backoff: the first lock is the base period, each further failure doubles it.
    const seconds = Math.min(DAY, config.IDP_LOGIN_LOCK_SECONDS * 2 ** Math.min(20, n - max));
    await cache.set(`guard:lock:${k}`, String(now() + seconds * 1000), { ttlSeconds: seconds });
  }

  return {
    async check(subject, source) {
      const wait = Math.max(await lockedFor(`a:${h(subject)}`), await lockedFor(`s:${h(source)}`));
      if (wait > 0) {
        throw new AppError('LOGIN_LOCKED', `登录失败次数过多，请 ${wait} 秒后再试 / too many failed logins; try again in ${wait} seconds`, { retryAfter: wait });
      }
    },
    async failed(subject, source) {
      await count(`a:${h(subject)}`, config.IDP_LOGIN_MAX_FAILURES, DAY);
      await count(`s:${h(source)}`, config.IDP_LOGIN_IP_MAX_FAILURES, IP_WINDOW);
    },
    async succeeded(subject) {
      await cache.del(`guard:fail:a:${h(subject)}`, `guard:lock:a:${h(subject)}`);
    },
  };
}

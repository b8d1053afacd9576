/**
 * SMS one-time codes: 6 digits, 5 minutes, single use, limited attempts, resend throttled,
 * hourly caps, stored hashed (no number, no code in Redis), bound to purpose and subject.
 */
import { afterAll, beforeEach, describe, expect, test } from '@jest/globals';
import { createSecretKey } from 'node:crypto';
import { ManualClock } from '../../kernel/clock.ts';
import { loadConfig } from '../../kernel/config.ts';
import type { Notice, Notifier } from '../../kernel/notify.ts';
import { testCache } from '../../test/support/infra.ts';
import { createOtpService, type OtpService } from './otp.ts';

const cache = await testCache();
afterAll(async () => { await cache.close(); });

let clock: ManualClock;
let sent: Notice[];
let otp: OtpService;
let n = 0;
// A different number per test: counters live in the shared per-file cache.
let mobile: string;
const config = loadConfig({ NODE_ENV: 'test', IDP_OTP_PER_HOUR: '4' });
const lastCode = () => sent.at(-1)!.params!.code!;

beforeEach(() => {
  clock = new ManualClock('2026-03-02T08:00:00Z');
  sent = [];
  const notifier: Notifier = { async send(x) { sent.push(x); } };
  otp = createOtpService({ cache, clock, notifier, key: createSecretKey(Buffer.alloc(32, 7)), config });
  mobile = `1390000${String(1000 + n++)}`;
});

const code = (e: unknown) => (e as { code?: string }).code;

describe('otp.send', () => {
  test('six digits in an SMS (template otp.<purpose>), valid 5 minutes; Redis holds neither the number nor the code', async () => {
    const r = await otp.send('login', mobile, { source: '10.0.0.1' });
    expect(r).toEqual({ expiresIn: 300, resendAfter: 60 });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ to: mobile, template: 'otp.login' });
    expect(lastCode()).toMatch(/^\d{6}$/);
    expect(sent[0]!.text).toContain(lastCode());
    if (cache.kind === 'redis') {
      const { createClient } = await import('redis');
      const c = createClient({ url: process.env.REDIS_URL });
      await c.connect();
      const keys = await c.keys(`${cache.prefix}*`);
      const values = await Promise.all(keys.filter((k) => k.includes('otp:code')).map((k) => c.get(k)));
      await c.quit();
      expect(keys.join(' ')).not.toContain(mobile);
      expect(values.join(' ')).not.toContain(lastCode());
    }
  });

  test('a second code for the same number and purpose within 60 s is OTP_RESEND_TOO_SOON; after it, allowed', async () => {
    await otp.send('login', mobile, { source: '10.0.0.2' });
    await expect(otp.send('login', mobile, { source: '10.0.0.2' })).rejects.toMatchObject({ code: 'OTP_RESEND_TOO_SOON', details: { retryAfter: 60 } });
    expect(sent).toHaveLength(1);
    await otp.send('reset', mobile, { source: '10.0.0.2' }); // another purpose is independent
    clock.advance(61_000);
    await otp.send('login', mobile, { source: '10.0.0.2' });
    expect(sent).toHaveLength(3);
  });

  test('more than IDP_OTP_PER_HOUR codes to one number in an hour is RATE_LIMITED', async () => {
    for (let i = 0; i < 4; i++) { await otp.send('login', mobile, { source: `10.0.1.${i}` }); clock.advance(61_000); }
    await expect(otp.send('login', mobile, { source: '10.0.1.9' })).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(sent).toHaveLength(4);
  });

  test('more than 5 × IDP_OTP_PER_HOUR codes from one address in an hour is RATE_LIMITED', async () => {
    const source = `10.9.${n}.1`;
    for (let i = 0; i < 20; i++) await otp.send('login', `1370000${String(1000 + i + n * 30)}`, { source });
    await expect(otp.send('login', '13699990000', { source })).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });
});

describe('otp.verify', () => {
  test('the right code once; a replay is OTP_INVALID', async () => {
    await otp.send('login', mobile, { source: 's', subject: 'acc-1' });
    const c = lastCode();
    await otp.verify('login', mobile, c, 'acc-1');
    await expect(otp.verify('login', mobile, c, 'acc-1')).rejects.toMatchObject({ code: 'OTP_INVALID' });
  });

  test('after 5 minutes the code is OTP_INVALID', async () => {
    await otp.send('login', mobile, { source: 's' });
    clock.advance(300_001);
    await expect(otp.verify('login', mobile, lastCode())).rejects.toMatchObject({ code: 'OTP_INVALID' });
  });

  test('another purpose or subject does not accept it', async () => {
    await otp.send('login', mobile, { source: 's', subject: 'acc-1' });
    await expect(otp.verify('reset', mobile, lastCode(), 'acc-1')).rejects.toMatchObject({ code: 'OTP_INVALID' });
    await expect(otp.verify('login', mobile, lastCode(), 'acc-2')).rejects.toMatchObject({ code: 'OTP_INVALID' });
    await otp.verify('login', mobile, lastCode(), 'acc-1');
  });

  test('the 5th wrong entry voids the code (OTP_TOO_MANY_ATTEMPTS): even the right one fails then', async () => {
    await otp.send('login', mobile, { source: 's' });
    const right = lastCode();
    const wrong = right === '000000' ? '111111' : '000000';
    for (let i = 0; i < 4; i++) await expect(otp.verify('login', mobile, wrong)).rejects.toMatchObject({ code: 'OTP_INVALID' });
    await expect(otp.verify('login', mobile, wrong)).rejects.toMatchObject({ code: 'OTP_TOO_MANY_ATTEMPTS' });
    await expect(otp.verify('login', mobile, right)).rejects.toMatchObject({ code: 'OTP_INVALID' });
  });

  test('a new code replaces the old one and resets the attempts', async () => {
    await otp.send('login', mobile, { source: 's' });
    const first = lastCode();
    clock.advance(61_000);
    await otp.send('login', mobile, { source: 's' });
    const second = lastCode();
    if (first !== second) await expect(otp.verify('login', mobile, first)).rejects.toMatchObject({ code: 'OTP_INVALID' });
    await otp.verify('login', mobile, second);
  });

  test('two concurrent entries of the right code: exactly one succeeds', async () => {
    await otp.send('login', mobile, { source: 's' });
    const c = lastCode();
    const results = await Promise.allSettled([otp.verify('login', mobile, c), otp.verify('login', mobile, c), otp.verify('login', mobile, c)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(code(r.reason)).toBe('OTP_INVALID');
  });
});

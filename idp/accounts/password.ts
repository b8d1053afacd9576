/**
 * Password hashing and policy.
 *
 * - scrypt (memory-hard, RFC 7914) with N=2^15, r=8, p=1, a random 16-byte salt and a 32-byte
 *   output; the parameters travel inside the hash string (`scrypt$15$8$1$<salt>$<hash>`), so
 *   they can be raised later without invalidating stored hashes.
 * - Comparison in constant time (timingSafeEqual).
 * - Policy: at least 8 characters and at least 3 of {lower, upper, digit, symbol} (PASSWORD_WEAK);
 *   at most 128 characters so a huge input cannot be used to burn CPU (BAD_INPUT).
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { AppError } from '../../kernel/errors.ts';

const LOG_N = 15;
const R = 8;
const P = 1;
const KEY_LEN = 32;
const MAX_LENGTH = 128;

function scrypt(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  // 128·N·r bytes = 32 MiB at N=2^15, r=8: exactly Node's default maxmem, so allow headroom.
  const maxmem = 256 * (opts.N ?? 1) * (opts.r ?? 1) + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scryptCb(password.normalize('NFC'), salt, KEY_LEN, { ...opts, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Throws PASSWORD_WEAK (or BAD_INPUT when absurdly long) if the password fails the policy. */
export function assertPasswordPolicy(password: string): void {
  if (password.length > MAX_LENGTH) {
    throw new AppError('BAD_INPUT', `密码不能超过 ${MAX_LENGTH} 个字符 / the password must be at most ${MAX_LENGTH} characters`, { fields: ['password'] });
  }
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z\d]/].filter((re) => re.test(password)).length;
  if (password.length < 8 || classes < 3) {
    throw new AppError('PASSWORD_WEAK', '密码至少 8 位，且包含小写字母、大写字母、数字、符号中的至少三类 / the password needs at least 8 characters and 3 of: lower case, upper case, digit, symbol');
  }
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, { N: 2 ** LOG_N, r: R, p: P });
  return ['scrypt', LOG_N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** True when `password` matches `stored`; false for a wrong password or an unreadable hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, logN, r, p, saltB64, keyB64] = parts as [string, string, string, string, string, string];
  const N = 2 ** Number(logN);
  if (!Number.isInteger(N) || Number(logN) > 20 || Number(r) < 1 || Number(p) < 1) return false;
  const expected = Buffer.from(keyB64, 'base64url');
  const actual = await scrypt(password, Buffer.from(saltB64, 'base64url'), { N, r: Number(r), p: Number(p) });
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * A hash of a random password, verified against when the login name matches no account, so a
 * miss takes as long as a wrong password and response times do not reveal which accounts exist.
 */
export function dummyHash(): Promise<string> {
  return hashPassword(randomBytes(18).toString('base64url'));
}

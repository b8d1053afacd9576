/**
 * Password hashing and policy.
 *
 * - Argon2id (RFC 9106) through Node's own crypto.argon2, with OWASP's minimum parameters:
 *   19 MiB of memory, 2 passes, 1 lane, a random 16-byte salt and a 32-byte tag. Hashes are PHC
 *   strings (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<tag>`, unpadded standard base64 as other
 *   Argon2 libraries write them), so the parameters travel with the hash and can be raised later.
 * - Hashes written before (scrypt, `scrypt$15$8$1$<salt>$<hash>`) still verify; `needsRehash`
 *   says when a stored hash is below the current parameters, and a successful login replaces it
 *   (accounts.ts), so every active account moves to Argon2id without a reset.
 * - Comparison in constant time (timingSafeEqual); parameters read from a stored hash are bounded,
 *   so a crafted hash cannot make verification allocate gigabytes or loop for minutes.
 * - Policy: at least 8 characters and at least 3 of {lower, upper, digit, symbol} (PASSWORD_WEAK);
 *   at most 128 characters so a huge input cannot be used to burn CPU (BAD_INPUT).
 */
import { argon2 as argon2Cb, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { AppError } from '../../kernel/errors.ts';

/** Current parameters (OWASP Password Storage Cheat Sheet, Argon2id minimum). */
export const ARGON2 = { memoryKiB: 19_456, passes: 2, parallelism: 1, saltBytes: 16, tagBytes: 32 } as const;
const MAX_LENGTH = 128;
const LIMITS = { memoryKiB: 262_144, passes: 10, parallelism: 8 };

function argon2id(password: string, salt: Buffer, p: { memoryKiB: number; passes: number; parallelism: number; tagBytes: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    argon2Cb('argon2id', {
      message: Buffer.from(password.normalize('NFC'), 'utf8'), nonce: salt,
      memory: p.memoryKiB, passes: p.passes, parallelism: p.parallelism, tagLength: p.tagBytes,
    }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function scrypt(password: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  const maxmem = 256 * (opts.N ?? 1) * (opts.r ?? 1) + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scryptCb(password.normalize('NFC'), salt, keyLen, { ...opts, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
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

const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
const unb64 = (s: string) => Buffer.from(s, 'base64');

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(ARGON2.saltBytes);
  const tag = await argon2id(password, salt, ARGON2);
  return `$argon2id$v=19$m=${ARGON2.memoryKiB},t=${ARGON2.passes},p=${ARGON2.parallelism}$${b64(salt)}$${b64(tag)}`;
}

interface Argon2Hash { memoryKiB: number; passes: number; parallelism: number; salt: Buffer; tag: Buffer }

function parseArgon2(stored: string): Argon2Hash | null {
  const m = /^\$argon2id\$v=19\$m=(\d{1,7}),t=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]{11,})\$([A-Za-z0-9+/]{22,})$/.exec(stored);
  if (!m) return null;
  const [memoryKiB, passes, parallelism] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (passes < 1 || passes > LIMITS.passes || parallelism < 1 || parallelism > LIMITS.parallelism) return null;
  if (memoryKiB < 8 * parallelism || memoryKiB > LIMITS.memoryKiB) return null;
  const salt = unb64(m[4]!), tag = unb64(m[5]!);
  if (salt.length < 8 || tag.length < 16 || tag.length > 64) return null;
  return { memoryKiB, passes, parallelism, salt, tag };
}

/** True when `password` matches `stored`; false for a wrong password or an unreadable hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const a = parseArgon2(stored);
  if (a) {
    const actual = await argon2id(password, a.salt, { ...a, tagBytes: a.tag.length });
    return timingSafeEqual(a.tag, actual);
  }
  // Hashes written before Argon2id: scrypt$logN$r$p$salt$key (base64url).
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, logN, r, p, saltB64, keyB64] = parts as [string, string, string, string, string, string];
  const N = 2 ** Number(logN);
  if (!Number.isInteger(N) || Number(logN) > 20 || !(Number(r) >= 1 && Number(r) <= 32) || !(Number(p) >= 1 && Number(p) <= 16)) return false;
  const expected = Buffer.from(keyB64, 'base64url');
  if (expected.length < 16 || expected.length > 64) return false;
  const actual = await scrypt(password, Buffer.from(saltB64, 'base64url'), expected.length, { N, r: Number(r), p: Number(p) });
  return timingSafeEqual(expected, actual);
}

/** True when a stored hash is not Argon2id at (at least) the current parameters: replace it at the next login. */
export function needsRehash(stored: string): boolean {
  const a = parseArgon2(stored);
  return !a || a.memoryKiB < ARGON2.memoryKiB || a.passes < ARGON2.passes || a.tag.length < ARGON2.tagBytes;
}

/**
 * A hash of a random password, verified against when the login name matches no account, so a
 * miss takes as long as a wrong password and response times do not reveal which accounts exist.
 */
export function dummyHash(): Promise<string> {
  return hashPassword(randomBytes(18).toString('base64url'));
}

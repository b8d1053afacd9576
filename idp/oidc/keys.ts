/**
 * The IdP's signing keys: generated once (RS256 RSA-2048 and ES256 P-256), kept in
 * `idp.signing_keys`, loaded at every start. Never oidc-provider's development keys: a restart
 * (or a second process) signs with the same `kid`, so tokens and the gateway's cached JWKS stay
 * valid.
 *
 * Private JWKs are encrypted at rest with AES-256-GCM under a key derived from KEY_PASSPHRASE
 * with scrypt (random salt per key); the `kid` is bound as additional authenticated data, so a
 * ciphertext moved to another row does not decrypt. A wrong passphrase is KEY_DECRYPT_FAILED.
 */
import { createCipheriv, createDecipheriv, generateKeyPair, randomBytes, scryptSync, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { Db, Queryable } from '../../kernel/db.ts';
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';

export const SIGNING_ALGS = ['RS256', 'ES256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

const generate = promisify(generateKeyPair);
const KDF = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

function deriveKey(passphrase: string, salt: Buffer): Buffer {
  return scryptSync(passphrase, salt, 32, KDF);
}

const aadFor = (kid: string) => Buffer.from(`yiwang.idp.signing_key:${kid}`, 'utf8');

/** `v1.<salt>.<iv>.<tag>.<ciphertext>`, each base64url. */
export function encryptJwk(jwk: JWK, passphrase: string, kid: string): string {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(passphrase, salt), iv);
  cipher.setAAD(aadFor(kid));
  const ct = Buffer.concat([cipher.update(JSON.stringify(jwk), 'utf8'), cipher.final()]);
  return ['v1', salt, iv, cipher.getAuthTag(), ct].map((x) => (typeof x === 'string' ? x : x.toString('base64url'))).join('.');
}

export function decryptJwk(blob: string, passphrase: string, kid: string): JWK {
  const parts = blob.split('.');
  if (parts.length !== 5 || parts[0] !== 'v1') throw new AppError('KEY_DECRYPT_FAILED', `签名密钥 ${kid} 格式无法识别 / signing key ${kid} has an unknown format`);
  const [salt, iv, tag, ct] = parts.slice(1).map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer, Buffer];
  try {
    const decipher = createDecipheriv('aes-256-gcm', deriveKey(passphrase, salt), iv);
    decipher.setAAD(aadFor(kid));
    decipher.setAuthTag(tag);
    return JSON.parse(Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8')) as JWK;
  } catch {
    throw new AppError('KEY_DECRYPT_FAILED', `签名密钥 ${kid} 无法解密（口令错误？） / signing key ${kid} could not be decrypted (wrong KEY_PASSPHRASE?)`);
  }
}

async function newKey(alg: SigningAlg): Promise<{ kid: string; publicJwk: JWK; privateJwk: JWK }> {
  const { privateKey, publicKey } = alg === 'RS256'
    ? await generate('rsa', { modulusLength: 2048 }) as { privateKey: KeyObject; publicKey: KeyObject }
    : await generate('ec', { namedCurve: 'P-256' }) as { privateKey: KeyObject; publicKey: KeyObject };
  const pub = publicKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(pub, 'sha256');
  const meta = { kid, alg, use: 'sig' };
  return { kid, publicJwk: { ...pub, ...meta }, privateJwk: { ...(privateKey.export({ format: 'jwk' }) as JWK), ...meta } };
}

async function ensureKeys(q: Queryable, passphrase: string, now: Date): Promise<void> {
  // One generator at a time across processes starting together.
  await q.query('select pg_advisory_xact_lock(hashtext($1))', ['yiwang.idp.signing_keys']);
  const { rows } = await q.query<{ alg: string }>('select distinct alg from idp.signing_keys where retired_at is null');
  const have = new Set(rows.map((r) => r.alg));
  for (const alg of SIGNING_ALGS) {
    if (have.has(alg)) continue;
    const k = await newKey(alg);
    await q.query(
      'insert into idp.signing_keys (kid, alg, public_jwk, private_jwk_enc, created_at) values ($1, $2, $3, $4, $5)',
      [k.kid, alg, JSON.stringify(k.publicJwk), encryptJwk(k.privateJwk, passphrase, k.kid), now.toISOString()],
    );
  }
}

/**
 * Private JWKs for oidc-provider's `jwks`, generating any missing algorithm's key first.
 * Newest first within an algorithm, so a future rotation signs with the new key while the old
 * one stays published until retired.
 */
export async function loadSigningKeys(db: Db, passphrase: string, clock: Clock): Promise<JWK[]> {
  await db.tx((q) => ensureKeys(q, passphrase, clock.now()));
  const { rows } = await db.query<{ kid: string; alg: string; private_jwk_enc: string }>(
    'select kid, alg, private_jwk_enc from idp.signing_keys where retired_at is null order by alg desc, created_at desc',
  );
  return rows.map((r) => decryptJwk(r.private_jwk_enc, passphrase, r.kid));
}

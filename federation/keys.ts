/**
 * This platform's federation keys: ES256 keys that sign its Entity Configuration, its
 * Subordinate Statements and resolve responses, kept apart from the IdP's OIDC signing keys
 * (a leaked OIDC key cannot speak for the platform in the federation, and either can rotate
 * alone).
 *
 * At rest the private JWK is a JWE (RFC 7516) under KEY_PASSPHRASE: PBES2-HS512+A256KW with a
 * random salt and 210,000 PBKDF2-SHA512 iterations (the OWASP figure), content A256GCM, the `kid` in the integrity-protected
 * header and checked on opening (a ciphertext moved to another row does not open as that key).
 * A wrong passphrase is KEY_DECRYPT_FAILED.
 *
 * Rotation in two steps, because a superior vouches for this platform's keys in the statement it
 * issues: `prepareNext` publishes a next key (not signing yet) for the superior's administrator
 * to register; `activateNext` makes it sign and retires the old key, which stays published
 * until every statement signed with it has expired (now + FEDERATION_STATEMENT_TTL_SECONDS).
 */
import { calculateJwkThumbprint, compactDecrypt, CompactEncrypt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { Clock } from '../kernel/clock.ts';
import type { Db, Queryable } from '../kernel/db.ts';
import { AppError } from '../kernel/errors.ts';
import type { SigningKey } from './statement.ts';
import type { Jwks } from './types.ts';

export const FEDERATION_KEY_ALG = 'ES256';
const PBES2_ITERATIONS = 210_000;

export async function encryptJwk(jwk: JWK, passphrase: string, kid: string): Promise<string> {
  if (!passphrase) throw new AppError('BAD_INPUT', '口令不能为空 / the passphrase must not be empty');
  return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(jwk)))
    .setProtectedHeader({ alg: 'PBES2-HS512+A256KW', enc: 'A256GCM', p2c: PBES2_ITERATIONS, kid, cty: 'jwk+json' })
    .encrypt(new TextEncoder().encode(passphrase));
}

export async function decryptJwk(jwe: string, passphrase: string, kid: string): Promise<JWK> {
  const fail = () => new AppError('KEY_DECRYPT_FAILED', `联邦密钥 ${kid} 无法解密（口令错误？）/ federation key ${kid} could not be decrypted (wrong KEY_PASSPHRASE?)`);
  try {
    if (decodeProtectedHeader(jwe).kid !== kid) throw fail();
    const { plaintext } = await compactDecrypt(jwe, new TextEncoder().encode(passphrase), {
      keyManagementAlgorithms: ['PBES2-HS512+A256KW'], contentEncryptionAlgorithms: ['A256GCM'], maxPBES2Count: PBES2_ITERATIONS,
    });
    return JSON.parse(new TextDecoder().decode(plaintext)) as JWK;
  } catch {
    throw fail();
  }
}

export interface KeyInfo {
  kid: string;
  alg: string;
  state: 'next' | 'active' | 'retired';
  createdAt: string;
  publishUntil: string | null;
  publicJwk: JWK;
}

export interface FederationKeys {
  /** The active key (made on first use). */
  signingKey(): Promise<SigningKey>;
  /** What the Entity Configuration publishes: active, next, and retired keys still in their grace period. */
  publicJwks(): Promise<Jwks>;
  /** Make (or return) the next key; published from now on, signing only after `activateNext`. */
  prepareNext(actor: string): Promise<KeyInfo>;
  /** The next key signs from now on; the old one is retired and published until its statements expire. */
  activateNext(actor: string): Promise<{ active: KeyInfo; retired: KeyInfo | null }>;
  list(): Promise<KeyInfo[]>;
}

export interface FederationKeysOptions {
  db: Db;
  passphrase: string;
  clock: Clock;
  /** Longest lifetime of anything signed with a key: how long a retired key stays published. */
  statementTtlSeconds: number;
  /**
   * Which key set: `federation` (default) signs the platform's statements; `relying_party` signs
   * what its IdP sends as a relying party of other platforms (private_key_jwt client assertions,
   * request objects; published in its `openid_relying_party` metadata). Same life cycle, kept
   * apart (table `federation.rp_keys`), so either can rotate alone.
   */
  purpose?: 'federation' | 'relying_party';
}

interface Row { kid: string; alg: string; state: KeyInfo['state']; created_at: Date | string; publish_until: Date | string | null; public_jwk: JWK | string; private_jwk_enc: string }

const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());
const parseJwk = (v: JWK | string): JWK => (typeof v === 'string' ? JSON.parse(v) as JWK : v);
const info = (r: Row): KeyInfo => ({ kid: r.kid, alg: r.alg, state: r.state, createdAt: iso(r.created_at)!, publishUntil: iso(r.publish_until), publicJwk: parseJwk(r.public_jwk) });

export function createFederationKeys(opts: FederationKeysOptions): FederationKeys {
  const { db, passphrase, clock } = opts;
  const opened = new Map<string, SigningKey>();
  const rp = opts.purpose === 'relying_party';
  const table = rp ? 'federation.rp_keys' : 'federation.keys';
  const action = rp ? 'federation.rp_key' : 'federation.key';

  async function newKey(q: Queryable, state: 'next' | 'active'): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair(FEDERATION_KEY_ALG, { extractable: true });
    const pub = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(pub, 'sha256');
    const meta = { kid, alg: FEDERATION_KEY_ALG, use: 'sig' };
    const now = clock.now().toISOString();
    await q.query(
      `insert into ${table} (kid, alg, public_jwk, private_jwk_enc, state, created_at, activated_at)
       values ($1, $2, $3, $4, $5, $6, $7)`,
      [kid, FEDERATION_KEY_ALG, JSON.stringify({ ...pub, ...meta }), await encryptJwk({ ...(await exportJWK(privateKey)), ...meta }, passphrase, kid), state, now, state === 'active' ? now : null],
    );
  }
  const lock = (q: Queryable) => q.query('select pg_advisory_xact_lock(hashtext($1))', [`yiwang.${table}`]);
  const audit = (q: Queryable, actor: string, action: string, details: Record<string, unknown>) =>
    q.query('insert into federation.audit (at, actor, action, details) values ($1, $2, $3, $4)', [clock.now().toISOString(), actor, action, JSON.stringify(details)]);

  async function activeRow(): Promise<Row> {
    let { rows } = await db.query<Row>(`select * from ${table} where state = 'active'`);
    if (rows.length === 0) {
      await db.tx(async (q) => {
        await lock(q);
        const again = await q.query(`select 1 from ${table} where state = 'active'`);
        if (again.rows.length === 0) {
          await newKey(q, 'active');
          await audit(q, 'system', `${action}.create`, {});
        }
      });
      ({ rows } = await db.query<Row>(`select * from ${table} where state = 'active'`));
    }
    return rows[0]!;
  }

  return {
    async signingKey() {
      const r = await activeRow();
      let k = opened.get(r.kid);
      if (!k) {
        const jwk = await decryptJwk(r.private_jwk_enc, passphrase, r.kid);
        k = { kid: r.kid, alg: r.alg, key: await importJWK(jwk, r.alg) };
        opened.set(r.kid, k);
      }
      return k;
    },
    async publicJwks() {
      await activeRow();
      const { rows } = await db.query<Row>(
        `select * from ${table} where state in ('active', 'next') or (state = 'retired' and publish_until > $1) order by created_at desc`,
        [clock.now().toISOString()],
      );
      return { keys: rows.map((r) => parseJwk(r.public_jwk)) };
    },
    async prepareNext(actor) {
      await activeRow();
      await db.tx(async (q) => {
        await lock(q);
        const { rows } = await q.query(`select kid from ${table} where state = 'next'`);
        if (rows.length === 0) {
          await newKey(q, 'next');
          const { rows: made } = await q.query<{ kid: string }>(`select kid from ${table} where state = 'next'`);
          await audit(q, actor, `${action}.prepare`, { kid: made[0]!.kid });
        }
      });
      const { rows } = await db.query<Row>(`select * from ${table} where state = 'next'`);
      return info(rows[0]!);
    },
    async activateNext(actor) {
      await activeRow();
      const now = clock.now();
      const until = new Date(now.getTime() + opts.statementTtlSeconds * 1000).toISOString();
      const kids = await db.tx(async (q) => {
        await lock(q);
        const next = (await q.query<{ kid: string }>(`select kid from ${table} where state = 'next'`)).rows[0];
        if (!next) throw new AppError('CONFLICT', '没有待启用的联邦密钥，请先准备 / no next federation key: prepare one first');
        const old = (await q.query<{ kid: string }>(`select kid from ${table} where state = 'active'`)).rows[0];
        if (old) await q.query(`update ${table} set state = 'retired', retired_at = $2, publish_until = $3 where kid = $1`, [old.kid, now.toISOString(), until]);
        await q.query(`update ${table} set state = 'active', activated_at = $2 where kid = $1`, [next.kid, now.toISOString()]);
        await audit(q, actor, `${action}.activate`, { kid: next.kid, retired: old?.kid ?? null, publishUntil: until });
        return { active: next.kid, retired: old?.kid };
      });
      const { rows } = await db.query<Row>(`select * from ${table} where kid = any($1)`, [[kids.active, kids.retired].filter(Boolean)]);
      const by = (kid: string | undefined) => rows.find((r) => r.kid === kid);
      return { active: info(by(kids.active)!), retired: kids.retired ? info(by(kids.retired)!) : null };
    },
    async list() {
      const { rows } = await db.query<Row>(`select * from ${table} order by created_at desc`);
      return rows.map(info);
    },
  };
}

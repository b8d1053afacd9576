/**
 * Signing keys: generated once, encrypted at rest, the same `kid`s after a restart on the same
 * database, and tokens and sessions from before the restart still good after it.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify, type JWK } from 'jose';
import { DEMO_CITIZEN } from '../../kernel/demo.ts';
import { isAppError } from '../../kernel/errors.ts';
import { decryptJwk, encryptJwk } from './keys.ts';
import { startIdpService } from '../service.ts';
import { loginWithPkce, startTestIdp, type TestIdp } from '../../test/support/oidc.ts';

const REDIRECT = 'http://127.0.0.1:3000/callback';
const GATEWAY = 'http://127.0.0.1:4000/graphql';

let idp: TestIdp;
beforeAll(async () => { idp = await startTestIdp(); });
afterAll(async () => { await idp?.close(); });

const publishedKeys = async () => ((await (await fetch(new URL('/jwks', idp.issuer))).json()) as { keys: JWK[] }).keys;

describe('idp.keys', () => {
  test('publishes one RS256 RSA-2048 and one ES256 key, never private parts', async () => {
    const keys = await publishedKeys();
    expect(keys.map((k) => [k.kty, k.alg, k.use]).sort()).toEqual([['EC', 'ES256', 'sig'], ['RSA', 'RS256', 'sig']]);
    const rsa = keys.find((k) => k.kty === 'RSA')!;
    expect(Buffer.from(rsa.n!, 'base64url').length * 8).toBe(2048);
    for (const k of keys) expect(k.d).toBeUndefined();
  });

  test('private keys are stored encrypted', async () => {
    const { rows } = await idp.db.query<{ kid: string; public_jwk: JWK; private_jwk_enc: string }>('select kid, public_jwk, private_jwk_enc from idp.signing_keys');
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r.private_jwk_enc).toMatch(/^v1(\.[\w-]+){4}$/);
      expect(r.private_jwk_enc).not.toContain('"d"');
      expect(r.public_jwk.d).toBeUndefined();
      expect(decryptJwk(r.private_jwk_enc, idp.deps.secrets.keyPassphrase, r.kid).d).toBeTruthy();
    }
  });

  test('the same kids, the same tokens and the same sessions after a restart on the same database and cache', async () => {
    const before = (await publishedKeys()).map((k) => k.kid).sort();
    const login = await loginWithPkce({ issuer: idp.issuer, redirectUri: REDIRECT, resource: GATEWAY, login: DEMO_CITIZEN.idNumber, password: DEMO_CITIZEN.password });

    await idp.stop();
    await idp.restart();

    expect((await publishedKeys()).map((k) => k.kid).sort()).toEqual(before);
    const { rows } = await idp.db.query<{ n: number }>('select count(*)::int as n from idp.signing_keys');
    expect(Number(rows[0]!.n)).toBe(2);
    // A token from before the restart verifies against the JWKS served after it…
    const jwks = createRemoteJWKSet(new URL('/jwks', idp.issuer));
    await expect(jwtVerify(login.access_token, jwks, { issuer: idp.issuer, audience: GATEWAY })).resolves.toBeTruthy();
    // …and the refresh token (kept in the cache) still works.
    const refreshed = await client.refreshTokenGrant(login.config, login.refresh_token!);
    expect(refreshed.access_token).toBeTruthy();
  });

  test('a wrong KEY_PASSPHRASE stops the start with KEY_DECRYPT_FAILED', async () => {
    const deps = { ...idp.deps, secrets: { ...idp.deps.secrets, keyPassphrase: 'not-the-passphrase-0123456789abcdef' } };
    const err = await startIdpService(deps, { port: 0 }).then(() => undefined, (e: unknown) => e);
    expect(isAppError(err) && err.code).toBe('KEY_DECRYPT_FAILED');
  });

  test('the ciphertext is bound to its kid and passphrase', () => {
    const jwk: JWK = { kty: 'oct', k: 'c2VjcmV0', kid: 'a' };
    const blob = encryptJwk(jwk, 'pass-0123456789', 'a');
    expect(decryptJwk(blob, 'pass-0123456789', 'a')).toEqual(jwk);
    expect(() => decryptJwk(blob, 'pass-0123456789', 'b')).toThrow(expect.objectContaining({ code: 'KEY_DECRYPT_FAILED' }));
    expect(() => decryptJwk(blob, 'other-pass', 'a')).toThrow(expect.objectContaining({ code: 'KEY_DECRYPT_FAILED' }));
    // Flip a bit of the ciphertext itself (editing the last base64url character may touch only padding bits).
    const parts = blob.split('.');
    const ct = Buffer.from(parts[4]!, 'base64url');
    ct[0] = ct[0]! ^ 0x01;
    const tampered = [...parts.slice(0, 4), ct.toString('base64url')].join('.');
    expect(() => decryptJwk(tampered, 'pass-0123456789', 'a')).toThrow(expect.objectContaining({ code: 'KEY_DECRYPT_FAILED' }));
  });
});

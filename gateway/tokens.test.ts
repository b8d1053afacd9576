import { beforeAll, describe, expect, test } from '@jest/globals';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { ManualClock } from '../kernel/clock.ts';
import { isAppError } from '../kernel/errors.ts';
import { createTokenVerifier, type TokenVerifier } from './tokens.ts';
import { callerFromClaims } from './claims.ts';
import { ExpiringLru } from './lru.ts';

const ISSUER = 'http://127.0.0.1:4100';
const AUDIENCE = 'http://127.0.0.1:4000/graphql';
const T0 = new Date('2025-03-01T08:00:00Z');
const at = (d: Date) => Math.floor(d.getTime() / 1000);

let rsa: CryptoKey;
let ec: CryptoKey;
let other: CryptoKey;
let jwksDoc: JSONWebKeySet;

beforeAll(async () => {
  const r = await generateKeyPair('RS256');
  const e = await generateKeyPair('ES256');
  const o = await generateKeyPair('RS256');
  rsa = r.privateKey;
  ec = e.privateKey;
  other = o.privateKey;
  jwksDoc = { keys: [
    { ...(await exportJWK(r.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(e.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
  ] };
});

interface SignOpts { key?: CryptoKey; kid?: string; alg?: string; typ?: string; iss?: string; aud?: string; iat?: Date; exp?: Date | null; nbf?: Date }

const PERSON = { sub: 'acc-person-1', yw_kind: 'person', yw_name: '张三', acr: 'urn:yiwang:loa:3' };
const STAFF = { sub: 'acc-staff-1', yw_kind: 'staff', yw_name: '李四', yw_agency: '11330100MB0000002W', yw_roles: ['acceptor', 'janitor', 'decider'] };

async function sign(claims: Record<string, unknown>, o: SignOpts = {}): Promise<string> {
  const alg = o.alg ?? 'RS256';
  const iat = o.iat ?? T0;
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg, typ: o.typ ?? 'at+jwt', kid: o.kid ?? (alg === 'ES256' ? 'ec-1' : 'rsa-1') })
    .setIssuer(o.iss ?? ISSUER).setAudience(o.aud ?? AUDIENCE).setIssuedAt(at(iat)).setJti(`jti-${Math.random()}`);
  if (o.exp !== null) jwt = jwt.setExpirationTime(at(o.exp ?? new Date(iat.getTime() + 600_000)));
  if (o.nbf) jwt = jwt.setNotBefore(at(o.nbf));
  return jwt.sign(o.key ?? (alg === 'ES256' ? ec : rsa));
}

function unsecured(claims: Record<string, unknown>): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ ...claims, iss: ISSUER, aud: AUDIENCE, iat: at(T0), exp: at(T0) + 600 })}.`;
}

/** A key getter over the test JWKS that counts its calls and can be switched off. */
function countingJwks(doc: () => JSONWebKeySet, state = { calls: 0, down: false }): JWTVerifyGetKey & { state: typeof state } {
  const getter = async (h: Parameters<JWTVerifyGetKey>[0], t: Parameters<JWTVerifyGetKey>[1]) => {
    state.calls++;
    if (state.down) throw new TypeError('fetch failed');
    return createLocalJWKSet(doc())(h, t);
  };
  return Object.assign(getter, { state }) as JWTVerifyGetKey & { state: typeof state };
}

function verifier(clock = new ManualClock(T0), jwks: JWTVerifyGetKey = createLocalJWKSet(jwksDoc), maxEntries?: number): TokenVerifier {
  return createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks, clock, ...(maxEntries ? { maxEntries } : {}) });
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'accepted';
  } catch (e) {
    return isAppError(e) ? e.code : `non-AppError: ${String(e)}`;
  }
}

describe('tokens.claims', () => {
  test('a person token becomes a person caller with its assurance level', async () => {
    expect(await verifier().verify(await sign(PERSON))).toEqual({ kind: 'person', sub: 'acc-person-1', name: '张三', acr: 'urn:yiwang:loa:3' });
  });

  test('a staff token keeps its agency and known roles only', async () => {
    expect(await verifier().verify(await sign(STAFF, { alg: 'ES256' }))).toEqual({
      kind: 'staff', sub: 'acc-staff-1', name: '李四', agency: '11330100MB0000002W', roles: ['acceptor', 'decider'],
    });
  });

  test.each([
    ['no yw_kind (e.g. client credentials)', { sub: 'portal-client' }],
    ['an unknown kind', { ...PERSON, yw_kind: 'robot' }],
    ['staff without agency', { ...STAFF, yw_agency: undefined }],
    ['staff with roles that are not a list', { ...STAFF, yw_roles: 'decider' }],
    ['no name', { ...PERSON, yw_name: undefined }],
  ])('%s is TOKEN_INVALID', async (_what, claims) => {
    expect(await codeOf(verifier().verify(await sign(claims)))).toBe('TOKEN_INVALID');
  });

  test('callerFromClaims refuses an empty subject', () => {
    expect(() => callerFromClaims({ ...PERSON, sub: '' })).toThrow(expect.objectContaining({ code: 'TOKEN_INVALID' }));
  });
});

describe('tokens.refusals', () => {
  test.each<[string, string, () => Promise<string>]>([
    ['signed by another key under a known kid', 'TOKEN_INVALID', () => sign(PERSON, { key: other })],
    ['signed by another key with an unknown kid', 'TOKEN_INVALID', () => sign(PERSON, { key: other, kid: 'evil' })],
    ['another issuer', 'TOKEN_ISSUER', () => sign(PERSON, { iss: 'https://idp.example.com' })],
    ['another audience', 'TOKEN_AUDIENCE', () => sign(PERSON, { aud: 'https://other.example.com/api' })],
    ['expired 6 s ago (beyond the 5 s tolerance)', 'TOKEN_EXPIRED', () => sign(PERSON, { iat: new Date(T0.getTime() - 600_000), exp: new Date(T0.getTime() - 6_000) })],
    ['no exp', 'TOKEN_INVALID', () => sign(PERSON, { exp: null })],
    ['not yet valid (nbf 60 s ahead)', 'TOKEN_INVALID', () => sign(PERSON, { nbf: new Date(T0.getTime() + 60_000) })],
    ['typ JWT instead of at+jwt (e.g. an ID token)', 'TOKEN_INVALID', () => sign(PERSON, { typ: 'JWT' })],
    ['alg none', 'TOKEN_INVALID', async () => unsecured(PERSON)],
    ['not a JWT at all', 'TOKEN_INVALID', async () => 'abc.def'],
  ])('%s → %s', async (_what, code, make) => {
    expect(await codeOf(verifier().verify(await make()))).toBe(code);
  });

  test('HS256 with the public JWK as secret (alg confusion) is refused', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(jwksDoc.keys[0]));
    const token = await new SignJWT(PERSON).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: 'rsa-1' })
      .setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt(at(T0)).setExpirationTime(at(T0) + 600).sign(secret);
    expect(await codeOf(verifier().verify(token))).toBe('TOKEN_INVALID');
  });

  test('expired 3 s ago is still inside the clock tolerance; the media-type typ is accepted', async () => {
    const v = verifier();
    await expect(v.verify(await sign(PERSON, { iat: new Date(T0.getTime() - 600_000), exp: new Date(T0.getTime() - 3_000) }))).resolves.toMatchObject({ kind: 'person' });
    await expect(v.verify(await sign(PERSON, { typ: 'application/at+jwt' }))).resolves.toMatchObject({ kind: 'person' });
  });

  test('an unreachable JWKS is SERVICE_UNAVAILABLE, not the token\'s fault, and is not remembered', async () => {
    const jwks = countingJwks(() => jwksDoc);
    const v = verifier(new ManualClock(T0), jwks);
    const token = await sign(PERSON);
    jwks.state.down = true;
    expect(await codeOf(v.verify(token))).toBe('SERVICE_UNAVAILABLE');
    jwks.state.down = false;
    await expect(v.verify(token)).resolves.toMatchObject({ sub: 'acc-person-1' });
  });
});

describe('tokens.cache', () => {
  test('a verified token skips signature checks until it expires', async () => {
    const clock = new ManualClock(T0);
    const jwks = countingJwks(() => jwksDoc);
    const v = verifier(clock, jwks);
    const token = await sign(PERSON, { exp: new Date(T0.getTime() + 60_000) });
    await v.verify(token);
    await v.verify(token);
    await v.verify(token);
    expect(jwks.state.calls).toBe(1);
    expect(v.cachedTokens).toBe(1);
    clock.advance(66_000); // past exp + tolerance: the cache must not outlive the token
    expect(await codeOf(v.verify(token))).toBe('TOKEN_EXPIRED');
    expect(jwks.state.calls).toBe(2);
  });

  test('the cache is bounded', async () => {
    const v = verifier(new ManualClock(T0), createLocalJWKSet(jwksDoc), 2);
    for (let i = 0; i < 5; i++) await v.verify(await sign({ ...PERSON, sub: `p${i}` }));
    expect(v.cachedTokens).toBe(2);
  });

  test('a refusal is remembered for a couple of seconds only (key rotation is seen quickly)', async () => {
    const clock = new ManualClock(T0);
    let published: JSONWebKeySet = { keys: [] };
    const jwks = countingJwks(() => published);
    const v = verifier(clock, jwks);
    const token = await sign(PERSON);
    expect(await codeOf(v.verify(token))).toBe('TOKEN_INVALID');
    published = jwksDoc; // the IdP publishes its new key
    expect(await codeOf(v.verify(token))).toBe('TOKEN_INVALID');
    expect(jwks.state.calls).toBe(1); // the second refusal came from the short-lived memory
    clock.advance(3_000);
    await expect(v.verify(token)).resolves.toMatchObject({ kind: 'person' });
  });

  test('ExpiringLru evicts the least recently used and drops expired entries', () => {
    const lru = new ExpiringLru<number>(2);
    lru.set('a', 1, 100);
    lru.set('b', 2, 100);
    expect(lru.get('a', 0)).toBe(1); // a is now the most recent
    lru.set('c', 3, 100);
    expect(lru.get('b', 0)).toBeUndefined();
    expect(lru.get('a', 0)).toBe(1);
    expect(lru.get('c', 100)).toBeUndefined();
    expect(lru.size).toBe(1);
  });
});

/**
 * Accounts: self-registration (R-ID-1) through the JSON API and the HTML form, each
 * refusal with its code and nothing stored; the seed; the internal account API.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { signServiceToken } from '../../kernel/internal-auth.ts';
import { DEMO_CITIZEN, DEMO_STAFF } from '../../kernel/demo.ts';
import { AGREEMENT } from './store.ts';
import { seedDemoAccounts } from './seed.ts';
import { newCitizen } from '../../test/journey.ts';
import { createAccountStore } from './store.ts';
import { createSecretKey, randomBytes, scryptSync } from 'node:crypto';
import { verifyPassword } from './password.ts';
import {
  CookieJar, browserFetch, pageErrorCode, parseForms, postRegistration, registerPerson, registrationCode, startTestIdp, type TestIdp,
} from '../../test/support/oidc.ts';

let idp: TestIdp;
beforeAll(async () => { idp = await startTestIdp(); });
afterAll(async () => { await idp?.close(); });

const count = async () => Number((await idp.db.query<{ n: number }>('select count(*)::int as n from idp.accounts')).rows[0]!.n);

const VALID = {
  name: '赵六', idNumber: '320102198506152343', mobile: '13611112222',
  factorType: 'housingFund', factorValue: 'HF-00998877', password: 'Good#pass2026', agreementVersion: AGREEMENT.version,
};

describe('idp.register', () => {
  test('a natural person registers with name, ID number, mobile, one more factor, password and the agreement', async () => {
    const before = await count();
    const { id } = await registerPerson(idp.issuer, VALID);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await count()).toBe(before + 1);
    const row = (await idp.db.query<Record<string, unknown>>('select * from idp.accounts where id = $1', [id])).rows[0]!;
    expect(row).toMatchObject({ kind: 'person', name: VALID.name, id_number: VALID.idNumber, mobile: VALID.mobile, agreement_version: AGREEMENT.version, disabled: false });
    expect(row.agreement_accepted_at).toBeTruthy();
    // Password: Argon2id (19 MiB, 2 passes) as a PHC string with its parameters; never the password itself.
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    // Factors: verified by their registries (the built-in development registry confirms unlisted
    // people), recorded with source and time; the extra one only as a keyed hash and its last four.
    const factors = row.factors as Array<Record<string, unknown>>;
    expect(factors).toEqual([
      { type: 'mobile', last4: '2222', verified: true, at: expect.any(String), source: 'carrier' },
      { type: 'housingFund', hash: expect.stringMatching(/^[\w-]{43}$/), last4: '8877', verified: true, at: expect.any(String), source: 'housing-fund' },
    ]);
    expect(row).toMatchObject({ assurance_level: 3, proofing: 'online-verified', registered_platform: 'yiwang', registered_tier: 'municipal', status: 'active' });
    expect(JSON.stringify(row)).not.toContain('HF-00998877');
  });

  const refusals: Array<[string, Record<string, unknown>, string, number]> = [
    ['a wrong ID-number check digit', { idNumber: '320102198506152341' }, 'ID_NUMBER_INVALID', 400],
    ['an impossible birth date', { idNumber: '320102198502302349' }, 'ID_NUMBER_INVALID', 400],
    ['a malformed mobile', { mobile: '12345' }, 'MOBILE_INVALID', 400],
    ['a short password', { password: 'Ab#1' }, 'PASSWORD_WEAK', 400],
    ['a password with two character classes', { password: 'alllowercase123' }, 'PASSWORD_WEAK', 400],
    ['no extra factor', { factorType: undefined, factorValue: undefined }, 'BAD_INPUT', 400],
    ['an unknown factor type', { factorType: 'passport' }, 'BAD_INPUT', 400],
    ['the agreement not accepted', { agreementVersion: undefined }, 'BAD_INPUT', 400],
    ['an outdated agreement version', { agreementVersion: '2000-01' }, 'BAD_INPUT', 400],
    ['no name', { name: '  ' }, 'BAD_INPUT', 400],
    ['an ID number already registered', { idNumber: DEMO_CITIZEN.idNumber, mobile: '13600000001' }, 'ACCOUNT_EXISTS', 409],
    ['a mobile already registered', { idNumber: '510104199203045674', mobile: DEMO_CITIZEN.mobile }, 'ACCOUNT_EXISTS', 409],
  ];
  test.each(refusals)('refuses %s with its code and stores nothing', async (_label, change, code, status) => {
    const before = await count();
    const body: Record<string, unknown> = { ...VALID, idNumber: '510104199203045674', mobile: '13622223333', ...change };
    for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
    const res = await postRegistration(idp.issuer, body);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ code, status });
    expect(String(res.body.title)).toMatch(/ \/ /); // zh-CN first, then English
    expect(await count()).toBe(before);
  });

  test('the HTML form: GET sets the CSRF cookie, POST with it registers, POST without it is 403', async () => {
    const jar = new CookieJar();
    const url = new URL('/register?return=%2Finteraction%2Fabc123', idp.issuer);
    const page = await browserFetch(jar, url);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain('href="/register?lang=en"');
    for (const id of ['name', 'idNumber', 'mobile', 'factorType', 'factorValue', 'password', 'agreementVersion']) expect(html).toContain(`for="${id}"`);
    const form = parseForms(html).find((f) => f.action === '/register')!;
    expect(form.fields.return).toBe('/interaction/abc123');
    const before = await count();
    const fields = { ...VALID, idNumber: '110105194912310021'.slice(0, 17) + 'X', mobile: '13633334444', return: '/interaction/abc123' };

    const withoutToken = await browserFetch(jar, new URL('/register', idp.issuer), { form: fields });
    expect(withoutToken.status).toBe(403);
    expect(pageErrorCode(await withoutToken.text())).toBe('FORBIDDEN');
    const forged = await browserFetch(jar, new URL('/register', idp.issuer), { form: { ...fields, _csrf: 'x.y' } });
    expect(forged.status).toBe(403);
    // A text/plain "JSON" post (what a cross-site form could send) is not the JSON API: 403.
    const plain = await fetch(new URL('/register', idp.issuer), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(VALID) });
    expect(plain.status).toBe(403);
    expect(await count()).toBe(before);

    const weak = await browserFetch(jar, new URL('/register', idp.issuer), { form: { ...form.fields, ...fields, password: 'weak' } });
    expect(weak.status).toBe(400);
    const weakHtml = await weak.text();
    expect(pageErrorCode(weakHtml)).toBe('PASSWORD_WEAK');
    expect(weakHtml).toContain(`value="${VALID.name}"`); // keeps what was typed, except the password
    expect(await count()).toBe(before);

    // Without the SMS code proving the mobile: refused, nothing stored.
    const noCode = await browserFetch(jar, new URL('/register', idp.issuer), { form: { ...form.fields, ...fields } });
    expect([noCode.status, pageErrorCode(await noCode.text())]).toEqual([400, 'OTP_INVALID']);
    expect(await count()).toBe(before);
    // "Send code" posts the same form to /register/code: the form comes back with what was typed.
    const sent = await browserFetch(jar, new URL('/register/code', idp.issuer), { form: { ...form.fields, ...fields } });
    const sentHtml = await sent.text();
    expect(sent.status).toBe(200);
    expect(sentHtml).toContain('role="status"');
    expect(sentHtml).toContain(`value="${fields.mobile}"`);
    const mobileCode = await idp.lastCode(fields.mobile, 'otp.register');
    const ok = await browserFetch(jar, new URL('/register', idp.issuer), { form: { ...form.fields, ...fields, mobileCode } });
    expect(ok.status).toBe(201);
    expect(await ok.text()).toContain('href="/interaction/abc123"');
    expect(await count()).toBe(before + 1);
  });

  test('an open redirect through ?return is not offered', async () => {
    const html = await (await browserFetch(new CookieJar(), new URL('/register?return=https%3A%2F%2Fevil.example%2F', idp.issuer))).text();
    expect(html).not.toContain('evil.example');
  });
});

describe('idp.seed', () => {
  test('seeds the demo staff and citizen idempotently, hashing a password only when none is stored', async () => {
    const rows = async () => (await idp.db.query<{ id: string; password_hash: string; username: string | null; roles: string[]; agency_code: string | null }>(
      'select id, password_hash, username, roles, agency_code from idp.accounts where id = any($1::uuid[]) order by id', [[...DEMO_STAFF.map((s) => s.id), DEMO_CITIZEN.id]],
    )).rows;
    const first = await rows();
    expect(first).toHaveLength(DEMO_STAFF.length + 1);
    const decider = first.find((r) => r.username === 'hz-decider')!;
    expect(decider).toMatchObject({ roles: ['decider'], agency_code: '11330100MB0000002W' });
    const accounts = createAccountStore({ db: idp.db, clock: idp.deps.clock, factorKey: createSecretKey(Buffer.alloc(32, 1)) });
    await seedDemoAccounts(accounts, idp.deps.clock);
    expect(await rows()).toEqual(first);
  });
});

describe('idp.internal', () => {
  const url = (id: string) => new URL(`/internal/accounts/${id}`, idp.issuer);

  test('returns the holder\'s name and ID number to a service with a token for urn:yiwang:idp', async () => {
    const token = await signServiceToken(idp.deps.internalKey, 'licence', 'urn:yiwang:idp');
    const res = await fetch(url(DEMO_CITIZEN.id), { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: DEMO_CITIZEN.id, kind: 'person', name: DEMO_CITIZEN.name, idNumber: DEMO_CITIZEN.idNumber, mobile: DEMO_CITIZEN.mobile, agencyCode: null });
    const staff = await fetch(url(DEMO_STAFF[0]!.id), { headers: { authorization: `Bearer ${token}` } });
    expect(await staff.json()).toMatchObject({ kind: 'staff', agencyCode: DEMO_STAFF[0]!.agencyCode, idNumber: null });
  });

  test('401 without a token, with a token for another audience, or signed with another key; 404 for an unknown id', async () => {
    expect((await fetch(url(DEMO_CITIZEN.id))).status).toBe(401);
    const otherAudience = await signServiceToken(idp.deps.internalKey, 'licence', 'urn:yiwang:case');
    const r1 = await fetch(url(DEMO_CITIZEN.id), { headers: { authorization: `Bearer ${otherAudience}` } });
    expect(r1.status).toBe(401);
    expect(await r1.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    const otherKey = await signServiceToken(createSecretKey(Buffer.from('another-secret-0123456789abcdef-0123456789')), 'licence', 'urn:yiwang:idp');
    expect((await fetch(url(DEMO_CITIZEN.id), { headers: { authorization: `Bearer ${otherKey}` } })).status).toBe(401);
    const token = await signServiceToken(idp.deps.internalKey, 'licence', 'urn:yiwang:idp');
    const missing = await fetch(url('00000000-0000-4000-8000-000000000000'), { headers: { authorization: `Bearer ${token}` } });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'NOT_FOUND' });
    expect((await fetch(url('not-a-uuid'), { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
  });
});

describe('accounts.register-mobile-proof', () => {
  test('the mobile counts only with the SMS code: none, wrong, replayed are OTP_INVALID and store nothing', async () => {
    const c = newCitizen();
    const body = { ...VALID, name: c.name, idNumber: c.idNumber, mobile: c.mobile };
    const before = await count();
    const none = await postRegistration(idp.issuer, { ...body, mobileCode: '' });
    expect([none.status, none.body.code]).toEqual([400, 'OTP_INVALID']);
    const code = await registrationCode(idp.issuer, body.mobile);
    expect(code).toMatch(/^\d{6}$/);
    const wrong = await postRegistration(idp.issuer, { ...body, mobileCode: code === '000000' ? '111111' : '000000' });
    expect([wrong.status, wrong.body.code]).toEqual([400, 'OTP_INVALID']);
    // A code for another number does not prove this one.
    const otherCode = await registrationCode(idp.issuer, newCitizen().mobile);
    if (otherCode !== code) expect((await postRegistration(idp.issuer, { ...body, mobileCode: otherCode })).body.code).toBe('OTP_INVALID');
    expect(await count()).toBe(before);
    const ok = await postRegistration(idp.issuer, { ...body, mobileCode: code });
    expect(ok.status).toBe(201);
    expect(await count()).toBe(before + 1);
    const row = (await idp.db.query<{ factors: Array<{ type: string; verified: boolean }> }>('select factors from idp.accounts where id = $1', [ok.body.id])).rows[0]!;
    expect(row.factors.find((f) => f.type === 'mobile')).toMatchObject({ verified: true });
  });

  test('a malformed mobile gets no code (MOBILE_INVALID)', async () => {
    const res = await fetch(new URL('/register/code', idp.issuer), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mobile: '12345' }) });
    expect(res.status).toBe(400);
    expect((await res.json() as { code: string }).code).toBe('MOBILE_INVALID');
  });
});

describe('idp.password-rehash', () => {
  /** A hash as the IdP wrote them before Argon2id: scrypt N=2^15, r=8, p=1. */
  const legacyScrypt = (password: string) => {
    const salt = randomBytes(16);
    const key = scryptSync(password.normalize('NFC'), salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    return ['scrypt', 15, 8, 1, salt.toString('base64url'), key.toString('base64url')].join('$');
  };

  test('a login with a password stored under scrypt succeeds and moves the hash to Argon2id; a wrong password changes nothing', async () => {
    const accounts = createAccountStore({ db: idp.db, clock: idp.deps.clock, factorKey: createSecretKey(Buffer.alloc(32, 1)) });
    const who = newCitizen();
    const { id } = await registerPerson(idp.issuer, { ...VALID, idNumber: who.idNumber, mobile: who.mobile, factorValue: 'HF-00998878' });
    const old = legacyScrypt(VALID.password);
    await idp.db.query('update idp.accounts set password_hash = $2 where id = $1', [id, old]);
    const stored = async () => (await idp.db.query<{ password_hash: string }>('select password_hash from idp.accounts where id = $1', [id])).rows[0]!.password_hash;

    await expect(accounts.authenticate(who.mobile, 'Wrong#pass2026')).rejects.toMatchObject({ code: 'LOGIN_FAILED' });
    expect(await stored()).toBe(old);
    expect((await accounts.authenticate(who.mobile, VALID.password)).id).toBe(id);
    const now = await stored();
    expect(now).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(VALID.password, now)).toBe(true);
    // The next login verifies against Argon2id and leaves it as it is.
    await accounts.authenticate(who.mobile, VALID.password);
    expect(await stored()).toBe(now);
  });
});

/**
 * R-ID-1 verification: the fixture registry's answers, registration against a strict registry
 * (name + ID confirmed and at least two factors verified, else FACTOR_UNVERIFIED and nothing
 * stored), the record of which factors were verified, the webhook verifier, the configuration
 * rules, and the registration rate limit.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../kernel/clock.ts';
import { loadConfig } from '../../kernel/config.ts';
import { silentLogger } from '../../kernel/log.ts';
import { verifyWebhook } from '../../kernel/notify.ts';
import { AGREEMENT } from '../accounts/store.ts';
import { postRegistration, startTestIdp, type TestIdp } from '../../test/support/oidc.ts';
import { fixtureVerifier, type FixtureRegistry } from '../dev-registry.ts';
import { createVerifier } from './index.ts';
import { webhookVerifier } from './webhook.ts';

const WANG = { name: '王小明', idNumber: '110105198001010016', mobile: '13711112222', socialSecurityCard: 'S11223344', bankCard: '6222000011112222', housingFund: 'HF778899' };
const REGISTRY: FixtureRegistry = { unlisted: 'unknown', persons: [WANG], companies: [] };

describe('verify.fixture', () => {
  const v = fixtureVerifier(REGISTRY);
  test('a listed person matches exactly; another name mismatches; an unlisted person is unknown', async () => {
    expect(await v.person({ name: WANG.name, idNumber: WANG.idNumber })).toBe('match');
    expect(await v.person({ name: '王小红', idNumber: WANG.idNumber })).toBe('mismatch');
    expect(await v.person({ name: WANG.name, idNumber: '11010519491231002X' })).toBe('unknown');
  });
  test('factors: the recorded value matches (spaces and case aside), another mismatches, an unrecorded kind is unknown', async () => {
    const who = { name: WANG.name, idNumber: WANG.idNumber };
    expect(await v.factor(who, 'bankCard', '6222 0000 1111 2222')).toBe('match');
    expect(await v.factor(who, 'socialSecurityCard', 's11223344')).toBe('match');
    expect(await v.factor(who, 'bankCard', '6222000011113333')).toBe('mismatch');
    expect(await v.factor(who, 'drivingLicenceFile', '330100123456')).toBe('unknown');
  });
  test('the built-in registry lets unlisted people match (development) and refuses to run in production', () => {
    const config = (env: Record<string, string>) => loadConfig({ NODE_ENV: 'test', ...env });
    expect(createVerifier(config({}), systemClock, silentLogger()).name).toBe('fixture');
    expect(() => createVerifier({ ...config({}), NODE_ENV: 'production' }, systemClock, silentLogger())).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => createVerifier(config({ IDP_VERIFIER: 'webhook' }), systemClock, silentLogger())).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('verify.webhook', () => {
  test('signed questions to the registry gateway; its answer is used; a failure is unknown, never match', async () => {
    const secret = 'registry-gateway-secret-0123456789abcdef';
    const seen: Array<{ body: string; ok: boolean }> = [];
    let answer: unknown = { result: 'match' };
    let status = 200;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        seen.push({ body, ok: verifyWebhook(secret, body, String(req.headers['x-yiwang-signature']), Math.floor(Date.now() / 1000)) });
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/verify`;
      const v = webhookVerifier({ url, secret, clock: systemClock, log: silentLogger() });
      expect(await v.factor({ name: WANG.name, idNumber: WANG.idNumber }, 'bankCard', WANG.bankCard)).toBe('match');
      expect(JSON.parse(seen[0]!.body)).toEqual({ check: 'factor', name: WANG.name, idNumber: WANG.idNumber, kind: 'bankCard', value: WANG.bankCard });
      expect(seen[0]!.ok).toBe(true);
      answer = { result: 'mismatch' };
      expect(await v.person({ name: WANG.name, idNumber: WANG.idNumber })).toBe('mismatch');
      answer = { result: 'yes please' };
      expect(await v.company({ creditCode: '91330106MA2B00001Y', name: 'x', legalRepName: 'y', legalRepIdNumber: WANG.idNumber })).toBe('unknown');
      status = 500;
      answer = { result: 'match' };
      expect(await v.person({ name: WANG.name, idNumber: WANG.idNumber })).toBe('unknown');
    } finally {
      server.close();
    }
  });
});

describe('verify.registration', () => {
  let idp: TestIdp;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'yiwang-fixtures-'));
    writeFileSync(join(dir, 'registry.json'), JSON.stringify(REGISTRY));
    idp = await startTestIdp({ seed: false, env: { IDP_VERIFY_FIXTURES: join(dir, 'registry.json'), IDP_REGISTER_PER_HOUR: '8', IDP_PLATFORM_ID: 'zj-province', IDP_PLATFORM_TIER: 'provincial' } });
  });
  afterAll(async () => { await idp?.close(); });
  const count = async () => Number((await idp.db.query<{ n: number }>('select count(*)::int as n from idp.accounts')).rows[0]!.n);
  const base = { name: WANG.name, idNumber: WANG.idNumber, mobile: WANG.mobile, password: 'Good#pass2026', agreementVersion: AGREEMENT.version };

  const refusals: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
    ['a person the population registry does not know', { idNumber: '11010519491231002X', factorType: 'bankCard', factorValue: WANG.bankCard }, { person: 'unknown' }],
    ['a name that does not match the ID number', { name: '王小红', factorType: 'bankCard', factorValue: WANG.bankCard }, { person: 'mismatch' }],
    ['only the mobile verified (the other factor is wrong)', { factorType: 'bankCard', factorValue: '6222000011113333' }, {
      factors: [{ type: 'mobile', verified: true }, { type: 'bankCard', verified: false, result: 'mismatch' }],
    }],
    ['a wrong mobile and one right factor', { mobile: '13799998888', factorType: 'bankCard', factorValue: WANG.bankCard }, {
      factors: [{ type: 'mobile', verified: false, result: 'mismatch' }, { type: 'bankCard', verified: true }],
    }],
    ['a factor kind not on record counts for nothing', { mobile: '13799998888', factorType: 'drivingLicenceFile', factorValue: '330100123456', factor2Type: 'housingFund', factor2Value: WANG.housingFund }, {
      factors: [{ type: 'mobile', verified: false, result: 'mismatch' }, { type: 'drivingLicenceFile', verified: false, result: 'unknown' }, { type: 'housingFund', verified: true }],
    }],
  ];
  test.each(refusals)('refuses %s with FACTOR_UNVERIFIED, naming each result and no value, and stores nothing', async (_l, change, details) => {
    const before = await count();
    const r = await postRegistration(idp.issuer, { ...base, ...change });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'FACTOR_UNVERIFIED', details });
    expect(JSON.stringify(r.body)).not.toContain(WANG.bankCard);
    expect(await count()).toBe(before);
  });

  test('two verified factors register at L3 with what was verified, by whom and when; an unverified third is recorded as such', async () => {
    const r = await postRegistration(idp.issuer, { ...base, mobile: '13799998888', factorType: 'bankCard', factorValue: WANG.bankCard, factor2Type: 'socialSecurityCard', factor2Value: WANG.socialSecurityCard });
    expect(r.status).toBe(201);
    const row = (await idp.db.query<Record<string, any>>('select * from idp.accounts where id = $1', [r.body.id])).rows[0]!;
    expect(row).toMatchObject({ assurance_level: 3, proofing: 'online-verified', registered_platform: 'zj-province', registered_tier: 'provincial' });
    expect(row.factors).toEqual([
      { type: 'mobile', last4: '8888', verified: false, result: 'mismatch', source: 'carrier', at: expect.any(String) },
      { type: 'bankCard', hash: expect.any(String), last4: '2222', verified: true, source: 'bank', at: expect.any(String) },
      { type: 'socialSecurityCard', hash: expect.any(String), last4: '3344', verified: true, source: 'social-security', at: expect.any(String) },
    ]);
  });

  test('two factors of the same kind are BAD_INPUT', async () => {
    const r = await postRegistration(idp.issuer, { ...base, idNumber: '11010519491231002X', factorType: 'bankCard', factorValue: '1111222233', factor2Type: 'bankCard', factor2Value: '4444555566' });
    expect(r.body).toMatchObject({ code: 'BAD_INPUT', details: { fields: ['factor2Type'] } });
  });

  test('registrations per address are limited (RATE_LIMITED)', async () => {
    let last = 0;
    for (let i = 0; i < 10 && last !== 429; i++) last = (await postRegistration(idp.issuer, { ...base, name: '' })).status;
    expect(last).toBe(429);
    const r = await postRegistration(idp.issuer, base);
    expect(r.body).toMatchObject({ code: 'RATE_LIMITED', details: { retryAfter: expect.any(Number) } });
  });
});

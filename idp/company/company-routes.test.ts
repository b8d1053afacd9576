/**
 * R-ID-4's electronic business licence and enterprise certificate routes through the JSON API
 * (bearer token of a verified person) against a real IdP: registration from a licence sealed by
 * a business-registration agency (status list fetched from its URL), registration and linking by
 * an enterprise certificate signing a challenge (with Node's crypto, and with the openssl
 * commands the page and docs show), and every refusal, each with its code and nothing stored.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { randomUUID, sign, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCache } from '../../kernel/cache.ts';
import { ManualClock, OffsetClock } from '../../kernel/clock.ts';
import { loadConfig } from '../../kernel/config.ts';
import { DEMO_CITIZEN, DEMO_LICENCE_TYPES } from '../../kernel/demo.ts';
import { formatLicenceId } from '../../kernel/ids.ts';
import { buildCrl, buildLicenceCredential, buildStatusListCredential, emptyBitstring, issuerId, setBit, signLicence, signStatusList, type LicenceFields, type StatusEntry } from '../../seal/index.ts';
import { issueEnterpriseCertificate, makeEnterpriseCa, type EnterpriseCa } from '../../seal/testing/enterprise.ts';
import { HANGZHOU_SAMR, licenceFields, makeHierarchy, type Hierarchy } from '../../seal/testing/hierarchy.ts';
import { OID_KP_DOCUMENT_SIGNING } from '../../seal/index.ts';
import { newCitizen } from '../../test/journey.ts';
import { CookieJar, authorizeInBrowser, browserFetch, callApi, loginWithPkce, pageErrorCode, parseForms, registerPerson, startTestIdp, type TestIdp } from '../../test/support/oidc.ts';
import { AGREEMENT } from '../accounts/store.ts';
import { creditCode } from '../../test/support/idp/companies.ts';
import { DEMO_COMPANY } from '../dev-registry.ts';
import { signCommands } from './pages.ts';
import { createCertificateProof } from './certificate.ts';
import { createLicenceProof } from './licence.ts';
import { readFileList } from './trust.ts';

const DAY = 86_400_000;
const clock = new OffsetClock();
let idp: TestIdp;
let seal: Hierarchy;
let foreign: Hierarchy;
let eca: EnterpriseCa;
let otherCa: EnterpriseCa;
let statusServer: Server;
let statusUrl: string;
let list: string;
let crlFile: string;
const dir = mkdtempSync(join(tmpdir(), 'yiwang-company-'));
const REVOKED_INDEX = 9;

/** A person registered here (L3) with a bearer token. */
async function person() {
  const c = newCitizen();
  const { id } = await registerPerson(idp.issuer, c);
  const token = (await loginWithPkce({ issuer: idp.issuer, redirectUri: 'http://127.0.0.1:3000/callback', login: c.idNumber, password: c.password })).access_token;
  return { ...c, id, token };
}
let serial = 0;
let codes = Math.floor(Math.random() * 50_000);
/** A company credit code no one has registered yet (this test's database is its own). */
const freshCode = () => creditCode(`91330106MA2C${String(++codes).padStart(5, '0')}`);

/** A sealed electronic business licence of `company` naming `rep`, with a revocation entry at `index`. */
async function businessLicence(o: { company: { code: string; name: string }; rep?: { name: string; idNumber: string } | null; index?: number; statusAt?: string; by?: Hierarchy } & Partial<LicenceFields>) {
  const { company, rep, index, statusAt, by, ...overrides } = o;
  const typeCode = overrides.typeCode ?? DEMO_LICENCE_TYPES.businessLicence.code;
  const entry: StatusEntry = { id: `${statusAt ?? statusUrl}#${index ?? 7}`, type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: String(index ?? 7), statusListCredential: statusAt ?? statusUrl };
  const fields = licenceFields({
    identifier: formatLicenceId({ typeCode, agencyCode: HANGZHOU_SAMR.code, serial: `2026${String(++serial).padStart(6, '0')}`, version: '001' }),
    typeCode, typeName: typeCode === DEMO_LICENCE_TYPES.businessLicence.code ? '营业执照' : '食品经营许可证', number: `YYZZ${serial}`,
    holderId: randomUUID(), holderName: company.name, holderCode: company.code,
    validFrom: new Date(Date.now() - DAY).toISOString(), validUntil: new Date(Date.now() + 365 * DAY).toISOString(),
    ...(rep ? { legalRepresentative: { name: rep.name, idNumber: rep.idNumber } } : {}),
    ...overrides,
  });
  const h = by ?? seal;
  return signLicence(buildLicenceCredential(fields, [entry]), { privateKey: h.seal.privateKey, chainPem: h.chain }, new Date(Date.now() - 60_000));
}

beforeAll(async () => {
  seal = makeHierarchy(new Date(Date.now() - 30 * DAY));
  foreign = makeHierarchy(new Date(Date.now() - 30 * DAY));
  eca = makeEnterpriseCa(new Date(Date.now() - 30 * DAY));
  otherCa = makeEnterpriseCa(new Date(Date.now() - 30 * DAY), '另一企业CA');
  statusServer = createServer((req, res) => res.writeHead(200, { 'content-type': 'application/vc+jwt' }).end(list));
  await new Promise<void>((r) => statusServer.listen(0, '127.0.0.1', r));
  statusUrl = `http://127.0.0.1:${(statusServer.address() as { port: number }).port}/status/1`;
  const bits = emptyBitstring();
  setBit(bits, REVOKED_INDEX, true);
  list = await signStatusList(buildStatusListCredential({ url: statusUrl, issuer: { id: issuerId(HANGZHOU_SAMR.code), name: HANGZHOU_SAMR.name }, purpose: 'revocation', bits, now: new Date(Date.now() - 60_000), ttlMs: DAY }),
    { privateKey: seal.seal.privateKey, chainPem: seal.chain }, new Date(Date.now() - 60_000));
  crlFile = join(dir, 'enterprise.crl');
  writeFileSync(crlFile, buildCrl({ issuerCertPem: eca.ca.certPem, issuerKey: eca.ca.privateKey, thisUpdate: new Date(Date.now() - DAY), nextUpdate: new Date(Date.now() + DAY), crlNumber: 1, entries: [] }));
  idp = await startTestIdp({
    clock,
    env: {
      IDP_LICENCE_TRUST_BUNDLE: seal.root.certPem, IDP_LICENCE_STATUS_CACHE: join(dir, 'status'), IDP_LICENCE_STATUS_ONLINE: 'true',
      IDP_ENTERPRISE_CA_BUNDLE: eca.root.certPem, IDP_ENTERPRISE_CRLS: crlFile, IDP_CERT_CHALLENGE_TTL_SECONDS: '300',
      // Every test registers people and companies from one address.
      IDP_REGISTER_PER_HOUR: '1000',
    },
  });
}, 60_000);
afterAll(async () => {
  await idp?.close();
  await new Promise((r) => statusServer?.close(r));
});

const companyCount = async () => Number((await idp.db.query<{ n: number }>('select count(*)::int as n from idp.companies')).rows[0]!.n);
const certCount = async () => Number((await idp.db.query<{ n: number }>('select count(*)::int as n from idp.company_certificates')).rows[0]!.n);
const postLicence = (token: string, licence: unknown, agreementVersion: string = AGREEMENT.version) =>
  callApi(idp.issuer, 'POST', '/account/api/companies/licence', { token, body: { licence, agreementVersion } });

describe('company.licence', () => {
  test('the legal representative registers the company from its electronic business licence: code and name from it, L3, what proved it kept', async () => {
    const rep = await person();
    const company = { code: freshCode(), name: '杭州执照示范有限公司' };
    const r = await postLicence(rep.token, await businessLicence({ company, rep }));
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      creditCode: company.code, name: company.name, legalRepAccountId: rep.id, route: 'licence', assuranceLevel: 3,
      evidence: { typeCode: DEMO_LICENCE_TYPES.businessLicence.code, issuerCode: HANGZHOU_SAMR.code, statusChecked: true },
    });
    // The licence service's JSON form ({ "credential": … }) is taken too; the same company again is COMPANY_EXISTS.
    const again = await postLicence(rep.token, JSON.stringify({ credential: await businessLicence({ company, rep }) }));
    expect(again.body.code).toBe('COMPANY_EXISTS');
  });

  test('a status list that cannot be had leaves the status unchecked, and the evidence says so', async () => {
    const rep = await person();
    const r = await postLicence(rep.token, await businessLicence({ company: { code: freshCode(), name: '杭州离线示范有限公司' }, rep, statusAt: 'http://127.0.0.1:9/status/none' }));
    expect(r).toMatchObject({ status: 201, body: { evidence: { statusChecked: false } } });
  });

  // Every row has all five members: jest takes a callback with more parameters than the row for a `done` test.
  const refusals: Array<[string, string, number, (rep: { name: string; idNumber: string }) => Promise<unknown>, string]> = [
    ['no licence', 'BAD_INPUT', 400, async () => '', ''],
    ['not a licence', 'LICENCE_UNSIGNED', 400, async () => 'eyJhbGciOiJub25lIn0.e30.', ''],
    ['sealed under another root', 'LICENCE_UNKNOWN_ISSUER', 400, async (rep) => businessLicence({ company: { code: freshCode(), name: '某公司' }, rep, by: foreign }), ''],
    ['altered after sealing', 'LICENCE_BAD_SIGNATURE', 400, async (rep) => {
      const [h, p, s] = (await businessLicence({ company: { code: freshCode(), name: '某公司' }, rep })).split('.');
      const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
      payload.credentialSubject.licence.holderName = '改过的公司';
      return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    }, ''],
    ['expired', 'LICENCE_EXPIRED', 400, async (rep) => businessLicence({ company: { code: freshCode(), name: '某公司' }, rep, validFrom: new Date(Date.now() - 20 * DAY).toISOString(), validUntil: new Date(Date.now() - DAY).toISOString() }), ''],
    ['revoked by its issuer (status list fetched)', 'LICENCE_REVOKED', 400, async (rep) => businessLicence({ company: { code: freshCode(), name: '某公司' }, rep, index: REVOKED_INDEX }), ''],
    ['of another licence type', 'BUSINESS_LICENCE_INVALID', 400, async (rep) => businessLicence({ company: { code: freshCode(), name: '某公司' }, rep, typeCode: DEMO_LICENCE_TYPES.foodBusiness.code }), 'type'],
    ['held by a person', 'BUSINESS_LICENCE_INVALID', 400, async (rep) => businessLicence({ company: { code: rep.idNumber, name: rep.name }, rep: null }), 'holder'],
    ['naming no legal representative', 'BUSINESS_LICENCE_INVALID', 400, async () => businessLicence({ company: { code: freshCode(), name: '某公司' }, rep: null }), 'legal-representative'],
    ['naming another legal representative', 'LEGAL_REP_MISMATCH', 403, async () => businessLicence({ company: { code: freshCode(), name: '某公司' }, rep: { name: DEMO_CITIZEN.name, idNumber: DEMO_CITIZEN.idNumber } }), ''],
  ];
  test.each(refusals)('a licence %s is refused (%s, HTTP %i) and nothing is stored', async (_l, code, status, make, reason) => {
    const rep = await person();
    const before = await companyCount();
    const r = await postLicence(rep.token, await make(rep));
    expect(r).toMatchObject({ status, body: { code, ...(reason ? { details: { reason } } : {}) } });
    expect(await companyCount()).toBe(before);
  });

  test('without the agreement, or without a token, nothing is checked or stored', async () => {
    const rep = await person();
    const licence = await businessLicence({ company: { code: freshCode(), name: '某公司' }, rep });
    expect((await postLicence(rep.token, licence, '')).body).toMatchObject({ code: 'BAD_INPUT', details: { fields: ['agreementVersion'] } });
    expect((await callApi(idp.issuer, 'POST', '/account/api/companies/licence', { body: { licence, agreementVersion: AGREEMENT.version } })).body.code).toBe('UNAUTHENTICATED');
  });
});

describe('company.certificate', () => {
  const challenge = async (token: string) => (await callApi(idp.issuer, 'POST', '/account/api/companies/certificate/challenge', { token, body: {} })).body as { challenge: string; expiresIn: number };
  const present = (token: string, body: Record<string, unknown>) => callApi(idp.issuer, 'POST', '/account/api/companies/certificate', { token, body: { agreementVersion: AGREEMENT.version, ...body } });
  const sigOf = (key: Parameters<typeof sign>[2], text: string) => sign('sha256', Buffer.from(text), key).toString('base64');
  const enterprise = (company: { code?: string; name: string }, o: Partial<Parameters<typeof issueEnterpriseCertificate>[1]> = {}, by: EnterpriseCa = eca) => {
    const cert = issueEnterpriseCertificate(by.ca, { companyName: company.name, creditCode: company.code, now: new Date(Date.now() - DAY), ...o });
    return { ...cert, chain: `${cert.certPem}${by.ca.certPem}` };
  };

  test('the company\'s certificate signs the challenge: registered at L5, the certificate recorded; the signature made with the documented openssl commands', async () => {
    const rep = await person();
    const company = { code: freshCode(), name: '杭州证书示范有限公司' };
    const cert = enterprise(company);
    const { challenge: text, expiresIn } = await challenge(rep.token);
    expect(expiresIn).toBe(300);
    writeFileSync(join(dir, 'enterprise-key.pem'), cert.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const signature = execFileSync('sh', ['-c', signCommands(text)], { cwd: dir, encoding: 'utf8' }).trim();
    const r = await present(rep.token, { challenge: text, certificate: cert.chain, signature });
    expect(r).toMatchObject({ status: 201, body: { creditCode: company.code, name: company.name, route: 'certificate', assuranceLevel: 5, legalRepAccountId: rep.id } });
    const row = (await idp.db.query<Record<string, any>>('select * from idp.company_certificates where credit_code = $1', [company.code])).rows[0]!;
    expect(row).toMatchObject({ fingerprint: new X509Certificate(cert.certPem).fingerprint256, linked_by: rep.id });
    // Used once: the same challenge again is CHALLENGE_INVALID.
    expect((await present(rep.token, { challenge: text, certificate: cert.chain, signature })).body.code).toBe('CHALLENGE_INVALID');
  });

  test('a company of the representative registered by registry comparison links its certificate and rises to L5 (200)', async () => {
    const rep = await person();
    const company = { code: freshCode(), name: '杭州比对示范有限公司' };
    expect((await callApi(idp.issuer, 'POST', '/account/api/companies', { token: rep.token, body: { creditCode: company.code, name: company.name, agreementVersion: AGREEMENT.version } })).body).toMatchObject({ route: 'registry', assuranceLevel: 3 });
    const cert = enterprise(company);
    const { challenge: text } = await challenge(rep.token);
    const r = await present(rep.token, { challenge: text, certificate: cert.chain, signature: sigOf(cert.privateKey, text) });
    expect(r).toMatchObject({ status: 200, body: { route: 'registry', assuranceLevel: 5 } });
    expect(await certCount()).toBeGreaterThan(0);
  });

  test('a challenge expires, and is good only for the account it was issued to', async () => {
    const rep = await person();
    const other = await person();
    const cert = enterprise({ code: freshCode(), name: '某公司' });
    const theirs = await challenge(other.token);
    expect((await present(rep.token, { challenge: theirs.challenge, certificate: cert.chain, signature: sigOf(cert.privateKey, theirs.challenge) })).body.code).toBe('CHALLENGE_INVALID');
    const mine = await challenge(rep.token);
    clock.offsetMs = 301_000;
    try {
      expect((await present(rep.token, { challenge: mine.challenge, certificate: cert.chain, signature: sigOf(cert.privateKey, mine.challenge) })).body.code).toBe('CHALLENGE_INVALID');
    } finally {
      clock.offsetMs = 0;
    }
    expect((await present(rep.token, { challenge: 'yiwang-enterprise-cert:made-up', certificate: cert.chain, signature: 'AAAA' })).body.code).toBe('CHALLENGE_INVALID');
  });

  const refusals: Array<[string, string, () => { chain: string; key: Parameters<typeof sign>[2]; signText?: string }]> = [
    ['a certificate of an untrusted CA', 'ENTERPRISE_CERT_UNTRUSTED', () => { const c = enterprise({ code: freshCode(), name: '某公司' }, {}, otherCa); return { chain: c.chain, key: c.privateKey }; }],
    ['an expired certificate', 'ENTERPRISE_CERT_EXPIRED', () => { const c = enterprise({ code: freshCode(), name: '某公司' }, { notBefore: new Date(Date.now() - 20 * DAY), days: 10 }); return { chain: c.chain, key: c.privateKey }; }],
    ['a certificate not for client authentication', 'ENTERPRISE_CERT_KEY_USAGE', () => { const c = enterprise({ code: freshCode(), name: '某公司' }, { extKeyUsage: [OID_KP_DOCUMENT_SIGNING] }); return { chain: c.chain, key: c.privateKey }; }],
    ['a certificate without a credit code', 'ENTERPRISE_CERT_CREDIT_CODE', () => { const c = enterprise({ code: undefined, name: '某公司' }); return { chain: c.chain, key: c.privateKey }; }],
    ['no certificate at all', 'ENTERPRISE_CERT_INVALID', () => ({ chain: 'hello', key: eca.ca.privateKey })],
    ['a signature over other text', 'ENTERPRISE_SIGNATURE_INVALID', () => { const c = enterprise({ code: freshCode(), name: '某公司' }); return { chain: c.chain, key: c.privateKey, signText: 'something else' }; }],
    ['a signature by another key', 'ENTERPRISE_SIGNATURE_INVALID', () => { const c = enterprise({ code: freshCode(), name: '某公司' }); return { chain: c.chain, key: eca.ca.privateKey }; }],
    ['the demo company, whose legal representative the registry says is someone else', 'COMPANY_UNVERIFIED', () => { const c = enterprise({ code: DEMO_COMPANY.creditCode, name: DEMO_COMPANY.name }); return { chain: c.chain, key: c.privateKey }; }],
  ];
  test.each(refusals)('%s is refused (%s) and nothing is stored', async (_l, code, make) => {
    const rep = await person();
    const before = [await companyCount(), await certCount()];
    const { chain, key, signText } = make();
    const { challenge: text } = await challenge(rep.token);
    const r = await present(rep.token, { challenge: text, certificate: chain, signature: sigOf(key, signText ?? text) });
    expect(r.body.code).toBe(code);
    expect([await companyCount(), await certCount()]).toEqual(before);
  });

  test('a certificate its CA revoked (IDP_ENTERPRISE_CRLS, read at each check) is ENTERPRISE_CERT_REVOKED', async () => {
    const rep = await person();
    const cert = enterprise({ code: freshCode(), name: '某公司' });
    writeFileSync(crlFile, buildCrl({ issuerCertPem: eca.ca.certPem, issuerKey: eca.ca.privateKey, thisUpdate: new Date(Date.now() - DAY), nextUpdate: new Date(Date.now() + DAY), crlNumber: 2,
      entries: [{ serialHex: new X509Certificate(cert.certPem).serialNumber, revokedAt: new Date(), reason: 'keyCompromise' }] }));
    const { challenge: text } = await challenge(rep.token);
    expect((await present(rep.token, { challenge: text, certificate: cert.chain, signature: sigOf(cert.privateKey, text) })).body.code).toBe('ENTERPRISE_CERT_REVOKED');
  });

  test('a company registered to someone else is COMPANY_EXISTS; missing fields are BAD_INPUT', async () => {
    const owner = await person();
    const company = { code: freshCode(), name: '杭州他人示范有限公司' };
    await callApi(idp.issuer, 'POST', '/account/api/companies', { token: owner.token, body: { creditCode: company.code, name: company.name, agreementVersion: AGREEMENT.version } });
    const rep = await person();
    const cert = enterprise(company);
    const { challenge: text } = await challenge(rep.token);
    expect((await present(rep.token, { challenge: text, certificate: cert.chain, signature: sigOf(cert.privateKey, text) })).body.code).toBe('COMPANY_EXISTS');
    expect((await present(rep.token, { challenge: text })).body).toMatchObject({ code: 'BAD_INPUT', details: { fields: ['certificate', 'signature'] } });
  });
});

describe('company.page', () => {
  test('the registration page: the licence form, the certificate\'s two steps with the openssl commands, results and refusals on the page', async () => {
    const rep = await person();
    const url = (path: string) => new URL(path, idp.issuer);
    const jar = new CookieJar();
    await (await browserFetch(jar, await authorizeInBrowser(jar, url('/account/login'), { redirectUri: `${idp.issuer}/account/callback`, login: rep.idNumber, password: rep.password }))).body?.cancel();
    const post = async (page: string, action: string, fields: Record<string, string>) => {
      const f = parseForms(page).find((x) => x.action === action);
      if (!f) throw new Error(`no form ${action}`);
      const res = await browserFetch(jar, url(action), { form: { ...f.fields, ...fields } });
      return { status: res.status, html: await res.text() };
    };
    const page = await (await browserFetch(jar, url('/account/companies'))).text();
    const company = { code: freshCode(), name: '杭州页面示范有限公司' };
    const registered = await post(page, '/account/companies/licence', { licence: await businessLicence({ company, rep }), agreementVersion: AGREEMENT.version });
    expect(registered.status).toBe(201);
    expect(registered.html).toContain(`法人单位已注册：${company.name}`);

    const step = await post(registered.html, '/account/companies/certificate/challenge', {});
    expect(step.html).toContain('openssl dgst -sha256 -sign enterprise-key.pem');
    const text = parseForms(step.html).find((x) => x.action === '/account/companies/certificate')!.fields.challenge!;
    expect(text).toMatch(/^yiwang-enterprise-cert:/);
    const cert = issueEnterpriseCertificate(eca.ca, { companyName: company.name, creditCode: company.code, now: new Date(Date.now() - DAY) });
    const fields = { certificate: `${cert.certPem}${eca.ca.certPem}`, signature: sign('sha256', Buffer.from(text), cert.privateKey).toString('base64'), agreementVersion: AGREEMENT.version };
    const linked = await post(step.html, '/account/companies/certificate', fields);
    expect(linked.status).toBe(200);
    expect(linked.html).toContain('已绑定企业数字证书');
    const again = await post(step.html, '/account/companies/certificate', fields);
    expect(pageErrorCode(again.html)).toBe('CHALLENGE_INVALID');
    const forged = await browserFetch(jar, url('/account/companies/licence'), { form: { _csrf: 'forged', licence: 'x', agreementVersion: AGREEMENT.version } });
    expect(forged.status).toBe(403);
  });
});

describe('company.not-configured', () => {
  const rep = { id: randomUUID(), kind: 'person', name: '张三', idNumber: DEMO_CITIZEN.idNumber, assuranceLevel: 3 } as unknown as Parameters<ReturnType<typeof createLicenceProof>>[0];
  test('without a licence trust bundle (nor the default file) the licence route is FEATURE_NOT_CONFIGURED', async () => {
    const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: mkdtempSync(join(tmpdir(), 'yiwang-empty-')) });
    await expect(createLicenceProof({ config, clock: new ManualClock() })(rep, 'a.b.c')).rejects.toMatchObject({ code: 'FEATURE_NOT_CONFIGURED' });
  });
  test('without an enterprise CA the certificate route is FEATURE_NOT_CONFIGURED (after the challenge, which is used up)', async () => {
    const cache = await openCache({});
    try {
      const proof = createCertificateProof({ cache, clock: new ManualClock(), config: loadConfig({ NODE_ENV: 'test' }) });
      const { challenge } = await proof.challenge(rep.id);
      await expect(proof.prove(rep, { challenge, certificate: 'x', signature: 'AAAA' })).rejects.toMatchObject({ code: 'FEATURE_NOT_CONFIGURED' });
      await expect(proof.prove(rep, { challenge, certificate: 'x', signature: 'AAAA' })).rejects.toMatchObject({ code: 'CHALLENGE_INVALID' });
    } finally {
      await cache.close();
    }
  });
  test('a configured CRL file that cannot be read stops the check with CONFIG_INVALID naming the variable', async () => {
    expect(() => readFileList('IDP_ENTERPRISE_CRLS', '/nonexistent/x.crl')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('IDP_ENTERPRISE_CRLS') }));
  });
});

/**
 * licence.external: seals from a province's offline CA (LICENCE_SEAL_MODE=external), end to end.
 * The offline CA is a real `yiwang seal` directory; the licence service never self-issues:
 * without an installed seal an agency gets SEAL_NOT_FOUND and its licence waits; the service
 * makes the key and the PKCS #10 request (the key never leaves it), the CLI certifies it, a
 * decider installs the chain, licences are then sealed with it and verify — with the service's
 * POST /verify and with verifyLicence against the exported trust bundle. A chain under a foreign
 * root, for another key, a certificate that is not a seal, or one of another agency is refused
 * with its code and nothing stored changes. Every act is in the append-only seal audit.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANONYMOUS } from '../../test/support/subgraph.ts';
import { certifySealKey, createFileKeyStore, readCsr, readTrustBundle, runSeal, verifyLicence } from '../../seal/index.ts';
import type { CliIo } from '../../kernel/cli.ts';
import { systemClock } from '../../kernel/clock.ts';
import { DEMO_AGENCIES } from '../../kernel/demo.ts';
import { loadConfig } from '../../kernel/config.ts';
import { licenceServiceFactory } from './service.ts';
import { createTrustStore } from './trust.ts';
import { caseApproved, codeOf, eventually, HZ_SAMR, issue, licencesForCase, staffOf, startLicenceFixture, ZJ_SAMR, type LicenceFixture } from '../../test/support/licence.ts';

const PASS = 'offline-ca-passphrase-0123456789';
const OPERATOR = ZJ_SAMR; // the agency operating the licence service: its deciders manage the TSA
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
let dir: string;
let f: LicenceFixture;
let root: string, zj: string;

async function seal(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env: { KEY_PASSPHRASE: PASS }, cwd: dir };
  const code = await runSeal(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}
const idOf = (out: string) => out.split(/\s/)[0]!;

const REQUEST_SEAL = `mutation ($agencyCode: String!, $agencyName: String!) {
  requestSealCertificate(agencyCode: $agencyCode, agencyName: $agencyName) { id role agencyCode name csr state requestedBy certificate { id } } }`;
const REQUEST_TSA = 'mutation { requestTimestampCertificate { id role name csr state } }';
const INSTALL = `mutation ($requestId: ID!, $chain: String!, $sealImage: String) {
  installSealCertificate(requestId: $requestId, chain: $chain, sealImage: $sealImage) { id role source agencyCode serialHex state crl subject } }`;
type Req = { id: string; csr: string; state: string; name: string };

async function stored() {
  const q = async (sql: string) => JSON.stringify((await f.db.query(sql)).rows);
  return {
    certificates: await q('select id, status from licence.certificates order by id'),
    requests: await q('select id, state, certificate_id from licence.seal_requests order by id'),
    audit: await q('select count(*)::int as n from licence.seal_audit'),
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'yw-external-'));
  writeFileSync(join(dir, 'seal.png'), PNG);
  root = idOf((await seal('--dir', 'ca', 'init-root', '--name', '国家政务服务电子印章根CA')).out);
  zj = idOf((await seal('--dir', 'ca', 'issue-ca', '--parent', root, '--name', '浙江省电子印章CA', '--region', '330000')).out);
  expect((await seal('--dir', 'ca', 'export-bundle', '--out', 'national.pem')).code).toBe(0);
  f = await startLicenceFixture({
    env: { LICENCE_SEAL_MODE: 'external', LICENCE_TRUST_ANCHORS: join(dir, 'national.pem'), LICENCE_OPERATOR_AGENCY: OPERATOR.code },
  });
}, 60_000);
afterAll(async () => {
  await f?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('licence.external without installed certificates', () => {
  test('nothing self-issued; the trust bundle is the configured national root; an agency without a seal gets SEAL_NOT_FOUND', async () => {
    expect((await f.db.query('select id from licence.certificates')).rows).toEqual([]);
    const bundle = await (await fetch(`${f.svc.url}/trust-bundle.pem`)).text();
    expect(readTrustBundle(bundle)).toEqual(readTrustBundle(readFileSync(join(dir, 'national.pem'), 'utf8')));
    const trust = createTrustStore({ db: f.db, passphrase: 'unused-passphrase-0123456789', clock: systemClock, mode: 'external' });
    await expect(f.db.tx((q) => trust.sealFor(q, HZ_SAMR))).rejects.toMatchObject({ code: 'SEAL_NOT_FOUND' });
    await expect(f.db.tx((q) => trust.timestamper(q))).rejects.toMatchObject({ code: 'SEAL_NOT_FOUND' });
  });
});

describe('licence.external configuration', () => {
  test('external mode needs its anchors and operating agency; a bad anchors file stops the service at start', async () => {
    expect(() => loadConfig({ LICENCE_SEAL_MODE: 'external', LICENCE_OPERATOR_AGENCY: OPERATOR.code })).toThrow(/LICENCE_TRUST_ANCHORS/);
    expect(() => loadConfig({ LICENCE_SEAL_MODE: 'external', LICENCE_TRUST_ANCHORS: 'x.pem' })).toThrow(/LICENCE_OPERATOR_AGENCY/);
    expect(() => loadConfig({ LICENCE_OPERATOR_AGENCY: '11330100MB0000002X' })).toThrow(/LICENCE_OPERATOR_AGENCY/);
    writeFileSync(join(dir, 'empty.pem'), '# nothing here\n');
    for (const file of [join(dir, 'missing.pem'), join(dir, 'empty.pem')]) {
      const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dir, LICENCE_SEAL_MODE: 'external', LICENCE_TRUST_ANCHORS: file, LICENCE_OPERATOR_AGENCY: OPERATOR.code });
      await expect(licenceServiceFactory()({ ...f.deps, config }, { port: 0 })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('LICENCE_TRUST_ANCHORS') });
    }
  });
});

describe('licence.external request → offline CA → install → issue → verify', () => {
  let sealReq: Req;
  let tsaReq: Req;
  let pendingCase: ReturnType<typeof caseApproved>;

  test('a case approved before any seal is installed issues nothing: the event fails and stays pending', async () => {
    pendingCase = caseApproved();
    const calls = f.directory.calls;
    await f.publish('cases', 'case.approved', pendingCase);
    // The holder lookup runs before each attempt: two lookups mean the first attempt failed (SEAL_NOT_FOUND) and was retried.
    await eventually(async () => f.directory.calls >= calls + 2);
    expect(await licencesForCase(f, pendingCase.caseId)).toEqual([]);
  });

  test('deciders request: the service keeps the key and answers a PKCS #10 request; others are refused', async () => {
    const r = await f.call<{ requestSealCertificate: Req & { role: string; agencyCode: string; requestedBy: string } }>(
      staffOf(HZ_SAMR.code), REQUEST_SEAL, { agencyCode: HZ_SAMR.code, agencyName: HZ_SAMR.name });
    expect(r.errors).toBeUndefined();
    sealReq = r.data!.requestSealCertificate;
    expect(sealReq).toMatchObject({ role: 'SEAL', agencyCode: HZ_SAMR.code, name: `${HZ_SAMR.name}电子证照专用章`, state: 'PENDING', certificate: null });
    expect(readCsr(sealReq.csr).subject).toEqual({ commonName: `${HZ_SAMR.name}电子证照专用章`, organization: HZ_SAMR.name, organizationIdentifier: HZ_SAMR.code });
    const { rows } = await f.db.query<{ key_pem: string }>('select key_pem from licence.seal_requests where id = $1', [sealReq.id]);
    expect(rows[0]!.key_pem).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);

    const t = await f.call<{ requestTimestampCertificate: Req }>(staffOf(OPERATOR.code), REQUEST_TSA);
    tsaReq = t.data!.requestTimestampCertificate;
    expect(tsaReq.state).toBe('PENDING');

    const vars = { agencyCode: HZ_SAMR.code, agencyName: HZ_SAMR.name };
    expect(codeOf(await f.call(staffOf(DEMO_AGENCIES[2].code), REQUEST_SEAL, vars))).toBe('ROLE_REQUIRED');
    expect(codeOf(await f.call(ANONYMOUS, REQUEST_SEAL, vars))).toBe('UNAUTHENTICATED');
    expect(codeOf(await f.call(staffOf(HZ_SAMR.code), REQUEST_TSA))).toBe('ROLE_REQUIRED');
    expect(codeOf(await f.call(staffOf(HZ_SAMR.code), REQUEST_SEAL, { ...vars, agencyCode: '11330100MB0000002X' }))).toBe('ROLE_REQUIRED');
  });

  test('a request naming the agency with invisible format characters is BAD_INPUT and stores nothing (the name would be on every licence)', async () => {
    const before = (await f.db.query('select id from licence.seal_requests')).rows.length;
    for (const agencyName of [`${HZ_SAMR.name}\u200B`, `\u202E${[...HZ_SAMR.name].reverse().join('')}`]) {
      expect(codeOf(await f.call(staffOf(HZ_SAMR.code), REQUEST_SEAL, { agencyCode: HZ_SAMR.code, agencyName }))).toBe('BAD_INPUT');
    }
    expect((await f.db.query('select id from licence.seal_requests')).rows).toHaveLength(before);
  });

  test('refused chains — foreign root, another key, not a seal certificate, another agency — store nothing', async () => {
    writeFileSync(join(dir, 'seal.csr'), sealReq.csr);
    const seals = ['--agency-name', HZ_SAMR.name, '--agency-code', HZ_SAMR.code, '--seal-name', '电子证照专用章', '--image', 'seal.png'];
    // A foreign hierarchy with the same names.
    const otherRoot = idOf((await seal('--dir', 'other', 'init-root', '--name', '国家政务服务电子印章根CA')).out);
    const otherCa = idOf((await seal('--dir', 'other', 'issue-ca', '--parent', otherRoot, '--name', '浙江省电子印章CA', '--region', '330000')).out);
    expect((await seal('--dir', 'other', 'issue-seal', '--ca', otherCa, '--csr', 'seal.csr', '--out', 'foreign.pem', ...seals)).code).toBe(0);
    // The real CA, but for the TSA request's key.
    writeFileSync(join(dir, 'tsa.csr'), tsaReq.csr);
    const asSealForTsaKey = { ...(await f.db.query<{ csr_pem: string }>('select csr_pem from licence.seal_requests where id = $1', [tsaReq.id])).rows[0]! };
    writeFileSync(join(dir, 'tsa-as-seal.csr'), asSealForTsaKey.csr_pem);
    expect((await seal('--dir', 'ca', 'issue-seal', '--ca', zj, '--csr', 'tsa-as-seal.csr', '--out', 'other-key.pem', ...seals)).code).toBe(0);
    // The real CA certifies the seal key as a TSA.
    expect((await seal('--dir', 'ca', 'issue-tsa', '--parent', root, '--name', '时间戳', '--csr', 'seal.csr', '--out', 'not-a-seal.pem')).code).toBe(0);
    // A careless CA: the seal key certified for another agency (the CLI itself refuses that request).
    const caKey = { certPem: readFileSync(join(dir, 'ca', 'certs', `${zj}.pem`), 'utf8'), privateKey: await createFileKeyStore(join(dir, 'ca', 'keys'), PASS).get(zj) };
    const wrongAgency = certifySealKey(caKey, {
      agencyName: DEMO_AGENCIES[2].name, agencyCode: DEMO_AGENCIES[2].code, sealName: '电子证照专用章', now: new Date(), publicKey: readCsr(sealReq.csr).publicKey,
    });

    const before = await stored();
    const cases: Array<[string, string, string | undefined]> = [
      [readFileSync(join(dir, 'foreign.pem'), 'utf8'), 'SEAL_CHAIN_INVALID', 'LICENCE_UNKNOWN_ISSUER'],
      [readFileSync(join(dir, 'other-key.pem'), 'utf8'), 'SEAL_KEY_MISMATCH', undefined],
      [readFileSync(join(dir, 'not-a-seal.pem'), 'utf8'), 'SEAL_USAGE_INVALID', 'LICENCE_WRONG_KEY_USAGE'],
      [wrongAgency + caKey.certPem, 'SEAL_AGENCY_MISMATCH', undefined],
      ['not a certificate', 'SEAL_CHAIN_INVALID', 'LICENCE_BROKEN_CHAIN'],
    ];
    for (const [chain, code, reason] of cases) {
      const r = await f.call(staffOf(HZ_SAMR.code), INSTALL, { requestId: sealReq.id, chain });
      expect([code, r.errors?.[0]?.extensions?.code, (r.errors?.[0]?.extensions?.details as { reason?: string } | undefined)?.reason]).toEqual([code, code, reason]);
    }
    expect(await stored()).toEqual(before);
  });

  test('the CA\'s chains install; the pending licence is then sealed and verifies with the exported national bundle', async () => {
    expect((await seal('--dir', 'ca', 'issue-seal', '--ca', zj, '--csr', 'seal.csr', '--out', 'seal-chain.pem',
      '--agency-name', HZ_SAMR.name, '--agency-code', HZ_SAMR.code, '--seal-name', `${HZ_SAMR.name}电子证照专用章`, '--image', 'seal.png')).code).toBe(0);
    expect((await seal('--dir', 'ca', 'issue-tsa', '--parent', root, '--name', '平台时间戳服务', '--csr', 'tsa.csr', '--out', 'tsa-chain.pem')).code).toBe(0);

    const wrongImage = await f.call(staffOf(HZ_SAMR.code), INSTALL, { requestId: sealReq.id, chain: readFileSync(join(dir, 'seal-chain.pem'), 'utf8'), sealImage: Buffer.from('\x89PNG\r\n\x1a\n other').toString('base64') });
    expect(codeOf(wrongImage)).toBe('BAD_INPUT');
    const other = await f.call(staffOf(DEMO_AGENCIES[2].code), INSTALL, { requestId: sealReq.id, chain: readFileSync(join(dir, 'seal-chain.pem'), 'utf8') });
    expect(codeOf(other)).toBe('ROLE_REQUIRED');

    const s = await f.call<{ installSealCertificate: Record<string, unknown> }>(staffOf(HZ_SAMR.code), INSTALL, {
      requestId: sealReq.id, chain: readFileSync(join(dir, 'seal-chain.pem'), 'utf8'), sealImage: PNG.toString('base64'),
    });
    expect(s.errors).toBeUndefined();
    expect(s.data!.installSealCertificate).toMatchObject({ role: 'SEAL', source: 'EXTERNAL', agencyCode: HZ_SAMR.code, state: 'ACTIVE', crl: null });
    const again = await f.call(staffOf(HZ_SAMR.code), INSTALL, { requestId: sealReq.id, chain: readFileSync(join(dir, 'seal-chain.pem'), 'utf8') });
    expect(codeOf(again)).toBe('CONFLICT');
    const t = await f.call(staffOf(OPERATOR.code), INSTALL, { requestId: tsaReq.id, chain: readFileSync(join(dir, 'tsa-chain.pem'), 'utf8') });
    expect(t.errors).toBeUndefined();

    // The licence that waited is issued now (its event is retried), sealed by the installed key.
    const [waited] = await eventually(async () => { const l = await licencesForCase(f, pendingCase.caseId); return l.length ? l : null; });
    const x5c = (JSON.parse(Buffer.from(waited!.credential.split('.')[0]!, 'base64url').toString()) as { x5c: string[] }).x5c;
    expect(new X509Certificate(Buffer.from(x5c[0]!, 'base64')).serialNumber.toUpperCase()).toBe(s.data!.installSealCertificate.serialHex);
    expect(x5c).toHaveLength(3); // seal, provincial CA, national root: as the CA wrote the chain

    const answer = await (await fetch(`${f.svc.url}/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ credential: waited!.credential }) })).json();
    expect(answer).toMatchObject({ valid: true, licence: { issuerCode: HZ_SAMR.code, timestamped: true } });
    const bundle = readTrustBundle(await (await fetch(`${f.svc.url}/trust-bundle.pem`)).text());
    expect(await verifyLicence(waited!.credential, { trustAnchorsPem: bundle })).toMatchObject({ valid: true, timestamped: true });
    expect((await issue(f)).credential).toBeTruthy();
  });

  test('the seal audit lists each act with who and when; the table refuses changes', async () => {
    const r = await f.call<{ sealAudit: Array<{ action: string; actorName: string; requestId: string | null; details: string }> }>(
      staffOf(HZ_SAMR.code), `query ($a: String) { sealAudit(agencyCode: $a) { action actorName requestId certificateId at details } }`, { a: HZ_SAMR.code });
    expect(r.data!.sealAudit.map((e) => [e.action, e.requestId])).toEqual([['REQUEST', sealReq.id], ['INSTALL', sealReq.id]]);
    expect(JSON.parse(r.data!.sealAudit[1]!.details)).toMatchObject({ anchor: expect.stringContaining('国家政务服务电子印章根CA') });
    const tsa = await f.call<{ sealAudit: Array<{ action: string }> }>(staffOf(OPERATOR.code), '{ sealAudit { action } }');
    expect(tsa.data!.sealAudit.map((e) => e.action)).toEqual(['REQUEST', 'INSTALL']);
    expect(codeOf(await f.call(staffOf(DEMO_AGENCIES[2].code), '{ sealAudit(agencyCode: "11330100MB0000002W") { action } }'))).toBe('ROLE_REQUIRED');
    await expect(f.db.query('update licence.seal_audit set actor_name = $1', ['someone else'])).rejects.toThrow(/append-only/);
    await expect(f.db.query('delete from licence.seal_audit')).rejects.toThrow(/append-only/);
  });

  test('revoking the installed seal: it signs nothing more until a new one is installed; sealed licences keep the verifier\'s rule', async () => {
    const [cert] = (await f.call<{ sealCertificates: Array<{ id: string }> }>(staffOf(HZ_SAMR.code), `{ sealCertificates(agencyCode: "${HZ_SAMR.code}") { id } }`)).data!.sealCertificates;
    const [lic] = (await f.db.query<{ credential: string }>('select credential from licence.licences limit 1')).rows;
    const r = await f.call<{ revokeSealCertificate: { state: string; revocationReason: string; crl: string | null } }>(staffOf(HZ_SAMR.code),
      'mutation ($id: ID!) { revokeSealCertificate(id: $id, reason: SUPERSEDED, note: "换用新印章") { state revocationReason crl } }', { id: cert!.id });
    // An outside CA's certificate: that CA publishes the CRL (the service's own table stops its use and answers its own verifications).
    expect(r.data!.revokeSealCertificate).toEqual({ state: 'REVOKED', revocationReason: 'SUPERSEDED', crl: null });
    const trust = createTrustStore({ db: f.db, passphrase: 'unused-passphrase-0123456789', clock: systemClock, mode: 'external' });
    await expect(f.db.tx((q) => trust.sealFor(q, HZ_SAMR))).rejects.toMatchObject({ code: 'SEAL_NOT_FOUND' });
    // Its status lists cannot be sealed again until a new seal is installed: revocation cannot be ruled out.
    const verify = async () => (await fetch(`${f.svc.url}/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ credential: lic!.credential }) })).json();
    expect(await verify()).toMatchObject({ valid: false, reason: 'LICENCE_STATUS_UNAVAILABLE' });

    const next = (await f.call<{ requestSealCertificate: Req }>(staffOf(HZ_SAMR.code), REQUEST_SEAL, { agencyCode: HZ_SAMR.code, agencyName: HZ_SAMR.name })).data!.requestSealCertificate;
    writeFileSync(join(dir, 'next.csr'), next.csr);
    expect((await seal('--dir', 'ca', 'issue-seal', '--ca', zj, '--csr', 'next.csr', '--out', 'next-chain.pem',
      '--agency-name', HZ_SAMR.name, '--agency-code', HZ_SAMR.code, '--seal-name', `${HZ_SAMR.name}电子证照专用章`, '--image', 'seal.png')).code).toBe(0);
    const installed = await f.call(staffOf(HZ_SAMR.code), INSTALL, { requestId: next.id, chain: readFileSync(join(dir, 'next-chain.pem'), 'utf8') });
    expect(installed.errors).toBeUndefined();
    // Superseded after it was sealed (the platform timestamp proves when): the licence is valid again, its lists sealed by the new seal.
    expect(await verify()).toMatchObject({ valid: true });
    expect((await verifyLicence((await issue(f)).credential, { trustAnchorsPem: readTrustBundle(readFileSync(join(dir, 'national.pem'), 'utf8')) })).valid).toBe(true);
    const revokeAgain = await f.call(staffOf(HZ_SAMR.code), 'mutation ($id: ID!) { revokeSealCertificate(id: $id, reason: KEY_COMPROMISE, note: "x") { state } }', { id: cert!.id });
    expect(codeOf(revokeAgain)).toBe('CONFLICT');
  });
});

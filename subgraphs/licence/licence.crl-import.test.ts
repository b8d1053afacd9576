/**
 * licence.crl-import: revocations made at the province's offline CA reach the licence service
 * (LICENCE_SEAL_MODE=external). The CA is a real `yiwang seal` directory whose certificates name
 * distribution points at the service (`--crl-base <LICENCE_PUBLIC_URL>/crl`). A decider of the
 * operating agency imports the CA's CRLs (importSealCrl): refused, storing nothing, when
 * unparsable, signed by another CA with the same name, altered, expired or from the future, from
 * a CA the service does not know, older than the last one (replay), or by anyone else. Once
 * imported a CRL is served at the distribution point, decides POST /verify, the verify page and
 * the offline CLI (keyCompromise with an invalidity date spares what was timestamped before it),
 * revokes the listed seal in the service's table (issuance waits for a new seal; a listed chain
 * is not installed), and a lapsed CRL means revocation cannot be ruled out.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANONYMOUS } from '../../test/support/subgraph.ts';
import { parseCrl, runSeal, runVerify } from '../../seal/index.ts';
import type { CliIo } from '../../kernel/cli.ts';
import { OffsetClock } from '../../kernel/clock.ts';
import { caseApproved, codeOf, eventually, HZ_SAMR, issue, licencesForCase, secondAfterTimestamp, staffOf, startLicenceFixture, ZJ_SAMR, type LicenceFixture, type StoredLicence } from '../../test/support/licence.ts';

const PASS = 'offline-ca-passphrase-0123456789';
const PUBLIC = 'https://licence.zj.example.gov.cn';
const OPERATOR = ZJ_SAMR;
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
/** Small steps only: the gateway's identity assertions live 60 s. */
const clock = new OffsetClock();
const later = (seconds: number) => { clock.offsetMs += seconds * 1000; };
/** The offline CA's clock, relative to the service's. */
let caSkewMs = 0;
let dir: string;
let f: LicenceFixture;
let root: string, zj: string;
let sealId: string; // the first installed seal (the CA revokes it for key compromise)
let a: StoredLicence, b: StoredLicence, c: StoredLicence;
let waiting: ReturnType<typeof caseApproved>;

async function cli(run: typeof runSeal, argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    out: (l) => out.push(l), err: (l) => err.push(l), env: { KEY_PASSPHRASE: PASS }, cwd: dir,
    now: () => new Date(clock.now().getTime() + caSkewMs), fetch: (url, init) => fetch(String(url).replace(PUBLIC, f.svc.url), init),
  };
  const code = await run(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}
const ca = (...argv: string[]) => cli(runSeal, ['--dir', 'ca', ...argv]);
const idOf = (out: string) => out.split(/\s/)[0]!;
const crlFile = (caId: string, ext = '.crl.pem') => readFileSync(join(dir, 'ca', 'crl', `${caId}${ext}`));
/** The CA publishes a fresh CRL; its PEM. */
const publish = async (caId: string, ...extra: string[]) => {
  expect((await ca('crl', '--ca', caId, ...extra)).code).toBe(0);
  return crlFile(caId).toString();
};

const REQUEST_SEAL = 'mutation ($c: String!, $n: String!) { requestSealCertificate(agencyCode: $c, agencyName: $n) { id csr } }';
const INSTALL = 'mutation ($id: ID!, $chain: String!, $img: String) { installSealCertificate(requestId: $id, chain: $chain, sealImage: $img) { id } }';
const IMPORT = `mutation ($crl: String!) { importSealCrl(crl: $crl) {
  id issuer crlNumber thisUpdate nextUpdate entries importedBy urls crl
  revoked { id state revocationReason revokedAt invalidityDate revokedByCrl } } }`;
type Imported = {
  importSealCrl: {
    id: string; issuer: string; crlNumber: string; entries: number; importedBy: string; urls: string[]; crl: string;
    revoked: Array<{ id: string; state: string; revocationReason: string; revokedAt: string; invalidityDate: string | null; revokedByCrl: string }>;
  };
};
const importCrl = (crl: string, caller = staffOf(OPERATOR.code)) => f.call<Imported>(caller, IMPORT, { crl });

const verify = async (credential: string) => (await fetch(`${f.svc.url}/verify`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ credential }),
})).json() as Promise<{ valid: boolean; reason: string | null; message: string | null }>;

async function stored() {
  const q = async (sql: string) => JSON.stringify((await f.db.query(sql)).rows);
  return {
    crls: await q('select id, crl_number from licence.crls order by id'),
    certificates: await q('select id, status, revoked_at, revocation_reason, invalidity_date, revoked_by_crl from licence.certificates order by id'),
    requests: await q('select id, state from licence.seal_requests order by id'),
    audit: await q('select count(*)::int as n from licence.seal_audit'),
  };
}

/** A new key at the service, certified by the offline CA (distribution point at the service); the chain file. */
async function certifiedRequest(name: string): Promise<{ requestId: string; chainFile: string }> {
  const r = await f.call<{ requestSealCertificate: { id: string; csr: string } }>(staffOf(HZ_SAMR.code), REQUEST_SEAL, { c: HZ_SAMR.code, n: HZ_SAMR.name });
  writeFileSync(join(dir, `${name}.csr`), r.data!.requestSealCertificate.csr);
  expect((await ca('issue-seal', '--ca', zj, '--csr', `${name}.csr`, '--out', `${name}.pem`, '--crl-base', `${PUBLIC}/crl`,
    '--agency-name', HZ_SAMR.name, '--agency-code', HZ_SAMR.code, '--seal-name', `${HZ_SAMR.name}电子证照专用章`, '--image', 'seal.png')).code).toBe(0);
  return { requestId: r.data!.requestSealCertificate.id, chainFile: `${name}.pem` };
}
const install = (requestId: string, chainFile: string, caller = staffOf(HZ_SAMR.code)) =>
  f.call<{ installSealCertificate: { id: string } }>(caller, INSTALL, { id: requestId, chain: readFileSync(join(dir, chainFile), 'utf8'), img: PNG.toString('base64') });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'yw-crl-import-'));
  writeFileSync(join(dir, 'seal.png'), PNG);
  root = idOf((await ca('init-root', '--name', '国家政务服务电子印章根CA')).out);
  zj = idOf((await ca('issue-ca', '--parent', root, '--name', '浙江省电子印章CA', '--region', '330000', '--crl-base', `${PUBLIC}/crl`)).out);
  expect((await ca('export-bundle', '--out', 'national.pem')).code).toBe(0);
  f = await startLicenceFixture({ clock, env: { LICENCE_PUBLIC_URL: PUBLIC, LICENCE_SEAL_MODE: 'external', LICENCE_TRUST_ANCHORS: join(dir, 'national.pem'), LICENCE_OPERATOR_AGENCY: OPERATOR.code } });

  const seal = await certifiedRequest('seal1');
  sealId = (await install(seal.requestId, seal.chainFile)).data!.installSealCertificate.id;
  const t = await f.call<{ requestTimestampCertificate: { id: string; csr: string } }>(staffOf(OPERATOR.code), 'mutation { requestTimestampCertificate { id csr } }');
  writeFileSync(join(dir, 'tsa.csr'), t.data!.requestTimestampCertificate.csr);
  expect((await ca('issue-tsa', '--parent', root, '--name', '平台时间戳服务', '--csr', 'tsa.csr', '--out', 'tsa.pem', '--crl-base', `${PUBLIC}/crl`)).code).toBe(0);
  expect((await f.call(staffOf(OPERATOR.code), INSTALL, { id: t.data!.requestTimestampCertificate.id, chain: readFileSync(join(dir, 'tsa.pem'), 'utf8') })).errors).toBeUndefined();
  a = await issue(f);
  later(3);
  b = await issue(f);
  later(2);
}, 90_000);

afterAll(async () => {
  await f?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('licence.crl-import refusals', () => {
  test('unparsable, another CA\'s, altered, expired, from the future, of an unknown CA, or not the operator\'s: refused with its code, nothing stored', async () => {
    // Another hierarchy with the very same names signs a CRL "for" the provincial CA.
    const otherRoot = idOf((await cli(runSeal, ['--dir', 'other', 'init-root', '--name', '国家政务服务电子印章根CA'])).out);
    const otherCa = idOf((await cli(runSeal, ['--dir', 'other', 'issue-ca', '--parent', otherRoot, '--name', '浙江省电子印章CA', '--region', '330000'])).out);
    expect((await cli(runSeal, ['--dir', 'other', 'crl', '--ca', otherCa])).code).toBe(0);
    const foreign = readFileSync(join(dir, 'other', 'crl', `${otherCa}.crl.pem`), 'utf8');
    // The real CA's CRL with one byte of its signed part changed (its cRLNumber).
    await publish(zj);
    const der = crlFile(zj, '.crl');
    const at = der.indexOf(parseCrl(der).tbs) + parseCrl(der).tbs.length - 1;
    const altered = Buffer.from(der);
    altered[at] = altered[at]! ^ 0x01;
    const expired = await publish(zj, '--days', '0');
    caSkewMs = 86_400_000; // the CA's clock a day ahead
    const future = await publish(zj);
    caSkewMs = 0;
    // A CA the root certified, but that no installed chain and no anchor is: the service cannot check it.
    const gd = idOf((await ca('issue-ca', '--parent', root, '--name', '广东省电子印章CA', '--region', '440000')).out);
    const unknown = await publish(gd);
    const good = await publish(zj);

    const before = await stored();
    const cases: Array<[string, string, Parameters<typeof importCrl>[1]?]> = [
      ['not a CRL', 'SEAL_CRL_INVALID'],
      [readFileSync(join(dir, 'seal1.pem'), 'utf8'), 'SEAL_CRL_INVALID'], // a certificate chain, not a CRL
      [foreign, 'SEAL_CRL_SIGNATURE_INVALID'],
      [altered.toString('base64'), 'SEAL_CRL_SIGNATURE_INVALID'],
      [expired, 'SEAL_CRL_NOT_CURRENT'],
      [future, 'SEAL_CRL_NOT_CURRENT'],
      [unknown, 'SEAL_CRL_UNKNOWN_ISSUER'],
      [good, 'ROLE_REQUIRED', staffOf(HZ_SAMR.code)], // deciders of the operating agency only
      [good, 'ROLE_REQUIRED', { ...staffOf(OPERATOR.code), roles: ['reviewer'] } as Parameters<typeof importCrl>[1]],
      [good, 'UNAUTHENTICATED', ANONYMOUS],
    ];
    for (const [crl, code, caller] of cases) {
      expect([crl.slice(0, 40), codeOf(await importCrl(crl, caller))]).toEqual([crl.slice(0, 40), code]);
    }
    expect(await stored()).toEqual(before);
    expect(codeOf(await f.call(staffOf(HZ_SAMR.code), '{ sealCrls { id } }'))).toBe('ROLE_REQUIRED');
  });
});

describe('licence.crl-import the CA\'s CRLs', () => {
  test('imported (PEM, or DER in base64) and served at the distribution points the certificates name', async () => {
    const zjPem = await publish(zj);
    const r = await importCrl(zjPem);
    expect(r.errors).toBeUndefined();
    expect(r.data!.importSealCrl).toMatchObject({
      issuer: expect.stringContaining('浙江省电子印章CA'), entries: 0, revoked: [], urls: [`${PUBLIC}/crl/${zj}.crl`], crl: zjPem,
      importedBy: (staffOf(OPERATOR.code) as { name: string }).name,
    });
    await publish(root);
    expect((await importCrl(crlFile(root, '.crl').toString('base64'))).data!.importSealCrl.urls).toEqual([`${PUBLIC}/crl/${root}.crl`]);

    const served = await fetch(`${f.svc.url}/crl/${zj}.crl`, { headers: { accept: 'application/pkix-crl' } });
    expect([served.status, served.headers.get('content-type')]).toEqual([200, 'application/pkix-crl']);
    expect(Buffer.from(await served.arrayBuffer()).equals(crlFile(zj, '.crl'))).toBe(true);
    expect(await (await fetch(`${f.svc.url}/crl/${root}.crl`)).text()).toBe(crlFile(root).toString());
    expect((await fetch(`${f.svc.url}/crl/ca-000000000000.crl`)).status).toBe(404); // no certificate names it
    for (const l of [a, b]) expect(await verify(l.credential)).toMatchObject({ valid: true });
  });

  test('the CA revokes the seal for key compromise since a given time: the service marks it revoked, refuses it, and spares what was timestamped before', async () => {
    // Compromised from the whole second after licence a was timestamped: b (three seconds later) is not spared.
    const invalidSince = secondAfterTimestamp(a.credential);
    const record = JSON.parse(readFileSync(join(dir, 'ca', 'index.json'), 'utf8')).certificates.find((r: { role: string; keyHeldElsewhere?: boolean }) => r.role === 'seal');
    expect((await ca('revoke', '--id', record.id, '--reason', 'keyCompromise', '--invalidity-date', invalidSince)).code).toBe(0);
    expect(await verify(b.credential)).toMatchObject({ valid: true }); // not imported yet: the service cannot know

    const r = await importCrl(crlFile(zj).toString());
    expect(r.errors).toBeUndefined();
    const imported = r.data!.importSealCrl;
    const entry = parseCrl(crlFile(zj).toString()).revoked.get(record.serialHex)!;
    expect(imported.revoked).toEqual([{
      id: sealId, state: 'REVOKED', revocationReason: 'KEY_COMPROMISE', revokedAt: entry.revokedAt.toISOString(), invalidityDate: invalidSince, revokedByCrl: imported.id,
    }]);
    const audit = await f.call<{ sealAudit: Array<{ action: string; actorName: string; certificateId: string; details: string }> }>(
      staffOf(HZ_SAMR.code), `{ sealAudit(agencyCode: "${HZ_SAMR.code}") { action actorName certificateId details } }`);
    const last = audit.data!.sealAudit.at(-1)!;
    expect([last.action, last.certificateId, last.actorName]).toEqual(['REVOKE', sealId, (staffOf(OPERATOR.code) as { name: string }).name]);
    expect(JSON.parse(last.details)).toMatchObject({ source: 'crl', crlId: imported.id, reason: 'keyCompromise', invalidityDate: invalidSince, crlNumber: imported.crlNumber });

    // POST /verify and the verify page now know; the CRL they serve lists it.
    expect(await verify(b.credential)).toMatchObject({ valid: false, reason: 'LICENCE_CERT_REVOKED' });
    const page = await (await fetch(`${f.svc.url}/verify`, { method: 'POST', body: new URLSearchParams({ credential: b.credential }) })).text();
    expect(page).toContain('data-code="LICENCE_CERT_REVOKED"');
    expect(parseCrl(await (await fetch(`${f.svc.url}/crl/${zj}.crl`)).text()).revoked.get(record.serialHex)).toMatchObject({ reason: 1 });

    // Issuance stops: an approved case waits (its event fails with SEAL_NOT_FOUND and stays pending).
    waiting = caseApproved();
    const calls = f.directory.calls;
    await f.publish('cases', 'case.approved', waiting);
    await eventually(async () => f.directory.calls >= calls + 2);
    expect(await licencesForCase(f, waiting.caseId)).toEqual([]);
  });

  test('an older CRL of the CA is refused as a replay; the very same one again changes nothing', async () => {
    const [current, first] = (await f.call<{ sealCrls: Array<{ id: string; issuer: string; crl: string }> }>(staffOf(OPERATOR.code), '{ sealCrls { id issuer crl } }'))
      .data!.sealCrls.filter((l) => l.issuer.includes('浙江省电子印章CA'));
    const before = await stored();
    const replay = await importCrl(first!.crl);
    expect([codeOf(replay), replay.errors?.[0]?.extensions?.details]).toEqual(['SEAL_CRL_REPLAYED', expect.objectContaining({ latest: expect.any(String) })]);
    expect((await importCrl(current!.crl)).data!.importSealCrl.id).toBe(current!.id);
    expect(await stored()).toEqual(before);
  });

  test('a chain the CA revoked is not installed; a fresh seal is, and seals the licence that waited', async () => {
    const revoked = await certifiedRequest('seal2');
    const record = JSON.parse(readFileSync(join(dir, 'ca', 'index.json'), 'utf8')).certificates.at(-1);
    expect((await ca('revoke', '--id', record.id, '--reason', 'superseded')).code).toBe(0);
    expect((await importCrl(crlFile(zj).toString())).data!.importSealCrl.revoked).toEqual([]); // not installed: nothing of the service's to mark
    const before = await stored();
    const refused = await install(revoked.requestId, revoked.chainFile);
    expect([codeOf(refused), (refused.errors?.[0]?.extensions?.details as { reason?: string }).reason]).toEqual(['SEAL_CHAIN_INVALID', 'LICENCE_CERT_REVOKED']);
    expect(await stored()).toEqual(before);

    // The CA certifies the same request again; that certificate installs.
    expect((await ca('issue-seal', '--ca', zj, '--csr', 'seal2.csr', '--out', 'seal3.pem', '--crl-base', `${PUBLIC}/crl`,
      '--agency-name', HZ_SAMR.name, '--agency-code', HZ_SAMR.code, '--seal-name', `${HZ_SAMR.name}电子证照专用章`, '--image', 'seal.png')).code).toBe(0);
    expect((await install(revoked.requestId, 'seal3.pem')).errors).toBeUndefined();
    c = (await eventually(async () => { const l = await licencesForCase(f, waiting.caseId); return l.length ? l : null; }))[0]!;

    expect(await verify(c.credential)).toMatchObject({ valid: true });
    expect(await verify(a.credential)).toMatchObject({ valid: true }); // timestamped before the key was compromised
    expect(await verify(b.credential)).toMatchObject({ valid: false, reason: 'LICENCE_CERT_REVOKED' });
  });

  test('offline, `yiwang verify --online` fetches the imported CRLs from the service: the same verdicts', async () => {
    writeFileSync(join(dir, 'a.jws'), a.credential);
    writeFileSync(join(dir, 'b.jws'), b.credential);
    const run = (file: string) => cli(runVerify, [file, '--trust', 'national.pem', '--status-cache', 'cache', '--online']);
    expect(await run('a.jws')).toMatchObject({ code: 0, out: expect.stringContaining('VALID') });
    expect(await run('b.jws')).toMatchObject({ code: 1, out: expect.stringContaining('INVALID LICENCE_CERT_REVOKED') });
  });

  test('an imported CRL past its nextUpdate: POST /verify cannot rule out revocation until a current one is imported', async () => {
    caSkewMs = -86_400_000 + 3000; // a CRL made a day ago for one day: 3 s left
    expect((await importCrl(await publish(zj, '--days', '1'))).errors).toBeUndefined();
    caSkewMs = 0;
    later(4);
    expect(await verify(c.credential)).toMatchObject({ valid: false, reason: 'LICENCE_STATUS_UNAVAILABLE', message: expect.stringContaining('浙江省电子印章CA') });
    expect((await importCrl(await publish(zj))).errors).toBeUndefined();
    expect(await verify(c.credential)).toMatchObject({ valid: true });
  });

  test('the root revokes the provincial CA: every installed seal under it is revoked (through its chain), the TSA under the root is not', async () => {
    expect((await ca('revoke', '--id', zj, '--reason', 'cACompromise')).code).toBe(0);
    const r = await importCrl(crlFile(root).toString());
    expect(r.errors).toBeUndefined();
    const [current] = (await f.call<{ sealCertificates: Array<{ id: string; state: string }> }>(staffOf(HZ_SAMR.code), `{ sealCertificates(agencyCode: "${HZ_SAMR.code}") { id state } }`)).data!.sealCertificates;
    expect(r.data!.importSealCrl.revoked).toEqual([expect.objectContaining({ id: current!.id, state: 'REVOKED', revocationReason: 'CA_COMPROMISE' })]);
    const tsa = await f.call<{ sealCertificates: Array<{ state: string }> }>(staffOf(OPERATOR.code), '{ sealCertificates { state } }');
    expect(tsa.data!.sealCertificates.map((t) => t.state)).toEqual(['ACTIVE']);
    const audit = await f.call<{ sealAudit: Array<{ details: string }> }>(staffOf(HZ_SAMR.code), `{ sealAudit(agencyCode: "${HZ_SAMR.code}") { details } }`);
    expect(JSON.parse(audit.data!.sealAudit.at(-1)!.details)).toMatchObject({ source: 'crl', reason: 'cACompromise', via: expect.stringContaining('浙江省电子印章CA') });
    expect(await verify(c.credential)).toMatchObject({ valid: false, reason: 'LICENCE_CERT_REVOKED' });
  });
});

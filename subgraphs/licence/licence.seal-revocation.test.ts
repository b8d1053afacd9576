/**
 * licence.seal-revocation: the service revokes its own seal and TSA certificates (platform mode).
 * Every certificate it issues names its issuing CA's CRL (cRLDistributionPoints); a revocation is
 * listed in that CRL at once with its reason and recorded in the seal audit; the next licence
 * gets a fresh seal (or TSA). Licences sealed earlier: keyCompromise makes them
 * LICENCE_CERT_REVOKED — unless it names an invalidity date their timestamp predates; superseded
 * leaves valid those whose timestamp predates it — in the service's POST /verify and in the
 * offline CLI, which fetches the CRLs from the distribution points.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCertificate, parseCrl, runVerify } from '../../seal/index.ts';
import type { CliIo } from '../../kernel/cli.ts';
import { OffsetClock } from '../../kernel/clock.ts';
import { DEMO_AGENCIES } from '../../kernel/demo.ts';
import { codeOf, HZ_SAMR, issue, secondAfterTimestamp, staffOf, startLicenceFixture, ZJ_SAMR, type LicenceFixture, type StoredLicence } from '../../test/support/licence.ts';

const OPERATOR = ZJ_SAMR;
/**
 * Moved two seconds on before each revocation: a CRL's revocationDate has whole seconds only
 * (RFC 5280 §5.1.2.6), so a revocation in the signing second cannot be told to come after it.
 * (Small steps: the gateway's identity assertions live 60 s.)
 */
const clock = new OffsetClock();
const later = () => { clock.offsetMs += 2000; };
let f: LicenceFixture;
let tmp: string;
let a: StoredLicence; // sealed with the first seal, revoked for key compromise
let b: StoredLicence; // sealed with the second, later superseded

const header = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString()) as { x5c: string[]; tst: string };
const certs = (x5c: string[]) => x5c.map((c) => loadCertificate(Buffer.from(c, 'base64')));
const serialOf = (jws: string) => new X509Certificate(Buffer.from(header(jws).x5c[0]!, 'base64')).serialNumber.toUpperCase();
const localUrl = (url: string) => url.replace(f.deps.config.LICENCE_PUBLIC_URL, f.svc.url);
const verify = async (credential: string) => (await fetch(`${f.svc.url}/verify`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ credential }),
})).json() as Promise<{ valid: boolean; reason: string | null }>;
const REVOKE = 'mutation ($id: ID!, $reason: SealRevocationReason!, $note: String!) { revokeSealCertificate(id: $id, reason: $reason, note: $note) { id role state revocationReason revokedAt crl serialHex } }';
type Revoked = { revokeSealCertificate: { id: string; state: string; revocationReason: string; crl: string; serialHex: string } };
const certificateId = async (serialHex: string) => (await f.db.query<{ id: string }>('select id from licence.certificates where serial_hex = $1', [serialHex])).rows[0]!.id;

async function cli(jws: string, ...extra: string[]) {
  writeFileSync(join(tmp, 'licence.jws'), jws);
  const out: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: () => {}, env: {}, cwd: tmp, now: () => clock.now(), fetch: (url, init) => fetch(localUrl(String(url)), init) };
  return { code: await runVerify(['licence.jws', '--trust', 'root.pem', '--status-cache', 'cache', ...extra], io), out: out.join('\n') };
}

beforeAll(async () => {
  f = await startLicenceFixture({ clock, env: { LICENCE_OPERATOR_AGENCY: OPERATOR.code } });
  tmp = mkdtempSync(join(tmpdir(), 'yw-seal-revocation-'));
  writeFileSync(join(tmp, 'root.pem'), await (await fetch(`${f.svc.url}/trust-bundle.pem`)).text());
  a = await issue(f);
}, 60_000);
afterAll(async () => {
  await f?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('licence.seal-revocation CRL distribution points', () => {
  test('seal, provincial CA and TSA certificates name the CRL of the CA that issued them; each is served, signed by that CA', async () => {
    const { rows } = await f.db.query<{ id: string; role: string }>(`select id, role from licence.certificates where role in ('root', 'ca')`);
    const idOf = (role: string) => rows.find((r) => r.role === role)!.id;
    const base = f.deps.config.LICENCE_PUBLIC_URL;
    const [seal, ca, root] = certs(header(a.credential).x5c);
    const [tsa] = certs(header(header(a.credential).tst).x5c);
    expect(seal!.profile.crlDistributionPoints).toEqual([`${base}/crl/${idOf('ca')}.crl`]);
    expect(ca!.profile.crlDistributionPoints).toEqual([`${base}/crl/${idOf('root')}.crl`]);
    expect(tsa!.profile.crlDistributionPoints).toEqual([`${base}/crl/${idOf('root')}.crl`]);
    expect(root!.profile.crlDistributionPoints).toEqual([]); // an anchor is withdrawn from bundles, not revoked
    for (const [cert, issuer] of [[seal!, ca!], [ca!, root!], [tsa!, root!]] as const) {
      const crl = parseCrl(await (await fetch(localUrl(cert.profile.crlDistributionPoints[0]!))).text());
      const { verify: check } = await import('node:crypto');
      expect(check('sha256', crl.tbs, issuer.cert.publicKey, crl.signature)).toBe(true);
    }
  });
});

describe('licence.seal-revocation seals', () => {
  test('keyCompromise: listed in the CA\'s CRL at once with its reason; its licences are LICENCE_CERT_REVOKED; the next licence gets a fresh seal', async () => {
    const first = serialOf(a.credential);
    later();
    const r = await f.call<Revoked>(staffOf(HZ_SAMR.code), REVOKE, { id: await certificateId(first), reason: 'KEY_COMPROMISE', note: '私钥疑似泄露' });
    expect(r.errors).toBeUndefined();
    expect(r.data!.revokeSealCertificate).toMatchObject({ state: 'REVOKED', revocationReason: 'KEY_COMPROMISE', serialHex: first });
    const crlRes = await fetch(localUrl(r.data!.revokeSealCertificate.crl));
    expect(crlRes.headers.get('cache-control')).toContain('no-cache');
    expect(parseCrl(await crlRes.text()).revoked.get(first)).toMatchObject({ reason: 1 });
    expect(await verify(a.credential)).toMatchObject({ valid: false, reason: 'LICENCE_CERT_REVOKED' });

    b = await issue(f);
    expect(serialOf(b.credential)).not.toBe(first);
    expect(await verify(b.credential)).toMatchObject({ valid: true }); // its status lists sealed again, by the new seal
    // The offline verifier fetches the CRLs from the distribution points in the licence.
    expect(await cli(b.credential, '--online')).toMatchObject({ code: 0, out: expect.stringContaining('VALID') });
    expect(await cli(a.credential, '--online')).toMatchObject({ code: 1, out: expect.stringContaining('INVALID LICENCE_CERT_REVOKED') });
  });

  test('superseded: licences timestamped before the revocation stay valid, in the service and offline', async () => {
    const second = serialOf(b.credential);
    later();
    const r = await f.call<Revoked>(staffOf(HZ_SAMR.code), REVOKE, { id: await certificateId(second), reason: 'SUPERSEDED', note: '更换印章' });
    expect(r.data!.revokeSealCertificate.revocationReason).toBe('SUPERSEDED');
    expect(parseCrl(await (await fetch(localUrl(r.data!.revokeSealCertificate.crl))).text()).revoked.get(second)).toMatchObject({ reason: 4 });
    expect(await verify(b.credential)).toMatchObject({ valid: true });
    expect(await cli(b.credential, '--online')).toMatchObject({ code: 0, out: expect.stringContaining('VALID') });
    const c = await issue(f);
    expect([serialOf(a.credential), second]).not.toContain(serialOf(c.credential));
  });

  test('refusals store nothing: another agency, no role, twice, no note, unknown id', async () => {
    const id = await certificateId(serialOf(a.credential));
    const before = JSON.stringify((await f.db.query('select id, status, revoked_at, revocation_reason from licence.certificates order by id')).rows);
    const audit = (await f.db.query('select count(*)::int as n from licence.seal_audit')).rows;
    const [current] = (await f.call<{ sealCertificates: Array<{ id: string; state: string }> }>(staffOf(HZ_SAMR.code), `{ sealCertificates(agencyCode: "${HZ_SAMR.code}") { id state } }`)).data!.sealCertificates;
    expect(current!.state).toBe('ACTIVE');
    const cases: Array<[Parameters<LicenceFixture['call']>[0], Record<string, string>, string]> = [
      [staffOf(DEMO_AGENCIES[2].code), { id: current!.id, reason: 'KEY_COMPROMISE', note: 'x' }, 'ROLE_REQUIRED'],
      [{ ...staffOf(HZ_SAMR.code), roles: ['reviewer'] } as Parameters<LicenceFixture['call']>[0], { id: current!.id, reason: 'KEY_COMPROMISE', note: 'x' }, 'ROLE_REQUIRED'],
      [staffOf(HZ_SAMR.code), { id, reason: 'SUPERSEDED', note: 'again' }, 'CONFLICT'],
      [staffOf(HZ_SAMR.code), { id: current!.id, reason: 'SUPERSEDED', note: '  ' }, 'BAD_INPUT'],
      [staffOf(HZ_SAMR.code), { id: '00000000-0000-4000-8000-000000000000', reason: 'SUPERSEDED', note: 'x' }, 'NOT_FOUND'],
    ];
    for (const [caller, vars, code] of cases) expect([vars.note, codeOf(await f.call(caller, REVOKE, vars))]).toEqual([vars.note, code]);
    expect(JSON.stringify((await f.db.query('select id, status, revoked_at, revocation_reason from licence.certificates order by id')).rows)).toBe(before);
    expect((await f.db.query('select count(*)::int as n from licence.seal_audit')).rows).toEqual(audit);
  });

  test('the audit: the service\'s own issuance (system) and each revocation with its reason and note', async () => {
    const r = await f.call<{ sealAudit: Array<{ action: string; actorName: string; details: string }> }>(staffOf(HZ_SAMR.code),
      `{ sealAudit(agencyCode: "${HZ_SAMR.code}") { action actorName details } }`);
    expect(r.data!.sealAudit.map((e) => e.action)).toEqual(['ISSUE', 'REVOKE', 'ISSUE', 'REVOKE', 'ISSUE']);
    expect(r.data!.sealAudit[0]!.actorName).toContain('system');
    expect(r.data!.sealAudit[1]!.actorName).toBe((staffOf(HZ_SAMR.code) as { name: string }).name);
    expect(JSON.parse(r.data!.sealAudit[1]!.details)).toMatchObject({ reason: 'keyCompromise', note: '私钥疑似泄露' });
  });
});

describe('licence.seal-revocation keyCompromise with an invalidity date', () => {
  test('refused unless ISO 8601 with a zone, not in the future, and with KEY_COMPROMISE; stored and listed in the CRL; licences timestamped before it stay valid', async () => {
    const early = await issue(f);
    later();
    const late = await issue(f);
    expect(serialOf(late.credential)).toBe(serialOf(early.credential));
    const id = await certificateId(serialOf(early.credential));
    // Compromised from the whole second after early's platform timestamp (late's is two seconds later).
    const since = secondAfterTimestamp(early.credential);
    const REVOKE_SINCE = 'mutation ($id: ID!, $reason: SealRevocationReason!, $since: String) { revokeSealCertificate(id: $id, reason: $reason, note: "私钥泄露", invalidityDate: $since) { state invalidityDate crl } }';

    const before = JSON.stringify((await f.db.query('select id, status, invalidity_date from licence.certificates order by id')).rows);
    const audit = (await f.db.query('select count(*)::int as n from licence.seal_audit')).rows;
    for (const [reason, value] of [['SUPERSEDED', since], ['KEY_COMPROMISE', since.slice(0, 10)], ['KEY_COMPROMISE', new Date(clock.now().getTime() + 3_600_000).toISOString()], ['CA_COMPROMISE', since]]) {
      const r = await f.call(staffOf(HZ_SAMR.code), REVOKE_SINCE, { id, reason, since: value });
      expect([reason, value, codeOf(r)]).toEqual([reason, value, 'BAD_INPUT']);
    }
    expect(JSON.stringify((await f.db.query('select id, status, invalidity_date from licence.certificates order by id')).rows)).toBe(before);
    expect((await f.db.query('select count(*)::int as n from licence.seal_audit')).rows).toEqual(audit);

    later();
    const r = await f.call<{ revokeSealCertificate: { state: string; invalidityDate: string; crl: string } }>(staffOf(HZ_SAMR.code), REVOKE_SINCE, { id, reason: 'KEY_COMPROMISE', since });
    expect(r.data!.revokeSealCertificate).toMatchObject({ state: 'REVOKED', invalidityDate: since });
    const crl = parseCrl(await (await fetch(localUrl(r.data!.revokeSealCertificate.crl))).text());
    expect(crl.revoked.get(serialOf(early.credential))).toMatchObject({ reason: 1, invalidityDate: new Date(since) });

    expect(await verify(early.credential)).toMatchObject({ valid: true, reason: null });
    expect(await verify(late.credential)).toMatchObject({ valid: false, reason: 'LICENCE_CERT_REVOKED' });
    expect(await cli(early.credential, '--online')).toMatchObject({ code: 0, out: expect.stringContaining('VALID') });
    expect(await cli(late.credential, '--online')).toMatchObject({ code: 1, out: expect.stringContaining('INVALID LICENCE_CERT_REVOKED') });
  });
});

describe('licence.seal-revocation TSA', () => {
  test('deciders of the operating agency revoke the TSA; the next licence is timestamped by a new one; earlier ones stay valid', async () => {
    const list = await f.call<{ sealCertificates: Array<{ id: string; role: string; serialHex: string }> }>(staffOf(OPERATOR.code), '{ sealCertificates { id role serialHex } }');
    expect(list.data!.sealCertificates.map((c) => c.role)).toEqual(['TSA']);
    const tsa = list.data!.sealCertificates[0]!;
    expect(codeOf(await f.call(staffOf(HZ_SAMR.code), REVOKE, { id: tsa.id, reason: 'SUPERSEDED', note: 'x' }))).toBe('ROLE_REQUIRED');
    expect(codeOf(await f.call(staffOf(HZ_SAMR.code), '{ sealCertificates { id } }'))).toBe('ROLE_REQUIRED');
    later();
    const r = await f.call<Revoked>(staffOf(OPERATOR.code), REVOKE, { id: tsa.id, reason: 'SUPERSEDED', note: '时间戳服务换证' });
    expect(r.data!.revokeSealCertificate).toMatchObject({ state: 'REVOKED', revocationReason: 'SUPERSEDED' });
    const d = await issue(f);
    const tsaSerial = new X509Certificate(Buffer.from(header(header(d.credential).tst).x5c[0]!, 'base64')).serialNumber.toUpperCase();
    expect(tsaSerial).not.toBe(tsa.serialHex);
    expect(await verify(d.credential)).toMatchObject({ valid: true });
    expect(await verify(b.credential)).toMatchObject({ valid: true }); // its token predates the TSA's superseding
    const audit = await f.call<{ sealAudit: Array<{ action: string }> }>(staffOf(OPERATOR.code), '{ sealAudit { action } }');
    expect(audit.data!.sealAudit.map((e) => e.action)).toEqual(['ISSUE', 'REVOKE', 'ISSUE']);
  });
});

describe('licence.seal-revocation lock order', () => {
  test('a revocation during an issuance and a status-list sealing waits for them; none of the three deadlocks', async () => {
    const { rows } = await f.db.query<{ id: string }>(
      `select id from licence.certificates where role = 'seal' and agency_code = $1 and status = 'active' order by not_after desc limit 1`, [HZ_SAMR.code]);
    const sealId = rows[0]!.id;
    await f.db.query(`update licence.status_lists set signed = null where agency_code = $1`, [HZ_SAMR.code]); // the list must be sealed again
    let revoke: Promise<unknown> | undefined;
    let list: Promise<Response> | undefined;
    // An issuance in flight, step by step as ./issue.ts takes its locks: the agency's seal lock
    // shared, then (inserting its licence) the key of the seal certificate's row.
    await f.db.tx(async (q) => {
      await q.query('select pg_advisory_xact_lock_shared(hashtext($1))', [`yiwang.licence.seal.${HZ_SAMR.code}`]);
      later();
      revoke = f.call<Revoked>(staffOf(HZ_SAMR.code), REVOKE, { id: sealId, reason: 'SUPERSEDED', note: '印章更换' });
      await new Promise((r) => setTimeout(r, 300)); // the revocation is now waiting for this issuance
      list = fetch(`${f.svc.url}/status/${HZ_SAMR.code}/revocation`);
      await new Promise((r) => setTimeout(r, 300));
      await q.query(`select 1 from licence.certificates where id = $1 for key share`, [sealId]);
    });
    const r = await revoke as { errors?: unknown; data?: Revoked };
    expect(r.errors).toBeUndefined();
    expect(r.data!.revokeSealCertificate).toMatchObject({ state: 'REVOKED', revocationReason: 'SUPERSEDED' });
    const res = await list!;
    expect(res.status).toBe(200); // sealed after the revocation, by a fresh seal
    const jws = await res.text();
    expect(serialOf(jws)).not.toBe(r.data!.revokeSealCertificate.serialHex);
  });
});

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseLicenceId } from '../../kernel/ids.ts';
import { DEMO_LICENCE_TYPES } from '../../kernel/demo.ts';
import { readTrustBundle, verifyLicence } from '../../seal/index.ts';
import {
  HOLDER, HZ_SAMR, OTHER_HOLDER, ZJ_SAMR, caseApproved, eventually, issue, licencesForCase, startLicenceFixture, type LicenceFixture,
} from '../../test/support/licence.ts';

let f: LicenceFixture;
// Two instances starting at once on one database: the hierarchy must still be created once.
beforeAll(async () => { f = await startLicenceFixture({ instances: 2 }); });
afterAll(async () => { await f.close(); });

const issuedEvents = async () => (await f.read('licences')).map((m) => ({ type: m.fields.type, payload: JSON.parse(m.fields.payload!) as Record<string, unknown> }));
const seen: Array<{ type: string | undefined; payload: Record<string, unknown> }> = [];
const allIssued = async () => { seen.push(...await issuedEvents()); return seen; };
const settle = () => new Promise((r) => setTimeout(r, 600)); // > claimIdleMs + a few consumer rounds

describe('licence.issue', () => {
  test('case.approved yields one sealed licence that verifies against the root (R-LI-1, R-LI-2, R-LI-4)', async () => {
    const p = caseApproved();
    const stored = await issue(f, p);

    const parts = parseLicenceId(stored.identifier);
    expect(parts).toEqual({ typeCode: DEMO_LICENCE_TYPES.foodBusiness.code, agencyCode: HZ_SAMR.code, serial: expect.stringMatching(/^\d{8}$/), version: '001' });
    expect(stored.number).toMatch(/^330100\d{4}\d{8}$/);

    const anchors = readTrustBundle(readFileSync(join(f.dataDir, 'trust-bundle.pem'), 'utf8'));
    expect(anchors).toHaveLength(1);
    const r = await verifyLicence(stored.credential, { trustAnchorsPem: anchors });
    if (!r.valid) throw new Error(`${r.reason}: ${r.message}`);
    expect(r.holder).toEqual({ name: HOLDER.name, code: HOLDER.idNumber });
    expect(r.issuer).toEqual({ name: HZ_SAMR.name, code: HZ_SAMR.code });
    const l = r.credential.credentialSubject.licence;
    expect(l).toMatchObject({ identifier: stored.identifier, typeName: '食品经营许可证', jurisdiction: '330100' });
    const years = new Date(r.credential.validUntil!).getUTCFullYear() - new Date(r.credential.validFrom).getUTCFullYear();
    expect(years).toBe(5);
    expect(new Date(r.credential.validFrom).toISOString()).toBe(new Date(p.approvedAt).toISOString());

    const events = await eventually(async () => { const e = (await allIssued()).filter((x) => x.payload.caseId === p.caseId); return e.length ? e : null; });
    expect(events).toEqual([{
      type: 'licence.issued',
      payload: { licenceId: stored.id, identifier: stored.identifier, caseId: p.caseId, holderId: HOLDER.id, issuedAt: expect.any(String) },
    }]);
  });

  test('the licence names its issuer as the seal certificate does, whatever name the case event carries', async () => {
    await issue(f, caseApproved()); // the agency's seal exists, certified under its registered name
    const stored = await issue(f, caseApproved({ agency: { code: HZ_SAMR.code, name: `${HZ_SAMR.name}（窗口）` } }));
    const anchors = readTrustBundle(readFileSync(join(f.dataDir, 'trust-bundle.pem'), 'utf8'));
    const r = await verifyLicence(stored.credential, { trustAnchorsPem: anchors });
    expect(r.valid ? [r.issuer.name, r.credential.credentialSubject.licence.issuerName] : r.reason).toEqual([HZ_SAMR.name, HZ_SAMR.name]);
    const row = await f.db.query<{ issuer_name: string }>('select issuer_name from licence.licences where id = $1', [stored.id]);
    expect(row.rows[0]!.issuer_name).toBe(HZ_SAMR.name);
  });

  test('a holder whose name carries invisible format characters gets no licence sealed with it', async () => {
    const spoofed = { id: 'c1712e40-0000-4000-8000-0000000000f1', name: '\u202E三张\u200B', idNumber: '11010519491231002X' };
    f.directory.accounts.set(spoofed.id, spoofed);
    const p = caseApproved({ holder: spoofed });
    await f.publish('cases', 'case.approved', p);
    const clean = await issue(f); // published after it: once it is issued, the spoofed one was handled
    expect(clean.holder_id).toBe(HOLDER.id);
    await settle();
    expect(await licencesForCase(f, p.caseId)).toEqual([]);
  });

  test('a redelivered or replayed case.approved issues nothing more', async () => {
    const p = caseApproved();
    const eventId = randomUUID();
    await f.publish('cases', 'case.approved', p, eventId);
    const first = await eventually(async () => (await licencesForCase(f, p.caseId))[0]);
    await f.publish('cases', 'case.approved', p, eventId);       // the same event again (at-least-once delivery)
    await f.publish('cases', 'case.approved', { ...p, approvedAt: new Date().toISOString() }); // a new event for the same case
    await settle();
    expect((await licencesForCase(f, p.caseId)).map((l) => l.id)).toEqual([first.id]);
    expect((await allIssued()).filter((x) => x.payload.caseId === p.caseId)).toHaveLength(1);
  });

  test('a transient IdP failure leaves the event pending; the retry issues exactly one licence', async () => {
    const calls = f.directory.calls;
    f.directory.failNext = 2;
    const p = caseApproved({ holder: OTHER_HOLDER });
    await f.publish('cases', 'case.approved', p);
    await eventually(async () => f.directory.calls >= calls + 1);
    expect(await licencesForCase(f, p.caseId)).toEqual([]); // the failed attempt stored nothing
    const l = await eventually(async () => (await licencesForCase(f, p.caseId))[0]);
    expect(f.directory.calls).toBeGreaterThanOrEqual(calls + 3);
    expect(l.holder_id).toBe(OTHER_HOLDER.id);
    await settle();
    expect(await licencesForCase(f, p.caseId)).toHaveLength(1);
    await eventually(async () => (await allIssued()).some((x) => x.payload.caseId === p.caseId));
    expect((await allIssued()).filter((x) => x.payload.caseId === p.caseId)).toHaveLength(1);
  });

  test('the IdP is never called while the consumer holds a transaction (the embedded IdP shares the database)', () => {
    expect(f.directory.calls).toBeGreaterThan(0);
    expect(f.directory.insideTransaction).toBe(0);
  });

  test('serials count per agency and type; each agency gets its own seal certificate once', async () => {
    const a = await issue(f, caseApproved({ licenceType: DEMO_LICENCE_TYPES.businessLicence }));
    const b = await issue(f, caseApproved({ licenceType: DEMO_LICENCE_TYPES.businessLicence }));
    expect(Number(parseLicenceId(b.identifier)!.serial)).toBe(Number(parseLicenceId(a.identifier)!.serial) + 1);
    const c = await issue(f, caseApproved({ agency: ZJ_SAMR, licenceType: { code: '11100000MB0000010Q002', name: '食品生产许可证' } }));
    expect(parseLicenceId(c.identifier)).toMatchObject({ agencyCode: ZJ_SAMR.code, serial: '00000001' });
    const seals = (await f.db.query<{ agency_code: string; n: number }>(
      `select agency_code, count(*)::int as n from licence.certificates where role = 'seal' group by agency_code order by agency_code`)).rows;
    expect(seals).toEqual([{ agency_code: ZJ_SAMR.code, n: 1 }, { agency_code: HZ_SAMR.code, n: 1 }]);
  });

  test('a burst of approvals for one agency, handled side by side by two instances: gapless serials, distinct status indexes, one seal', async () => {
    const type = { code: '11100000MB0000010Q003', name: '药品经营许可证' };
    const approvals = Array.from({ length: 24 }, () => caseApproved({ licenceType: type }));
    for (const a of approvals) await f.publish('cases', 'case.approved', a);
    const issued = await Promise.all(approvals.map(async (a) => eventually(async () => (await licencesForCase(f, a.caseId))[0])));
    const serials = issued.map((l) => Number(parseLicenceId(l.identifier)!.serial)).sort((x, y) => x - y);
    expect(serials).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    const { rows } = await f.db.query<{ n: number; distinct_index: number }>(
      `select count(*)::int as n, count(distinct status_index)::int as distinct_index from licence.licence_status s
       join licence.licences l on l.id = s.licence_id where l.type_code = $1`, [type.code]);
    expect(rows[0]).toEqual({ n: 24, distinct_index: 24 });
    const seals = await f.db.query(`select 1 from licence.certificates where role = 'seal' and agency_code = $1 and status = 'active'`, [HZ_SAMR.code]);
    expect(seals.rowCount).toBe(1);
    const anchors = readTrustBundle(readFileSync(join(f.dataDir, 'trust-bundle.pem'), 'utf8'));
    for (const l of issued.slice(0, 3)) expect((await verifyLicence(l.credential, { trustAnchorsPem: anchors })).valid).toBe(true);
  });

  test('malformed case.approved and other event types are acknowledged without a licence', async () => {
    const bad = { ...caseApproved(), agencyCode: 'not-a-credit-code' };
    await f.publish('cases', 'case.approved', bad);
    const hidden = caseApproved({ licenceType: { ...DEMO_LICENCE_TYPES.foodBusiness, name: '食品\u200B经营许可证' } });
    await f.publish('cases', 'case.approved', hidden);
    const completed = caseApproved();
    await f.publish('cases', 'case.completed', { caseId: completed.caseId, outcomeCode: '0' });
    await settle();
    expect(await licencesForCase(f, bad.caseId)).toEqual([]);
    expect(await licencesForCase(f, hidden.caseId)).toEqual([]);
    expect(await licencesForCase(f, completed.caseId)).toEqual([]);
  });
});

describe('licence.trust', () => {
  test('instances starting together create one root and one provincial CA; keys are stored encrypted', async () => {
    const rows = (await f.db.query<{ role: string; subject: string; key_pem: string; issuer_id: string | null }>(
      `select role, subject, key_pem, issuer_id from licence.certificates where role in ('root', 'ca') order by role desc`)).rows;
    expect(rows.map((r) => r.role)).toEqual(['root', 'ca']);
    expect(rows[0]!.subject).toContain('国家政务服务电子印章根证书（演示）');
    expect(rows[1]!.subject).toContain('浙江省政务服务电子印章CA（演示）');
    for (const r of rows) {
      expect(r.key_pem).toContain('BEGIN ENCRYPTED PRIVATE KEY');
      expect(r.key_pem).not.toContain('BEGIN PRIVATE KEY');
    }
  });

  test('the sealed chain is seal certificate, provincial CA, root', async () => {
    const l = await issue(f);
    const header = JSON.parse(Buffer.from(l.credential.split('.')[0]!, 'base64url').toString()) as { x5c: string[] };
    const certs = (await f.db.query<{ role: string; cert_pem: string }>('select role, cert_pem from licence.certificates')).rows;
    const der = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s/g, '');
    const roleOf = (b64: string) => certs.find((c) => der(c.cert_pem) === b64)?.role;
    expect(header.x5c.map(roleOf)).toEqual(['seal', 'ca', 'root']);
  });
});

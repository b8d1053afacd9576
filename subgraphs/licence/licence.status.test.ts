/**
 * licence.status: what issuance puts in a licence for its status (two Bitstring Status List
 * entries, a platform timestamp), the public status-list URLs, and revoke / suspend / reinstate
 * by deciders of the issuing agency — refused for anyone else, audited, one winner under
 * concurrency — seen by POST /verify at once and by the offline CLI once its cache expires.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeList, bitAt } from '../../seal/index.ts';
import { runVerify } from '../../seal/cli/verify.ts';
import type { CliIo } from '../../seal/cli/io.ts';
import { codeOf, HZ_SAMR, issue, person, HOLDER, staffOf, startLicenceFixture, ZJ_SAMR, type LicenceFixture, type StoredLicence } from './testing.ts';

const TTL_SECONDS = 60;
let f: LicenceFixture;
let lic: StoredLicence;
let tmp: string;

const claims = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
const header = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;
const verify = async (credential: string) => (await (await fetch(`${f.svc.url}/verify`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ credential }),
})).json()) as { valid: boolean; reason: string | null };

const MUTATION = (name: string) => `mutation ($id: ID!, $reason: String!) { ${name}(id: $id, reason: $reason) { id state stateReason statusHistory { action reason actorName at } } }`;
const change = (name: string, id: string, reason = '经营场所变更未申报', caller = staffOf(HZ_SAMR.code)) => f.call<Record<string, { state: string; stateReason: string; statusHistory: unknown[] }>>(caller, MUTATION(name), { id, reason });
const audits = async (id: string) => Number((await f.db.query<{ n: string }>('select count(*) as n from licence.status_audit where licence_id = $1', [id])).rows[0]!.n);

beforeAll(async () => {
  f = await startLicenceFixture({ env: { STATUS_LIST_TTL_SECONDS: String(TTL_SECONDS) } });
  lic = await issue(f);
  tmp = mkdtempSync(join(tmpdir(), 'yw-status-'));
}, 60_000);
afterAll(async () => {
  await f?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('licence.status issuance', () => {
  test('a licence carries revocation and suspension entries at one index, and a platform timestamp', () => {
    const c = claims(lic.credential);
    const entries = c.credentialStatus as Array<Record<string, string>>;
    const base = `${f.deps.config.LICENCE_PUBLIC_URL}/status/${HZ_SAMR.code}`;
    expect(entries).toEqual([
      expect.objectContaining({ type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListCredential: `${base}/revocation` }),
      expect.objectContaining({ type: 'BitstringStatusListEntry', statusPurpose: 'suspension', statusListCredential: `${base}/suspension` }),
    ]);
    expect(entries[0]!.statusListIndex).toBe(entries[1]!.statusListIndex);
    expect(typeof header(lic.credential).tst).toBe('string');
  });

  test('GET /status/:agency/:purpose serves the sealed list, cacheable until it expires; unknown lists are 404', async () => {
    const res = await fetch(`${f.svc.url}/status/${HZ_SAMR.code}/revocation`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/vc+jwt');
    const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(TTL_SECONDS / 2 - 2);
    expect(maxAge).toBeLessThanOrEqual(TTL_SECONDS);
    const list = claims(await res.text());
    expect(list).toMatchObject({ type: ['VerifiableCredential', 'BitstringStatusListCredential'], credentialSubject: { statusPurpose: 'revocation', ttl: TTL_SECONDS * 1000 } });
    // Unchanged bits: the same sealed copy again.
    const again = await (await fetch(`${f.svc.url}/status/${HZ_SAMR.code}/revocation`)).text();
    expect(claims(again).validFrom).toBe(list.validFrom);
    for (const path of [`/status/${ZJ_SAMR.code}/revocation`, `/status/${HZ_SAMR.code}/other`, '/status/nope/revocation']) {
      const r = await fetch(`${f.svc.url}${path}`);
      expect([path, r.status, ((await r.json()) as { code: string }).code]).toEqual([path, 404, 'NOT_FOUND']);
    }
  });
});

describe('licence.status changes', () => {
  test('suspend → LICENCE_SUSPENDED, reinstate → valid, revoke → LICENCE_REVOKED; each audited with its reason', async () => {
    expect((await verify(lic.credential)).valid).toBe(true);
    let r = await change('suspendLicence', lic.id, '涉嫌违规，暂停使用');
    expect(r.data?.suspendLicence).toMatchObject({ state: 'SUSPENDED', stateReason: '涉嫌违规，暂停使用' });
    expect(await verify(lic.credential)).toMatchObject({ valid: false, reason: 'LICENCE_SUSPENDED' });
    r = await change('reinstateLicence', lic.id, '核查无误，恢复');
    expect(r.data?.reinstateLicence?.state).toBe('ACTIVE');
    expect((await verify(lic.credential)).valid).toBe(true);
    r = await change('revokeLicence', lic.id, '依法撤销');
    expect(r.data?.revokeLicence).toMatchObject({ state: 'REVOKED', stateReason: '依法撤销' });
    expect(r.data?.revokeLicence?.statusHistory).toEqual([
      { action: 'SUSPEND', reason: '涉嫌违规，暂停使用', actorName: (staffOf(HZ_SAMR.code) as { name: string }).name, at: expect.any(String) },
      { action: 'REINSTATE', reason: '核查无误，恢复', actorName: expect.any(String), at: expect.any(String) },
      { action: 'REVOKE', reason: '依法撤销', actorName: expect.any(String), at: expect.any(String) },
    ]);
    expect(await verify(lic.credential)).toMatchObject({ valid: false, reason: 'LICENCE_REVOKED' });
    // The published list now has the bit set.
    const list = claims(await (await fetch(`${f.svc.url}/status/${HZ_SAMR.code}/revocation`)).text()) as { credentialSubject: { encodedList: string } };
    const index = Number((claims(lic.credential).credentialStatus as Array<{ statusListIndex: string }>)[0]!.statusListIndex);
    expect(bitAt(decodeList(list.credentialSubject.encodedList)!, index)).toBe(true);
    // The holder sees the state too.
    const mine = await f.call<{ myLicences: Array<{ id: string; state: string }> }>(person(HOLDER), '{ myLicences { id state } }');
    expect(mine.data?.myLicences.find((l) => l.id === lic.id)?.state).toBe('REVOKED');
  });

  test('a revoked licence cannot be suspended, reinstated or revoked again (CONFLICT), and nothing is logged', async () => {
    const before = await audits(lic.id);
    for (const m of ['suspendLicence', 'reinstateLicence', 'revokeLicence']) expect(codeOf(await change(m, lic.id))).toBe('CONFLICT');
    expect(await audits(lic.id)).toBe(before);
  });

  test('only deciders of the issuing agency; a reason is required; refusals store nothing', async () => {
    const other = await issue(f);
    const notDecider = { ...staffOf(HZ_SAMR.code), roles: ['acceptor' as const] };
    expect(codeOf(await change('suspendLicence', other.id, '原因', staffOf(ZJ_SAMR.code)))).toBe('ROLE_REQUIRED');
    expect(codeOf(await change('suspendLicence', other.id, '原因', notDecider))).toBe('ROLE_REQUIRED');
    expect(codeOf(await change('suspendLicence', other.id, '原因', person(HOLDER)))).toBe('ROLE_REQUIRED');
    expect(codeOf(await change('suspendLicence', other.id, '   '))).toBe('BAD_INPUT');
    expect(codeOf(await change('suspendLicence', '00000000-0000-4000-8000-000000000000'))).toBe('NOT_FOUND');
    expect(await audits(other.id)).toBe(0);
    expect((await verify(other.credential)).valid).toBe(true);
  });

  test('two deciders suspending at once: one wins, the other gets CONFLICT; one audit row', async () => {
    const other = await issue(f);
    const results = await Promise.all([change('suspendLicence', other.id, '甲'), change('suspendLicence', other.id, '乙')]);
    expect(results.map((r) => codeOf(r) ?? r.data?.suspendLicence?.state).sort()).toEqual(['CONFLICT', 'SUSPENDED']);
    expect(await audits(other.id)).toBe(1);
  });
});

describe('licence.status lists of another province', () => {
  test('fetched from the URL in the licence, kept until they expire; unreachable or non-http → none', async () => {
    const { createTrustStore } = await import('./trust.ts');
    const { serviceStatusLists } = await import('./status.ts');
    const list = await (await fetch(`${f.svc.url}/status/${HZ_SAMR.code}/suspension`)).text();
    const remote = 'https://licence.gd.example.gov.cn/status/11440100MB0000002X/suspension';
    const asked: string[] = [];
    let up = true;
    let now = new Date();
    const source = serviceStatusLists({
      db: f.db, trust: createTrustStore({ db: f.db, passphrase: f.deps.secrets.keyPassphrase, clock: f.deps.clock }),
      base: f.deps.config.LICENCE_PUBLIC_URL, ttlMs: TTL_SECONDS * 1000, now: () => now,
      fetch: async (url) => { asked.push(String(url)); if (!up) throw new Error('down'); return new Response(list); },
    });
    expect(await source.get(remote)).toBe(list);
    expect(await source.get(remote)).toBe(list);
    expect(asked).toEqual([remote]); // the second answer came from memory
    up = false;
    now = new Date(Date.now() + (TTL_SECONDS + 1) * 1000);
    expect(await source.get(remote)).toBe(list); // stale copy handed to the verifier, which refuses it as expired
    expect(asked).toHaveLength(2);
    expect(await source.get('ftp://elsewhere/status/x/revocation')).toBeNull();
    expect(await source.get('https://unknown.example/status/11440100MB0000002X/revocation')).toBeNull();
  });
});

describe('licence.status offline verification (CLI)', () => {
  test('--online caches the lists; offline the cached copy holds until it expires; then refresh shows the change', async () => {
    const fresh = await issue(f);
    writeFileSync(join(tmp, 'licence.jws'), fresh.credential);
    writeFileSync(join(tmp, 'root.pem'), await (await fetch(`${f.svc.url}/trust-bundle.pem`)).text());
    const base = f.deps.config.LICENCE_PUBLIC_URL;
    let now = new Date();
    const run = async (...extra: string[]) => {
      const out: string[] = [];
      const io: CliIo = {
        out: (l) => out.push(l), err: () => {}, env: {}, cwd: tmp, now: () => now,
        fetch: (url, init) => fetch(String(url).replace(base, f.svc.url), init),
      };
      return { code: await runVerify(['licence.jws', '--trust', 'root.pem', '--status-cache', 'cache', ...extra], io), out: out.join('\n') };
    };
    // Nothing cached yet: valid but says the status was not checked; --require-status refuses.
    expect(await run()).toMatchObject({ code: 0, out: expect.stringContaining('not checked: no cached status list') });
    expect(await run('--require-status')).toMatchObject({ code: 1, out: expect.stringContaining('LICENCE_STATUS_UNAVAILABLE') });
    expect((await run('--online')).code).toBe(0);
    expect(await run('--require-status')).toMatchObject({ code: 0, out: expect.stringContaining('checked: neither revoked nor suspended') }); // offline, from the cache

    await change('revokeLicence', fresh.id, '撤销');
    expect((await run()).code).toBe(0); // the cached list is still current: the offline trade-off, bounded by ttl
    now = new Date(Date.now() + (TTL_SECONDS + 5) * 1000);
    expect(await run()).toMatchObject({ code: 1, out: expect.stringContaining('LICENCE_STATUS_UNAVAILABLE') });
    now = new Date();
    expect(await run('--online')).toMatchObject({ code: 1, out: expect.stringContaining('INVALID LICENCE_REVOKED') });
  });
});

/**
 * licence.status: what issuance puts in a licence for its status (two Bitstring Status List
 * entries, a platform timestamp), the public status-list URLs, and revoke / suspend / reinstate
 * by deciders of the issuing agency — refused for anyone else, audited, one winner under
 * concurrency — seen by POST /verify at once and by the offline CLI once its cache expires.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeList, bitAt, runVerify } from '../../seal/index.ts';
import type { CliIo } from '../../kernel/cli.ts';
import { codeOf, HZ_SAMR, issue, person, HOLDER, staffOf, startLicenceFixture, ZJ_SAMR, type LicenceFixture, type StoredLicence } from '../../test/support/licence.ts';

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

describe('licence.status after LICENCE_PUBLIC_URL changed', () => {
  test('a list sealed under the old URL is sealed again under the new one, not served with another list\'s id (R-LI-3)', async () => {
    const { sealedStatusList } = await import('./status.ts');
    const { createTrustStore } = await import('./trust.ts');
    const trust = createTrustStore({ db: f.db, passphrase: f.deps.secrets.keyPassphrase, clock: f.deps.clock });
    const at = (base: string) => sealedStatusList(f.db, trust, { agencyCode: HZ_SAMR.code, purpose: 'revocation', base, ttlMs: TTL_SECONDS * 1000, now: new Date() });
    const old = (await at(f.deps.config.LICENCE_PUBLIC_URL))!;
    const moved = (await at('http://127.0.0.1:1/moved'))!;
    expect(claims(old.jws).id).toBe(`${f.deps.config.LICENCE_PUBLIC_URL}/status/${HZ_SAMR.code}/revocation`);
    expect(claims(moved.jws).id).toBe(`http://127.0.0.1:1/moved/status/${HZ_SAMR.code}/revocation`);
    expect(claims((await at('http://127.0.0.1:1/moved'))!.jws).validFrom).toBe(claims(moved.jws).validFrom);
    expect(claims((await at(f.deps.config.LICENCE_PUBLIC_URL))!.jws).id).toBe(claims(old.jws).id);
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
  const remote = `https://licence.gd.example.gov.cn/status/${HZ_SAMR.code}/suspension`;
  /** A list sealed by HZ_SAMR's seal (under the platform root) but published at `url`. */
  async function sealedAt(url: string, now: Date): Promise<string> {
    const { createTrustStore } = await import('./trust.ts');
    const { buildStatusListCredential, emptyBitstring, issuerId, signStatusList } = await import('../../seal/index.ts');
    const seal = await createTrustStore({ db: f.db, passphrase: f.deps.secrets.keyPassphrase, clock: f.deps.clock }).sealFor(f.db, HZ_SAMR);
    const c = buildStatusListCredential({ url, issuer: { id: issuerId(HZ_SAMR.code), name: HZ_SAMR.name }, purpose: 'suspension', bits: emptyBitstring(), now, ttlMs: TTL_SECONDS * 1000 });
    return signStatusList(c, { privateKey: seal.privateKey, chainPem: seal.chainPem }, now);
  }
  async function source(answer: (url: string) => Response | Promise<Response>, now: () => Date, remoteLimit?: number) {
    const { createTrustStore } = await import('./trust.ts');
    const { serviceStatusLists } = await import('./status.ts');
    const asked: string[] = [];
    const s = serviceStatusLists({
      db: f.db, trust: createTrustStore({ db: f.db, passphrase: f.deps.secrets.keyPassphrase, clock: f.deps.clock }),
      base: f.deps.config.LICENCE_PUBLIC_URL, ttlMs: TTL_SECONDS * 1000, now, ...(remoteLimit ? { remoteLimit } : {}),
      fetch: async (url) => { asked.push(String(url)); return answer(String(url)); },
    });
    return { s, asked };
  }

  test('fetched from the URL in the licence, verified, kept until they expire; a bad answer never replaces the good copy', async () => {
    let now = new Date();
    const good = await sealedAt(remote, now);
    let answer: Response | (() => Response) = new Response(good);
    const { s, asked } = await source(() => (typeof answer === 'function' ? answer() : answer), () => now);
    expect(await s.get(remote)).toBe(good);
    expect(await s.get(remote)).toBe(good);
    expect(asked).toEqual([remote]); // the second answer came from memory
    now = new Date(Date.now() + (TTL_SECONDS + 1) * 1000);
    // Expired in memory: the refetch answers lists that do not verify as this URL's list.
    const own = await (await fetch(`${f.svc.url}/status/${HZ_SAMR.code}/suspension`)).text(); // sealed, but another list id
    const [h, p, sig] = good.split('.') as [string, string, string];
    const edited = `${h}.${Buffer.from(JSON.stringify({ ...claims(good), validUntil: '2999-01-01T00:00:00.000Z' })).toString('base64url')}.${sig}`;
    for (const bad of [own, edited, 'not a list']) {
      answer = new Response(bad);
      expect(await s.get(remote)).toBe(good); // stale good copy handed on (the verifier refuses it as expired), never the bad answer
    }
    answer = () => { throw new Error('down'); };
    expect(await s.get(remote)).toBe(good);
    expect(asked).toHaveLength(5);
  });

  test('an oversized answer is refused; non-http URLs cause no request', async () => {
    const now = new Date();
    const big = `https://licence.gd.example.gov.cn/status/${HZ_SAMR.code}/revocation`;
    const { s, asked } = await source(() => new Response('x'.repeat(300 * 1024)), () => now);
    expect(await s.get(big)).toBeNull();
    expect(await s.get('ftp://elsewhere/status/x/revocation')).toBeNull();
    expect(await s.get('file:///etc/passwd')).toBeNull();
    expect(asked).toEqual([big]);
  });

  test('the memory of remote lists is bounded (least recently used dropped)', async () => {
    const { REMOTE_LIST_LIMIT } = await import('./status.ts');
    expect(REMOTE_LIST_LIMIT).toBeGreaterThan(0);
    const now = new Date();
    const urls = Array.from({ length: 3 }, (_, i) => `https://p${i}.example.gov.cn/status/${HZ_SAMR.code}/suspension`);
    const lists = new Map(await Promise.all(urls.map(async (u) => [u, await sealedAt(u, now)] as const)));
    const { s, asked } = await source((u) => new Response(lists.get(u)!), () => now, 2);
    await s.get(urls[0]!);
    await s.get(urls[1]!);
    await s.get(urls[0]!); // p0 used again: p1 is now the least recently used
    await s.get(urls[2]!); // over the limit: p1 dropped
    expect(asked).toEqual([urls[0], urls[1], urls[2]]);
    expect(await s.get(urls[0]!)).toBe(lists.get(urls[0]!));
    expect(asked).toHaveLength(3);
    await s.get(urls[1]!);
    expect(asked).toEqual([urls[0], urls[1], urls[2], urls[1]]);
  });
});

describe('licence.status offline verification (CLI)', () => {
  const base = () => f.deps.config.LICENCE_PUBLIC_URL;
  function cli(now: () => Date, answer?: (url: string) => Response | Promise<Response>) {
    const asked: string[] = [];
    const run = async (...extra: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const io: CliIo = {
        out: (l) => out.push(l), err: (l) => err.push(l), env: {}, cwd: tmp, now,
        fetch: async (url, init) => { asked.push(String(url)); return answer ? answer(String(url)) : fetch(String(url).replace(base(), f.svc.url), init); },
      };
      return { code: await runVerify(['licence.jws', '--trust', 'root.pem', '--status-cache', 'cache', ...extra], io), out: out.join('\n'), err: err.join('\n') };
    };
    return { run, asked };
  }
  const cacheFiles = () => (existsSync(join(tmp, 'cache')) ? readdirSync(join(tmp, 'cache')).sort().map((n) => `${n}:${readFileSync(join(tmp, 'cache', n), 'utf8')}`) : []);

  test('strict by default: no cached list is INVALID LICENCE_STATUS_UNAVAILABLE; --skip-status says it did not check', async () => {
    rmSync(join(tmp, 'cache'), { recursive: true, force: true });
    const fresh = await issue(f);
    writeFileSync(join(tmp, 'licence.jws'), fresh.credential);
    writeFileSync(join(tmp, 'root.pem'), await (await fetch(`${f.svc.url}/trust-bundle.pem`)).text());
    const { run } = cli(() => new Date());
    expect(await run()).toMatchObject({ code: 1, out: expect.stringContaining('INVALID LICENCE_STATUS_UNAVAILABLE') });
    expect(await run('--require-status')).toMatchObject({ code: 1, out: expect.stringContaining('LICENCE_STATUS_UNAVAILABLE') });
    const skipped = await run('--skip-status');
    expect(skipped).toMatchObject({ code: 0, out: expect.stringContaining('NOT checked'), err: expect.stringContaining('NOT checked') });
  });

  test('--online caches the lists; offline the cached copy holds until it expires; then refresh shows the change', async () => {
    rmSync(join(tmp, 'cache'), { recursive: true, force: true });
    const fresh = await issue(f);
    writeFileSync(join(tmp, 'licence.jws'), fresh.credential);
    writeFileSync(join(tmp, 'root.pem'), await (await fetch(`${f.svc.url}/trust-bundle.pem`)).text());
    let now = new Date();
    const { run } = cli(() => now);
    expect((await run('--online')).code).toBe(0);
    expect(await run()).toMatchObject({ code: 0, out: expect.stringContaining('checked: neither revoked nor suspended') }); // offline, from the cache

    await change('revokeLicence', fresh.id, '撤销');
    expect((await run()).code).toBe(0); // the cached list is still current: the offline trade-off, bounded by ttl
    now = new Date(Date.now() + (TTL_SECONDS + 5) * 1000);
    expect(await run()).toMatchObject({ code: 1, out: expect.stringContaining('LICENCE_STATUS_UNAVAILABLE') });
    now = new Date();
    expect(await run('--online')).toMatchObject({ code: 1, out: expect.stringContaining('INVALID LICENCE_REVOKED') });
  });

  test('--online: a crafted licence pointing at another host causes no request', async () => {
    const c = claims(lic.credential) as { credentialStatus: Array<Record<string, string>> };
    c.credentialStatus = c.credentialStatus.map((e) => ({ ...e, statusListCredential: 'http://169.254.169.254/latest/meta-data' }));
    const [h, , sig] = lic.credential.split('.') as [string, string, string];
    writeFileSync(join(tmp, 'licence.jws'), `${h}.${Buffer.from(JSON.stringify(c)).toString('base64url')}.${sig}`);
    writeFileSync(join(tmp, 'root.pem'), await (await fetch(`${f.svc.url}/trust-bundle.pem`)).text());
    const { run, asked } = cli(() => new Date());
    expect(await run('--online')).toMatchObject({ code: 1, out: expect.stringContaining('INVALID LICENCE_BAD_SIGNATURE') });
    expect(asked).toEqual([]);
  });

  test('--online: an invalid, replayed or oversized answer leaves the cache unchanged', async () => {
    rmSync(join(tmp, 'cache'), { recursive: true, force: true });
    const fresh = await issue(f);
    writeFileSync(join(tmp, 'licence.jws'), fresh.credential);
    writeFileSync(join(tmp, 'root.pem'), await (await fetch(`${f.svc.url}/trust-bundle.pem`)).text());
    const now = new Date();
    const good = cli(() => now);
    expect((await good.run('--online')).code).toBe(0);
    const before = cacheFiles();
    expect(before).toHaveLength(4); // two status lists, the provincial CA's CRL (for the seal) and the root's (for the CA and the TSA)
    const other = await (await fetch(`${f.svc.url}/status/${HZ_SAMR.code}/revocation`)).text(); // sealed, but the revocation list answering for both URLs
    const answers: Array<() => Response> = [
      () => new Response('garbage'),
      () => new Response(other),
      () => new Response('x'.repeat(300 * 1024)),
      () => new Response('', { status: 500 }),
    ];
    for (const answer of answers) {
      const { run, asked } = cli(() => now, answer);
      const r = await run('--online');
      expect(asked).toHaveLength(4); // two status lists and the two CRLs, each distribution point once
      expect(r.err).toContain('could not refresh the status list');
      expect(r.err).toContain('could not refresh the CRL');
      expect(r.code).toBe(0); // the good cached copies still answer
      expect(cacheFiles()).toEqual(before);
    }
  });
});

/**
 * licence.crl: seal certificates name a CRL distribution point on the licence service, which
 * serves the CA's current CRL (PEM or DER); the strict CLI verifier needs a current CRL for each
 * such certificate (none, or a stale one past nextUpdate → LICENCE_STATUS_UNAVAILABLE),
 * `--online` fetches and checks it, and a revoked seal then fails with LICENCE_CERT_REVOKED
 * (a verifier must not rule out revocation without a current CRL).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCertificate, parseCrl, runVerify } from '../../seal/index.ts';
import type { CliIo } from '../../kernel/cli.ts';
import { HZ_SAMR, issue, startLicenceFixture, type LicenceFixture, type StoredLicence } from '../../test/support/licence.ts';
import { CRL_HOURS } from './trust.ts';

let f: LicenceFixture;
let lic: StoredLicence;
let tmp: string;
const x5c = (jws: string) => (JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString()) as { x5c: string[] }).x5c;

beforeAll(async () => {
  f = await startLicenceFixture();
  lic = await issue(f);
  tmp = mkdtempSync(join(tmpdir(), 'yw-crl-'));
  writeFileSync(join(tmp, 'licence.jws'), lic.credential);
  writeFileSync(join(tmp, 'root.pem'), await (await fetch(`${f.svc.url}/trust-bundle.pem`)).text());
}, 60_000);
afterAll(async () => {
  await f?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const localUrl = (url: string) => url.replace(f.deps.config.LICENCE_PUBLIC_URL, f.svc.url);

describe('licence.crl distribution point', () => {
  test('the seal certificate names <LICENCE_PUBLIC_URL>/crl/<CA id>.crl, served as a CRL signed by the CA (PEM and DER)', async () => {
    const [sealB64, caB64] = x5c(lic.credential) as [string, string];
    const seal = loadCertificate(Buffer.from(sealB64, 'base64'));
    const ca = new X509Certificate(Buffer.from(caB64, 'base64'));
    const { rows } = await f.db.query<{ id: string }>(`select id from licence.certificates where role = 'ca'`);
    expect(seal.profile.crlDistributionPoints).toEqual([`${f.deps.config.LICENCE_PUBLIC_URL}/crl/${rows[0]!.id}.crl`]);

    const pem = await fetch(localUrl(seal.profile.crlDistributionPoints[0]!));
    expect([pem.status, pem.headers.get('content-type')]).toEqual([200, expect.stringContaining('application/x-pem-file')]);
    const crl = parseCrl(await pem.text());
    expect(crl.revoked.size).toBe(0);
    expect(crl.nextUpdate!.getTime() - crl.thisUpdate.getTime()).toBe(CRL_HOURS * 3600_000);
    const { verify } = await import('node:crypto');
    expect(verify('sha256', crl.tbs, ca.publicKey, crl.signature)).toBe(true);

    const der = await fetch(localUrl(seal.profile.crlDistributionPoints[0]!), { headers: { accept: 'application/pkix-crl' } });
    expect(der.headers.get('content-type')).toContain('application/pkix-crl');
    expect(parseCrl(Buffer.from(await der.arrayBuffer())).thisUpdate).toEqual(crl.thisUpdate);

    for (const path of ['/crl/00000000-0000-4000-8000-000000000000.crl', '/crl/nope.crl', `/crl/${rows[0]!.id}.pem`]) {
      expect((await fetch(`${f.svc.url}${path}`)).status).toBe(404);
    }
  });
});

describe('licence.crl numbering', () => {
  test('an unchanged list is served as the CRL already signed; each change gets a higher cRLNumber, even within one second', async () => {
    const { rows } = await f.db.query<{ id: string }>(`select id from licence.certificates where role = 'ca'`);
    const url = `${f.svc.url}/crl/${rows[0]!.id}.crl`;
    const get = async () => parseCrl(await (await fetch(url)).text());
    const first = await get();
    const again = await get();
    expect(again.crlNumber).toBe(first.crlNumber);
    expect(again.tbs.equals(first.tbs)).toBe(true);
    // Two revocations in quick succession (as a burst of revocations would be).
    const extra = await issue(f, undefined);
    const serials = [x5c(lic.credential)[0]!, x5c(extra.credential)[0]!].map((b) => new X509Certificate(Buffer.from(b, 'base64')).serialNumber.toUpperCase());
    const numbers = [first.crlNumber!];
    for (const serial of new Set(serials)) {
      await f.db.query(`update licence.certificates set status = 'revoked', revoked_at = now(), revocation_reason = 'superseded' where serial_hex = $1`, [serial]);
      numbers.push((await get()).crlNumber!);
    }
    await f.db.query(`update licence.certificates set status = 'active', revoked_at = null, revocation_reason = null where serial_hex = any($1)`, [serials]);
    numbers.push((await get()).crlNumber!);
    for (let i = 1; i < numbers.length; i++) expect(numbers[i]!).toBeGreaterThan(numbers[i - 1]!);
  });
});

describe('licence.crl strict CLI', () => {
  let now = new Date();
  const run = async (...extra: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = {
      out: (l) => out.push(l), err: (l) => err.push(l), env: {}, cwd: tmp, now: () => now,
      fetch: (url, init) => fetch(localUrl(String(url)), init),
    };
    return { code: await runVerify(['licence.jws', '--trust', 'root.pem', '--status-cache', 'cache', ...extra], io), out: out.join('\n'), err: err.join('\n') };
  };

  test('a CA that serves its CRL as PEM (Accept ignored): the cached PEM is read offline like DER', async () => {
    now = new Date();
    rmSync(join(tmp, 'cache'), { recursive: true, force: true });
    const out: string[] = [];
    const pemOnly: CliIo = {
      out: (l) => out.push(l), err: (l) => out.push(l), env: {}, cwd: tmp, now: () => now,
      fetch: (url) => fetch(localUrl(String(url))), // no Accept: the service answers PEM
    };
    const offline = async () => {
      out.length = 0;
      return runVerify(['licence.jws', '--trust', 'root.pem', '--status-cache', 'cache'], pemOnly);
    };
    expect([await runVerify(['licence.jws', '--trust', 'root.pem', '--status-cache', 'cache', '--online'], pemOnly), out.join('\n')]).toEqual([0, expect.stringContaining('VALID')]);
    const cached = readdirSync(join(tmp, 'cache')).filter((n) => n.endsWith('.crl'));
    expect(cached.length).toBeGreaterThan(0);
    for (const n of cached) expect(readFileSync(join(tmp, 'cache', n), 'latin1')).toContain('-----BEGIN X509 CRL-----');
    expect([await offline(), out.join('\n')]).toEqual([0, expect.stringContaining('VALID')]);
  });

  test('no CRL at hand → UNAVAILABLE; --online fetches it; past nextUpdate → UNAVAILABLE; a revoked seal → LICENCE_CERT_REVOKED', async () => {
    now = new Date();
    // Status lists cached, CRL not: revocation of the seal cannot be ruled out.
    const first = await run('--online');
    expect(first.code).toBe(0);
    rmSync(join(tmp, 'cache'), { recursive: true });
    const { loadAnchors, refreshStatusLists, verifyLicence } = await import('../../seal/index.ts');
    const sealed = await verifyLicence(lic.credential, { trustAnchorsPem: [await (await fetch(`${f.svc.url}/trust-bundle.pem`)).text()] });
    if (!sealed.valid) throw new Error('licence does not verify');
    await refreshStatusLists(join(tmp, 'cache'), sealed.credential, {
      anchors: loadAnchors([await (await fetch(`${f.svc.url}/trust-bundle.pem`)).text()]), crls: [], now, fetch: (url, init) => fetch(localUrl(String(url)), init),
    });
    const noCrl = await run();
    expect(noCrl).toMatchObject({ code: 1, out: expect.stringMatching(/^INVALID LICENCE_STATUS_UNAVAILABLE: .*no CRL at hand/) });

    expect(await run('--online')).toMatchObject({ code: 0, out: expect.stringContaining('VALID') });
    expect((await run()).code).toBe(0); // offline, CRL and lists from the cache

    // The CRL is current for CRL_HOURS; status lists for their ttl (shorter): move past the lists only by refreshing them.
    now = new Date(Date.now() + (CRL_HOURS + 1) * 3600_000);
    const stale = await run('--crl', 'none');
    expect(stale.code).toBe(2); // a --crl file that does not exist is a usage error
    writeFileSync(join(tmp, 'old.crl'), await (await fetch(`${f.svc.url}/crl/${(await f.db.query<{ id: string }>(`select id from licence.certificates where role = 'ca'`)).rows[0]!.id}.crl`)).text());
    now = new Date();
    const staleFile = await run('--crl', 'old.crl', '--skip-status');
    expect(staleFile.code).toBe(0); // --skip-status: neither lists nor CRLs required
    now = new Date(Date.now() + (CRL_HOURS + 1) * 3600_000);
    const expired = await run('--crl', 'old.crl');
    expect(expired).toMatchObject({ code: 1, out: expect.stringMatching(/^INVALID LICENCE_STATUS_UNAVAILABLE: .*CRL .*expired/) });
    now = new Date();

    // The agency's seal certificate is revoked: the cached CRL still says nothing (offline trade-off
    // bounded by nextUpdate); --online fetches the new CRL and the licence fails.
    const serial = new X509Certificate(Buffer.from(x5c(lic.credential)[0]!, 'base64')).serialNumber.toUpperCase();
    await f.db.query(`update licence.certificates set status = 'revoked', revoked_at = now() where role = 'seal' and agency_code = $1 and serial_hex = $2`, [HZ_SAMR.code, serial]);
    const revoked = await run('--online');
    expect(revoked).toMatchObject({ code: 1, out: expect.stringContaining('INVALID LICENCE_CERT_REVOKED') });
    expect((await run()).code).toBe(1); // the new CRL is cached
  });

});

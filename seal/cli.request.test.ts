/**
 * seal.cli request: the offline CA certifies a key it never sees. A requester (here standing in
 * for the licence service) makes its key pair and a PKCS #10 request; `yiwang seal issue-seal
 * --csr` and `issue-tsa --csr` certify the requested keys, record that the key is held
 * elsewhere, write the chain to install, and — with --crl-base — name the CRL distribution point
 * where the CA's DER CRL is published; `yiwang verify --online` fetches that CRL when none is
 * cached, and sees a revocation after `yiwang seal revoke`. Refusals exit 2 and store nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { DEMO_AGENCIES } from '../kernel/demo.ts';
import { runSeal } from './cli/seal.ts';
import { runVerify } from './cli/verify.ts';
import type { CliIo } from './cli/io.ts';
import type { CertRecord } from './cli/directory.ts';
import { buildCsr, buildLicenceCredential, createTimestamper, readTrustBundle, signLicence } from './index.ts';
import { loadCertificate } from './chain/certificate.ts';
import { licenceFields } from './testing/hierarchy.ts';

const PASS = 'cli-test-passphrase-0123456789';
const AGENCY = DEMO_AGENCIES[1];
let now = new Date('2026-03-01T00:00:00Z');
let dir: string;
let server: Server;
let base: string;
let crlRequests: string[] = [];
let sealKey: KeyObject;
let tsaKey: KeyObject;
let root: string, zj: string, sealId: string;

async function cli(run: typeof runSeal, argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env: { KEY_PASSPHRASE: PASS }, cwd: dir, now: () => now, fetch };
  const code = await run(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}
const seal = (...argv: string[]) => cli(runSeal, ['--dir', 'ca', ...argv]);
const verify = (...argv: string[]) => cli(runVerify, ['licence.jws', '--trust', 'bundle.pem', '--status-cache', 'cache', ...argv]);
const idOf = (out: string) => out.split(/\s/)[0]!;
const records = (): CertRecord[] => JSON.parse(readFileSync(join(dir, 'ca', 'index.json'), 'utf8')).certificates as CertRecord[];
const request = (file: string, key: KeyObject, subject: { commonName: string; organization?: string; organizationIdentifier?: string }) =>
  writeFileSync(join(dir, file), buildCsr({ subject, privateKey: key }));
const rsa = (bits = 2048) => generateKeyPairSync('rsa', { modulusLength: bits }).privateKey;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'yiwang-seal-csr-'));
  writeFileSync(join(dir, 'seal.png'), Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64'));
  // The CA's published CRLs: a static server over ca/crl (what an operator's web server would do).
  server = createServer((req, res) => {
    crlRequests.push(req.url ?? '');
    const file = join(dir, 'ca', 'crl', basename(req.url ?? ''));
    if (!existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}/crl`;
  sealKey = rsa();
  tsaKey = rsa();
  root = idOf((await seal('init-root', '--name', '国家政务服务电子印章根CA')).out);
  zj = idOf((await seal('issue-ca', '--parent', root, '--name', '浙江省电子印章CA', '--region', '330000', '--crl-base', base)).out);
  await seal('crl', '--ca', root);
  await seal('crl', '--ca', zj);
  await seal('export-bundle', '--out', 'bundle.pem');
}, 60_000);
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('seal.cli request (--csr)', () => {
  it('issue-seal --csr certifies the requested key, keeps no key, writes the chain, names the CRL distribution point', async () => {
    request('seal.csr', sealKey, { commonName: '电子证照专用章', organization: AGENCY.name, organizationIdentifier: AGENCY.code });
    const keysBefore = readdirSync(join(dir, 'ca', 'keys')).length;
    const r = await seal('issue-seal', '--ca', zj, '--csr', 'seal.csr', '--out', 'seal-chain.pem', '--crl-base', base,
      '--agency-name', AGENCY.name, '--agency-code', AGENCY.code, '--seal-name', '电子证照专用章', '--image', 'seal.png');
    expect([r.code, r.err]).toEqual([0, '']);
    sealId = idOf(r.out);
    expect(r.out).toContain(`证书链 / chain: ${join(dir, 'seal-chain.pem')}`);
    expect(records().find((c) => c.id === sealId)).toMatchObject({ role: 'seal', keyHeldElsewhere: true, agencyCode: AGENCY.code, parentId: zj });
    expect(readdirSync(join(dir, 'ca', 'keys'))).toHaveLength(keysBefore);

    const chain = readTrustBundle(readFileSync(join(dir, 'seal-chain.pem'), 'utf8'));
    expect(chain).toHaveLength(3);
    expect(new X509Certificate(chain[0]!).checkPrivateKey(sealKey)).toBe(true);
    expect(loadCertificate(chain[0]!).profile.crlDistributionPoints).toEqual([`${base}/${zj}.crl`]);
    expect(loadCertificate(chain[1]!).profile.crlDistributionPoints).toEqual([`${base}/${root}.crl`]);
    // The CA publishes DER beside PEM, what the distribution point serves.
    expect(existsSync(join(dir, 'ca', 'crl', `${zj}.crl`))).toBe(true);
  });

  it('issue-tsa --csr certifies the TSA key (a DER request, as openssl -outform DER writes it); the requester seals and timestamps with keys the CA never held', async () => {
    const pem = buildCsr({ subject: { commonName: '平台时间戳服务' }, privateKey: tsaKey });
    writeFileSync(join(dir, 'tsa.csr'), Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'));
    const r = await seal('issue-tsa', '--parent', root, '--name', '平台时间戳服务', '--csr', 'tsa.csr', '--out', 'tsa-chain.pem', '--crl-base', base);
    expect(r.code).toBe(0);
    const tsaChain = readTrustBundle(readFileSync(join(dir, 'tsa-chain.pem'), 'utf8'));
    expect(loadCertificate(tsaChain[0]!).profile.crlDistributionPoints).toEqual([`${base}/${root}.crl`]);
    const sealChain = readTrustBundle(readFileSync(join(dir, 'seal-chain.pem'), 'utf8'));
    const timestamper = createTimestamper({ privateKey: tsaKey, chainPem: tsaChain }, { now: () => now });
    writeFileSync(join(dir, 'licence.jws'), await signLicence(buildLicenceCredential(licenceFields()), { privateKey: sealKey, chainPem: sealChain }, now, { timestamper }));
  });

  it('verify: no CRL at hand is LICENCE_STATUS_UNAVAILABLE; --online fetches each distribution point once; a revocation then shows', async () => {
    now = new Date('2026-03-02T00:00:00Z');
    expect(await verify()).toMatchObject({ code: 1, out: expect.stringMatching(/^INVALID LICENCE_STATUS_UNAVAILABLE: .*no CRL at hand/) });
    crlRequests = [];
    expect(await verify('--online')).toMatchObject({ code: 0, out: expect.stringContaining('VALID') });
    expect(crlRequests.sort()).toEqual([`/crl/${root}.crl`, `/crl/${zj}.crl`].sort());
    expect((await verify()).code).toBe(0); // offline, from the cache

    expect((await seal('revoke', '--id', sealId, '--reason', 'keyCompromise')).code).toBe(0);
    expect((await verify()).code).toBe(0); // the cached CRL still says nothing (until its nextUpdate)
    expect(await verify('--online')).toMatchObject({ code: 1, out: expect.stringContaining('INVALID LICENCE_CERT_REVOKED') });
  });
});

describe('seal.cli request refusals', () => {
  it('a bad request, another agency\'s request, a short key, a missing file, a bad --crl-base: exit 2, nothing stored', async () => {
    const before = readFileSync(join(dir, 'ca', 'index.json'), 'utf8');
    request('other.csr', rsa(), { commonName: '电子证照专用章', organization: DEMO_AGENCIES[2].name, organizationIdentifier: DEMO_AGENCIES[2].code });
    request('short.csr', rsa(1024), { commonName: '电子证照专用章', organization: AGENCY.name, organizationIdentifier: AGENCY.code });
    const der = Buffer.from(readFileSync(join(dir, 'seal.csr'), 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 3]! ^= 0x01;
    writeFileSync(join(dir, 'tampered.csr'), `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`);
    const issueSeal = (...extra: string[]) => seal('issue-seal', '--ca', zj, '--agency-name', AGENCY.name, '--agency-code', AGENCY.code,
      '--seal-name', '电子证照专用章', '--image', 'seal.png', ...extra);
    const cases: Array<[string[], string]> = [
      [['--csr', 'tampered.csr'], 'SEAL_CSR_INVALID'],
      [['--csr', 'bundle.pem'], 'SEAL_CSR_INVALID'],
      [['--csr', 'short.csr'], 'SEAL_CSR_INVALID'],
      [['--csr', 'other.csr'], 'SEAL_AGENCY_MISMATCH'],
      [['--csr', 'nowhere.csr'], 'BAD_INPUT'],
      [['--crl-base', 'ftp://example/crl'], 'BAD_INPUT'],
    ];
    for (const [extra, code] of cases) {
      const r = await issueSeal(...extra);
      expect([extra, r.code, r.err]).toEqual([extra, 2, expect.stringContaining(`ERROR ${code}`)]);
    }
    expect(readFileSync(join(dir, 'ca', 'index.json'), 'utf8')).toBe(before);
  });

  it('rotate cannot renew a seal whose key the CA does not hold; --help shows --csr and --crl-base', async () => {
    now = new Date('2026-03-03T00:00:00Z');
    request('seal2.csr', rsa(), { commonName: '电子证照专用章', organization: AGENCY.name, organizationIdentifier: AGENCY.code });
    const id = idOf((await seal('issue-seal', '--ca', zj, '--csr', 'seal2.csr', '--agency-name', AGENCY.name, '--agency-code', AGENCY.code,
      '--seal-name', '电子证照专用章', '--image', 'seal.png')).out);
    expect(existsSync(join(dir, 'ca', 'certs', `${id}.chain.pem`))).toBe(true); // default --out
    const r = await seal('rotate', '--seal', id);
    expect([r.code, r.err]).toEqual([2, expect.stringContaining('ERROR BAD_INPUT')]);
    const help = (await seal('--help')).out;
    expect(help).toContain('--csr <req.pem>');
    expect(help).toContain('--crl-base <URL>');
  });
});

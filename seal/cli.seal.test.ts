/**
 * seal.cli seal: `yiwang seal …` run as functions on a temporary directory — the hierarchy
 * (root → two provinces → agency seals, the platform TSA), rotation, revocation with a CRL,
 * the trust bundle, keys encrypted at rest, and the exit codes; then `yiwang verify` on what it
 * made: across provinces with the national bundle, not with a foreign root, after expiry with a
 * movable clock.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_AGENCIES } from '../kernel/demo.ts';
import { runSeal } from './cli/seal.ts';
import { runVerify } from './cli/verify.ts';
import type { CliIo } from './cli/io.ts';
import type { CertRecord } from './cli/directory.ts';
import { licenceFields } from './testing/hierarchy.ts';
import { loadCertificate } from './chain/certificate.ts';

const PASS = 'cli-test-passphrase-0123456789';
const T0 = new Date('2026-03-01T00:00:00Z');
let dir: string;
let now = T0;
// Guangdong agency for province B: a valid GB 32100 code (check character computed by kernel/ids.ts).
const GD = { name: '广州市市场监督管理局', code: DEMO_AGENCIES[1].code.replace('330100', '440100') };

async function cli(run: typeof runSeal, argv: string[], env: Record<string, string> = { KEY_PASSPHRASE: PASS }) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env, cwd: dir, now: () => now };
  const code = await run(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}
const seal = (...argv: string[]) => cli(runSeal, ['--dir', 'ca', ...argv]);
const verify = (...argv: string[]) => cli(runVerify, [...argv, '--skip-status']);
const records = (d = 'ca'): CertRecord[] => JSON.parse(readFileSync(join(dir, d, 'index.json'), 'utf8')).certificates as CertRecord[];
const idOf = (out: string) => out.split(/\s/)[0]!;

let root: string, zj: string, gd: string, hzSeal: string, gdSeal: string, tsa: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'yiwang-seal-cli-'));
  // A 1×1 PNG as the seal image.
  writeFileSync(join(dir, 'seal.png'), Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64'));
  writeFileSync(join(dir, 'hz.json'), JSON.stringify(licenceFields()));
  const { formatLicenceId, isValidCreditCode } = await import('../kernel/ids.ts');
  // Find the check character that makes the Guangdong code valid.
  const body = GD.code.slice(0, 17);
  GD.code = [...'0123456789ABCDEFGHJKLMNPQRTUWXY'].map((c) => body + c).find(isValidCreditCode)!;
  writeFileSync(join(dir, 'gd.json'), JSON.stringify(licenceFields({
    issuerName: GD.name, issuerCode: GD.code, jurisdiction: '440100',
    // GB/T 36904: the identifier names the issuing agency and carries its check character.
    identifier: formatLicenceId({ typeCode: '11100000MB0000010Q001', agencyCode: GD.code, serial: '20260301000001', version: '001' }),
  })));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('seal.cli seal hierarchy', () => {
  it('builds root → provinces → seals and the TSA; keys are encrypted files only the owner reads', async () => {
    let r = await seal('init-root', '--name', '国家政务服务电子印章根CA');
    expect(r.code).toBe(0);
    root = idOf(r.out);
    r = await seal('issue-ca', '--parent', root, '--name', '浙江省电子印章CA', '--region', '330000');
    expect(r.code).toBe(0);
    zj = idOf(r.out);
    gd = idOf((await seal('issue-ca', '--parent', root, '--name', '广东省电子印章CA', '--region', '440000')).out);
    r = await seal('issue-seal', '--ca', zj, '--agency-name', DEMO_AGENCIES[1].name, '--agency-code', DEMO_AGENCIES[1].code, '--seal-name', '电子证照专用章', '--image', 'seal.png');
    expect([r.code, r.err]).toEqual([0, '']);
    hzSeal = idOf(r.out);
    gdSeal = idOf((await seal('issue-seal', '--ca', gd, '--agency-name', GD.name, '--agency-code', GD.code, '--seal-name', '电子证照专用章', '--image', 'seal.png')).out);
    tsa = idOf((await seal('issue-tsa', '--parent', root, '--name', '平台时间戳服务')).out);

    const list = records();
    expect(list.map((c) => [c.role, c.status])).toEqual([['root', 'active'], ['ca', 'active'], ['ca', 'active'], ['seal', 'active'], ['seal', 'active'], ['tsa', 'active']]);
    expect(list.find((c) => c.id === hzSeal)).toMatchObject({ agencyCode: DEMO_AGENCIES[1].code, sealName: '电子证照专用章', sealImage: `${hzSeal}.png`, parentId: zj });
    expect(existsSync(join(dir, 'ca', 'images', `${hzSeal}.png`))).toBe(true);
    // The certificate binds the image: its seal-image extension is the SHA-256 of the stored file.
    const imageDigest = createHash('sha256').update(readFileSync(join(dir, 'ca', 'images', `${hzSeal}.png`))).digest('hex');
    expect(loadCertificate(readFileSync(join(dir, 'ca', 'certs', `${hzSeal}.pem`))).profile.sealImageSha256).toBe(imageDigest);
    for (const f of readdirSync(join(dir, 'ca', 'keys'))) {
      const file = join(dir, 'ca', 'keys', f);
      expect(readFileSync(file, 'utf8')).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
      expect(statSync(file).mode & 0o077).toBe(0);
    }
    expect((await seal('list')).out).toContain('浙江省电子印章CA');
  });

  it('signs licences and exports the bundle: province A and B verify with the national bundle (R-LI-3)', async () => {
    expect((await seal('sign', '--seal', hzSeal, '--fields', 'hz.json', '--tsa', tsa, '--out', 'hz.jws')).code).toBe(0);
    expect((await seal('sign', '--seal', gdSeal, '--fields', 'gd.json', '--tsa', tsa, '--out', 'gd.jws')).code).toBe(0);
    expect((await seal('export-bundle', '--out', 'bundle.pem')).code).toBe(0);
    now = new Date('2026-06-01T00:00:00Z');
    for (const f of ['hz.jws', 'gd.jws']) {
      const r = await verify(f, '--trust', 'bundle.pem');
      expect([f, r.code, r.out]).toEqual([f, 0, expect.stringContaining('VALID')]);
    }
    expect((await verify('gd.jws', '--trust', 'bundle.pem')).out).toContain('平台时间戳 Timestamp:   有 / yes');
  });

  it('a licence under another root does not verify with the national bundle (LICENCE_UNKNOWN_ISSUER)', async () => {
    now = T0;
    const other = await cli(runSeal, ['--dir', 'other', 'init-root', '--name', '国家政务服务电子印章根CA']);
    const otherCa = idOf((await cli(runSeal, ['--dir', 'other', 'issue-ca', '--parent', idOf(other.out), '--name', '浙江省电子印章CA', '--region', '330000'])).out);
    const otherSeal = idOf((await cli(runSeal, ['--dir', 'other', 'issue-seal', '--ca', otherCa, '--agency-name', DEMO_AGENCIES[1].name,
      '--agency-code', DEMO_AGENCIES[1].code, '--seal-name', '电子证照专用章', '--image', 'seal.png'])).out);
    expect((await cli(runSeal, ['--dir', 'other', 'sign', '--seal', otherSeal, '--fields', 'hz.json', '--out', 'foreign.jws'])).code).toBe(0);
    now = new Date('2026-06-01T00:00:00Z');
    const r = await verify('foreign.jws', '--trust', 'bundle.pem');
    expect([r.code, r.out]).toEqual([1, expect.stringContaining('INVALID LICENCE_UNKNOWN_ISSUER')]);
  });

  it('rotate: a new seal for the agency; licences of the old one stay valid, the new one signs', async () => {
    now = new Date('2026-07-01T00:00:00Z');
    const r = await seal('rotate', '--seal', hzSeal);
    expect(r.code).toBe(0);
    const fresh = idOf(r.out.split('\n')[1]!);
    expect(records().find((c) => c.id === hzSeal)?.status).toBe('superseded');
    expect(records().find((c) => c.id === fresh)).toMatchObject({ replaces: hzSeal, agencyCode: DEMO_AGENCIES[1].code, sealImage: `${hzSeal}.png` });
    expect(loadCertificate(readFileSync(join(dir, 'ca', 'certs', `${fresh}.pem`))).profile.sealImageSha256)
      .toBe(createHash('sha256').update(readFileSync(join(dir, 'ca', 'images', `${hzSeal}.png`))).digest('hex'));
    expect((await verify('hz.jws', '--trust', 'bundle.pem')).code).toBe(0);
    expect((await seal('sign', '--seal', fresh, '--fields', 'hz.json', '--tsa', tsa, '--out', 'hz2.jws')).code).toBe(0);
    expect((await verify('hz2.jws', '--trust', 'bundle.pem')).code).toBe(0);
  });

  it('revoke publishes the CA\'s CRL; with it the licence is LICENCE_CERT_REVOKED; a revoked seal signs nothing', async () => {
    const r = await seal('revoke', '--id', gdSeal, '--reason', 'keyCompromise');
    expect(r.code).toBe(0);
    const crl = join('ca', 'crl', `${gd}.crl.pem`);
    expect(readFileSync(join(dir, crl), 'utf8')).toMatch(/^-----BEGIN X509 CRL-----/);
    const v = await verify('gd.jws', '--trust', 'bundle.pem', '--crl', crl);
    expect([v.code, v.out]).toEqual([1, expect.stringContaining('INVALID LICENCE_CERT_REVOKED')]);
    // The DER copy beside it (what a distribution point serves) is read as well as the PEM.
    const der = await verify('gd.jws', '--trust', 'bundle.pem', '--crl', join('ca', 'crl', `${gd}.crl`));
    expect([der.code, der.out]).toEqual([1, expect.stringContaining('INVALID LICENCE_CERT_REVOKED')]);
    // The other province's CRL does not list it; the Zhejiang licence is untouched by Guangdong's CRL.
    expect((await verify('hz.jws', '--trust', 'bundle.pem', '--crl', crl)).code).toBe(0);
    const again = await seal('sign', '--seal', gdSeal, '--fields', 'gd.json');
    expect([again.code, again.err]).toEqual([2, expect.stringContaining('ERROR LICENCE_CERT_REVOKED')]);
  });

  it('revoke --reason keyCompromise --invalidity-date: what a timestamp proves was sealed earlier stays valid offline; the rest is revoked', async () => {
    now = new Date('2026-07-01T00:00:00Z');
    const leaked = idOf((await seal('issue-seal', '--ca', zj, '--agency-name', DEMO_AGENCIES[1].name, '--agency-code', DEMO_AGENCIES[1].code,
      '--seal-name', '泄露章', '--image', 'seal.png')).out);
    await seal('sign', '--seal', leaked, '--fields', 'hz.json', '--tsa', tsa, '--out', 'early.jws');
    await seal('sign', '--seal', leaked, '--fields', 'hz.json', '--out', 'early-bare.jws');
    now = new Date('2026-07-10T00:00:00Z');
    await seal('sign', '--seal', leaked, '--fields', 'hz.json', '--tsa', tsa, '--out', 'late.jws');
    now = new Date('2026-07-20T00:00:00Z');
    const before = readFileSync(join(dir, 'ca', 'index.json'), 'utf8');
    for (const extra of [
      ['--reason', 'superseded', '--invalidity-date', '2026-07-05T08:00:00+08:00'], // keyCompromise only
      ['--reason', 'keyCompromise', '--invalidity-date', '2026-07-05'], // no time, no zone
      ['--reason', 'keyCompromise', '--invalidity-date', '2026-08-01T00:00:00Z'], // in the future
    ]) {
      const r = await seal('revoke', '--id', leaked, ...extra);
      expect([extra, r.code, r.err]).toEqual([extra, 2, expect.stringContaining('ERROR BAD_INPUT')]);
    }
    expect(readFileSync(join(dir, 'ca', 'index.json'), 'utf8')).toBe(before);

    const r = await seal('revoke', '--id', leaked, '--reason', 'keyCompromise', '--invalidity-date', '2026-07-05T08:00:00+08:00');
    expect([r.code, r.out]).toEqual([0, expect.stringContaining('invalid since 2026-07-05T00:00:00.000Z')]);
    expect(records().find((c) => c.id === leaked)).toMatchObject({ status: 'revoked', revocationReason: 'keyCompromise', invalidityDate: '2026-07-05T00:00:00.000Z' });
    const crl = join('ca', 'crl', `${zj}.crl.pem`);
    expect(await verify('early.jws', '--trust', 'bundle.pem', '--crl', crl)).toMatchObject({ code: 0, out: expect.stringContaining('VALID') });
    for (const f of ['late.jws', 'early-bare.jws']) {
      const v = await verify(f, '--trust', 'bundle.pem', '--crl', crl);
      expect([f, v.code, v.out]).toEqual([f, 1, expect.stringContaining('INVALID LICENCE_CERT_REVOKED')]);
    }
  });

  it('after the seal certificate expires a timestamped licence still verifies; one without a timestamp does not', async () => {
    now = T0;
    const shortSeal = idOf((await seal('issue-seal', '--ca', zj, '--agency-name', DEMO_AGENCIES[1].name, '--agency-code', DEMO_AGENCIES[1].code,
      '--seal-name', '短期章', '--image', 'seal.png', '--years', '1')).out);
    await seal('sign', '--seal', shortSeal, '--fields', 'hz.json', '--tsa', tsa, '--out', 'stamped.jws');
    await seal('sign', '--seal', shortSeal, '--fields', 'hz.json', '--out', 'plain.jws');
    now = new Date('2028-01-01T00:00:00Z'); // the seal expired on 2027-03-01
    expect((await verify('stamped.jws', '--trust', 'bundle.pem')).code).toBe(0);
    const r = await verify('plain.jws', '--trust', 'bundle.pem');
    expect([r.code, r.out]).toEqual([1, expect.stringContaining('INVALID LICENCE_TIMESTAMP_REQUIRED')]);
  });
});

describe('seal.cli seal refusals and exit codes', () => {
  it('--help exits 0; no action, an unknown action or a bad option exit 2', async () => {
    expect((await seal('--help')).code).toBe(0);
    expect((await seal('--help')).out).toContain('issue-seal');
    expect((await cli(runSeal, [])).code).toBe(2);
    expect((await seal('frobnicate')).code).toBe(2);
    expect((await seal('list', '--bogus')).code).toBe(2);
  });

  it('refused input exits 2 with its code and stores nothing', async () => {
    now = T0;
    const before = readFileSync(join(dir, 'ca', 'index.json'), 'utf8');
    const keys = readdirSync(join(dir, 'ca', 'keys')).length;
    const cases: Array<[string[], string]> = [
      [['issue-seal', '--ca', zj, '--agency-name', 'X', '--agency-code', '11330100MB0000002X', '--seal-name', 'S', '--image', 'seal.png'], 'CREDIT_CODE_INVALID'],
      [['issue-seal', '--ca', zj, '--agency-name', 'X', '--agency-code', DEMO_AGENCIES[1].code, '--seal-name', 'S', '--image', 'hz.json'], 'BAD_INPUT'],
      [['issue-seal', '--ca', zj, '--agency-name', 'X', '--agency-code', DEMO_AGENCIES[1].code, '--image', 'seal.png'], 'BAD_INPUT'],
      [['issue-ca', '--parent', 'ca-nonexistent', '--name', 'X', '--region', '330000'], 'SEAL_NOT_FOUND'],
      [['issue-ca', '--parent', root, '--name', 'X', '--region', 'ZJ'], 'BAD_INPUT'],
      [['revoke', '--id', root], 'BAD_INPUT'],
      [['revoke', '--id', zj, '--reason', 'boredom'], 'BAD_INPUT'],
    ];
    for (const [argv, code] of cases) {
      const r = await seal(...argv);
      expect([argv[0], r.code, r.err]).toEqual([argv[0], 2, expect.stringContaining(`ERROR ${code}`)]);
    }
    expect(readFileSync(join(dir, 'ca', 'index.json'), 'utf8')).toBe(before);
    expect(readdirSync(join(dir, 'ca', 'keys'))).toHaveLength(keys);
  });

  it('without KEY_PASSPHRASE, or with a wrong one, commands needing a key exit 2', async () => {
    const none = await cli(runSeal, ['--dir', 'ca', 'issue-ca', '--parent', root, '--name', 'X', '--region', '330000'], {});
    expect([none.code, none.err]).toEqual([2, expect.stringContaining('ERROR CONFIG_INVALID')]);
    const wrong = await cli(runSeal, ['--dir', 'ca', 'issue-ca', '--parent', root, '--name', 'X', '--region', '330000'], { KEY_PASSPHRASE: 'wrong-passphrase-0123456789' });
    expect([wrong.code, wrong.err]).toEqual([2, expect.stringContaining('ERROR KEY_DECRYPT_FAILED')]);
    expect(wrong.err).not.toContain(PASS);
    expect((await cli(runSeal, ['--dir', 'ca', 'list'], {})).code).toBe(0); // listing needs no key
  });
});

describe('seal.cli executable', () => {
  const repo = fileURLToPath(new URL('..', import.meta.url));
  const yiwang = (...args: string[]) => spawnSync(join(repo, 'node_modules', '.bin', 'node'), ['bin/yiwang.ts', ...args], {
    cwd: repo, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', KEY_PASSPHRASE: PASS },
  });

  it('`yiwang --help` lists seal; `yiwang seal list` runs on a directory; a refused command exits 2', () => {
    expect(yiwang('--help').stdout).toContain('seal');
    const list = yiwang('seal', 'list', '--dir', join(dir, 'ca'));
    expect([list.status, list.stdout]).toEqual([0, expect.stringContaining('国家政务服务电子印章根CA')]);
    const bad = yiwang('seal', 'issue-ca', '--dir', join(dir, 'ca'), '--parent', 'nope', '--name', 'x', '--region', '330000');
    expect([bad.status, bad.stderr]).toEqual([2, expect.stringContaining('ERROR SEAL_NOT_FOUND')]);
  });

  it('verify: a missing CRL file, or --online with --skip-status, exits 2', async () => {
    const missing = await cli(runVerify, ['hz.jws', '--trust', 'bundle.pem', '--crl', 'nope.crl.pem']);
    expect([missing.code, missing.err]).toEqual([2, expect.stringContaining('CRL not found')]);
    expect((await cli(runVerify, ['hz.jws', '--trust', 'bundle.pem', '--online', '--skip-status'])).code).toBe(2);
  });
});

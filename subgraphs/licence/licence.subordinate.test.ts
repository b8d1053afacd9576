/**
 * licence.subordinate: a platform's seal CA certified by an offline national root, as an operator
 * does it (R-LI-3). The service (LICENCE_SEAL_MODE=subordinate) writes its CA request to
 * `<DATA_DIR>/seal-ca-request.pem` on first start; the national CA certifies it with
 * `yiwang seal issue-ca --csr`; the service installs the chain from LICENCE_SEAL_CA_CHAIN at its
 * next start, then seals licences that verify with only the national root. A chain for another
 * key stops the start with its code; subordinate mode without LICENCE_TRUST_ANCHORS is a
 * configuration error.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSeal, runVerify } from '../../seal/index.ts';
import type { CliIo } from '../../kernel/cli.ts';
import { loadConfig } from '../../kernel/config.ts';
import { caseApproved, issue, startLicenceFixture, type LicenceFixture } from '../../test/support/licence.ts';
import { licenceServiceFactory } from './service.ts';
import { CA_REQUEST_FILE } from './trust.ts';

const PASS = 'national-offline-ca-0123456789abcdef';
let dir: string;
let f: LicenceFixture;

async function run(cmd: typeof runSeal, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env: { KEY_PASSPHRASE: PASS }, cwd: dir };
  const code = await cmd(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'yw-subordinate-'));
  expect((await run(runSeal, '--dir', 'ca', 'init-root', '--name', '国家政务服务电子印章根CA')).code).toBe(0);
  expect((await run(runSeal, '--dir', 'ca', 'export-bundle', '--out', 'national.pem')).code).toBe(0);
  f = await startLicenceFixture({ env: { LICENCE_SEAL_MODE: 'subordinate', LICENCE_TRUST_ANCHORS: join(dir, 'national.pem'), IDP_PLATFORM_REGION: '330100' } });
}, 60_000);
afterAll(async () => {
  await f?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('licence.subordinate', () => {
  test('LICENCE_SEAL_MODE=subordinate needs the national root (LICENCE_TRUST_ANCHORS)', () => {
    expect(() => loadConfig({ NODE_ENV: 'test', LICENCE_SEAL_MODE: 'subordinate' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  test('request file → `yiwang seal issue-ca --csr` → LICENCE_SEAL_CA_CHAIN at the next start; its licences verify with the national root only (R-LI-3)', async () => {
    const request = join(f.dataDir, CA_REQUEST_FILE);
    expect(readFileSync(request, 'utf8')).toContain('BEGIN CERTIFICATE REQUEST');
    const root = (await run(runSeal, '--dir', 'ca', 'list')).out.split(/\s/)[0]!;
    const issued = await run(runSeal, '--dir', 'ca', 'issue-ca', '--parent', root, '--name', '杭州市政务服务电子印章CA', '--region', '330100', '--csr', request, '--out', 'hz-chain.pem');
    expect(issued).toMatchObject({ code: 0, err: '' });

    // A chain for another key (a CA the national root made for itself) stops the start with its code.
    expect((await run(runSeal, '--dir', 'ca', 'issue-ca', '--parent', root, '--name', '别的CA', '--region', '330100')).code).toBe(0);
    const other = (await run(runSeal, '--dir', 'ca', 'list', '--json')).out;
    const otherId = (JSON.parse(other) as Array<{ id: string; role: string; keyHeldElsewhere?: boolean }>).find((r) => r.role === 'ca' && !r.keyHeldElsewhere)!.id;
    writeFileSync(join(dir, 'wrong.pem'), readFileSync(join(dir, 'ca', 'certs', `${otherId}.pem`)));
    const factory = licenceServiceFactory({ directory: f.directory, consumer: { blockMs: 100, claimIdleMs: 200 }, relayIntervalMs: 50 });
    await expect(factory({ ...f.deps, config: { ...f.deps.config, LICENCE_SEAL_CA_CHAIN: join(dir, 'wrong.pem') } }, { port: 0 })).rejects.toMatchObject({ code: 'SEAL_KEY_MISMATCH' });

    // The right chain: installed at start, and the agency's licence is sealed under it.
    const svc = await factory({ ...f.deps, config: { ...f.deps.config, LICENCE_SEAL_CA_CHAIN: join(dir, 'hz-chain.pem') } }, { port: 0 });
    try {
      const stored = await issue(f, caseApproved());
      writeFileSync(join(dir, 'licence.jws'), stored.credential);
      const verified = await run(runVerify, 'licence.jws', '--trust', 'national.pem', '--skip-status');
      expect(verified.out).toContain('VALID');
      const header = JSON.parse(Buffer.from(stored.credential.split('.')[0]!, 'base64url').toString()) as { x5c: string[] };
      expect(new X509Certificate(Buffer.from(header.x5c[1]!, 'base64')).subject).toContain('杭州市政务服务电子印章CA');
    } finally {
      await svc.close();
    }
  }, 60_000);
});

/**
 * seal.cli: `yiwang verify` as a function (exit codes 0 valid, 1 invalid, 2 usage) and once as
 * a real child process to prove the executable runs.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runVerify } from './cli/verify.ts';
import type { CliIo } from './cli/io.ts';
import { createRootCa } from './index.ts';
import { b64json, decodeJws } from './testing/hierarchy.ts';
import { VECTOR_FIELDS } from './testing/vectors.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));
const testdata = (name: string) => join(repo, 'seal', 'testdata', name);
const licence = readFileSync(testdata('licence.jws'), 'utf8').trim();
let dir: string;

function tampered(): string {
  const { header, payload, signature } = decodeJws(licence);
  const cs = payload.credentialSubject as { licence: Record<string, unknown> };
  return `${b64json(header)}.${b64json({ ...payload, credentialSubject: { ...cs, licence: { ...cs.licence, holderName: '李四' } } })}.${signature}`;
}

async function run(argv: string[], o: { env?: Record<string, string>; cwd?: string } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env: o.env ?? {}, cwd: o.cwd ?? dir, now: () => new Date('2030-01-01T00:00:00Z') };
  const code = await runVerify(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'yiwang-verify-'));
  writeFileSync(join(dir, 'licence.jws'), `${licence}\n`);
  writeFileSync(join(dir, 'licence.json'), JSON.stringify({ credential: licence }));
  writeFileSync(join(dir, 'tampered.jws'), tampered());
  writeFileSync(join(dir, 'garbage.txt'), 'hello');
  writeFileSync(join(dir, 'root.pem'), readFileSync(testdata('root.pem')));
  writeFileSync(join(dir, 'root.cer'), new X509Certificate(readFileSync(testdata('root.pem'))).raw); // DER, as .cer files often are
  writeFileSync(join(dir, 'foreign.pem'), createRootCa({ commonName: '他国根CA', now: new Date('2025-01-01T00:00:00Z') }).certPem);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('seal.cli verify (function)', () => {
  it('exit 0 for a valid licence, printing holder, issuer, identifier and signing time', async () => {
    const r = await run(['licence.jws', '--trust', 'root.pem']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^VALID/);
    expect(r.out).toContain('张三');
    expect(r.out).toContain(`${VECTOR_FIELDS.issuerName} (${VECTOR_FIELDS.issuerCode})`);
    expect(r.out).toContain(VECTOR_FIELDS.identifier);
    expect(r.out).toContain('2025-01-02T03:04:05.000Z');
    expect(r.out).not.toContain(VECTOR_FIELDS.holderCode); // no full ID number on screen
  });

  it('takes the trust anchor as a DER certificate file too', async () => {
    expect(await run(['licence.jws', '--trust', 'root.cer'])).toMatchObject({ code: 0, out: expect.stringMatching(/^VALID/) });
  });

  it('accepts a JSON file { credential } and prints JSON with --json', async () => {
    const r = await run(['licence.json', '--trust', 'root.pem', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ valid: true, issuer: { code: VECTOR_FIELDS.issuerCode }, signedAt: '2025-01-02T03:04:05.000Z' });
  });

  it('exit 1 with INVALID <CODE>: message for a tampered, garbage or untrusted licence', async () => {
    const bad = await run(['tampered.jws', '--trust', 'root.pem']);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/^INVALID LICENCE_BAD_SIGNATURE: \S/);
    const garbage = await run(['garbage.txt', '--trust', 'root.pem']);
    expect([garbage.code, garbage.out.split(':')[0]]).toEqual([1, 'INVALID LICENCE_MALFORMED']);
    const foreign = await run(['licence.jws', '--trust', 'foreign.pem']);
    expect([foreign.code, foreign.out.split(':')[0]]).toEqual([1, 'INVALID LICENCE_UNKNOWN_ISSUER']);
    const json = await run(['tampered.jws', '--trust', 'root.pem', '--json']);
    expect([json.code, JSON.parse(json.out)]).toEqual([1, expect.objectContaining({ valid: false, reason: 'LICENCE_BAD_SIGNATURE' })]);
  });

  it('finds the trust bundle in YIWANG_TRUST_BUNDLE, then DATA_DIR, then ./data', async () => {
    expect((await run(['licence.jws'], { env: { YIWANG_TRUST_BUNDLE: join(dir, 'root.pem') } })).code).toBe(0);
    expect((await run(['licence.jws'], { env: { YIWANG_TRUST_BUNDLE: readFileSync(join(dir, 'root.pem'), 'utf8') } })).code).toBe(0);
    mkdirSync(join(dir, 'state'));
    writeFileSync(join(dir, 'state', 'trust-bundle.pem'), readFileSync(join(dir, 'root.pem')));
    expect((await run(['licence.jws'], { env: { DATA_DIR: 'state' } })).code).toBe(0);
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'trust-bundle.pem'), readFileSync(join(dir, 'foreign.pem')));
    expect((await run(['licence.jws'])).code).toBe(1); // ./data holds the foreign root: found and used
    rmSync(join(dir, 'data'), { recursive: true });
  });

  it('exit 2 with a message for usage errors: no file, missing file, no trust bundle, unknown option', async () => {
    const none = await run([]);
    expect([none.code, none.err]).toEqual([2, expect.stringContaining('licence file')]);
    const missing = await run(['nope.jws', '--trust', 'root.pem']);
    expect([missing.code, missing.err]).toEqual([2, expect.stringContaining('licence file not found')]);
    const noBundle = await run(['licence.jws']);
    expect([noBundle.code, noBundle.err]).toEqual([2, expect.stringContaining('no trust bundle')]);
    const badBundle = await run(['licence.jws', '--trust', 'garbage.txt']);
    expect([badBundle.code, badBundle.err]).toEqual([2, expect.stringContaining('no certificate')]);
    const missingBundle = await run(['licence.jws', '--trust', 'missing.pem']);
    expect([missingBundle.code, missingBundle.err]).toEqual([2, expect.stringContaining('trust bundle not found')]);
    expect((await run(['licence.jws', '--frobnicate'])).code).toBe(2);
  });

  it('--help prints usage in Chinese and English', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('用法 / Usage: yiwang verify');
    expect(r.out).toContain('--trust');
  });
});

describe('seal.cli verify (executable)', () => {
  const node = join(repo, 'node_modules', '.bin', 'node');
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  const yiwang = (...args: string[]) => spawnSync(node, ['bin/yiwang.ts', ...args], { cwd: repo, env, encoding: 'utf8' });

  it('node bin/yiwang.ts verify exits 0 for the vector licence and 1 for a tampered one', () => {
    const ok = yiwang('verify', join(dir, 'licence.jws'), '--trust', join(dir, 'root.pem'));
    expect([ok.status, ok.stdout]).toEqual([0, expect.stringContaining('VALID')]);
    expect(ok.stdout).toContain(VECTOR_FIELDS.identifier);
    const bad = yiwang('verify', join(dir, 'tampered.jws'), '--trust', join(dir, 'root.pem'));
    expect([bad.status, bad.stdout]).toEqual([1, expect.stringContaining('INVALID LICENCE_BAD_SIGNATURE:')]);
  });

  it('lists the subcommands with --help, and exits 2 without or with an unknown command', () => {
    const help = yiwang('--help');
    expect([help.status, help.stdout]).toEqual([0, expect.stringContaining('verify')]);
    expect(yiwang().status).toBe(2);
    expect(yiwang('frobnicate').status).toBe(2);
  });
});

/**
 * Joining the federation with the administrator's commands, as docs/federation.md tells it: the
 * national service and a province's service run (federation/service.ts), the national
 * administrator registers the province, the province resolves its own chain, rotates its key,
 * and loses recognition when removed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../kernel/clock.ts';
import { loadConfig, resolveSecrets } from '../kernel/config.ts';
import { internalKey } from '../kernel/internal-auth.ts';
import { silentLogger } from '../kernel/log.ts';
import type { RunningService } from '../kernel/service.ts';
import { freePort, testCache, testDb, type TestDb } from '../test/support/infra.ts';
import type { Cache } from '../kernel/cache.ts';
import { runFederation } from './cli.ts';
import { startFederationService } from './service.ts';

const dir = mkdtempSync(join(tmpdir(), 'yw-fed-cli-'));
let nationalDb: TestDb;
let provinceDb: TestDb;
let cache: Cache;
const services: RunningService[] = [];
let nationalEnv: Record<string, string>;
let provinceEnv: Record<string, string>;

async function cli(env: Record<string, string>, db: TestDb, ...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runFederation(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env, cwd: dir }, db);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function serve(env: Record<string, string>, db: TestDb, port: number) {
  const config = loadConfig(env);
  const secrets = resolveSecrets(config);
  const svc = await startFederationService({ config, secrets, internalKey: internalKey(secrets.internalSecret), db, cache, clock: systemClock, log: silentLogger() }, { port, host: '127.0.0.1' });
  services.push(svc);
  return svc;
}

beforeAll(async () => {
  nationalDb = await testDb();
  provinceDb = await testDb();
  cache = await testCache();
  const [np, pp] = [await freePort(), await freePort()];
  const common = { NODE_ENV: 'test', DATA_DIR: dir, FEDERATION_HTTP_HOSTS: '127.0.0.1', YIWANG_INTERNAL_SECRET: 'x'.repeat(40), IDP_COOKIE_KEYS: 'y'.repeat(40) };
  nationalEnv = { ...common, FEDERATION_ENTITY_ID: `http://127.0.0.1:${np}`, FEDERATION_ORGANIZATION_NAME: '国家平台 / national platform', KEY_PASSPHRASE: 'national-passphrase-0123456789abcdef' };
  // 1. The national administrator prints the anchor entry every platform configures.
  const anchor = await cli(nationalEnv, nationalDb, 'anchor');
  expect(anchor.code).toBe(0);
  const anchorsFile = join(dir, 'anchors.json');
  writeFileSync(anchorsFile, anchor.out);
  nationalEnv.FEDERATION_TRUST_ANCHORS = anchorsFile;
  provinceEnv = { ...common, FEDERATION_ENTITY_ID: `http://127.0.0.1:${pp}`, FEDERATION_AUTHORITY_HINTS: nationalEnv.FEDERATION_ENTITY_ID!, FEDERATION_TRUST_ANCHORS: anchorsFile, KEY_PASSPHRASE: 'province-passphrase-0123456789abcdef' };
  await serve(nationalEnv, nationalDb, np);
  await serve(provinceEnv, provinceDb, pp);
}, 60000);

afterAll(async () => {
  for (const s of services) await s.close();
  await nationalDb.destroy();
  await provinceDb.destroy();
  await cache.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('yiwang federation', () => {
  it('a province joins: registered at the national platform, then its chain resolves', async () => {
    expect((await cli(provinceEnv, provinceDb, 'resolve', provinceEnv.FEDERATION_ENTITY_ID!)).code).toBe(1); // not yet registered
    const add = await cli(nationalEnv, nationalDb, 'add', provinceEnv.FEDERATION_ENTITY_ID!, '--fetch-jwks', '--by', 'alice');
    expect(add).toMatchObject({ code: 0 });
    expect(add.out).toContain('federation_entity');
    const list = await cli(nationalEnv, nationalDb, 'list');
    expect(list.out).toContain(provinceEnv.FEDERATION_ENTITY_ID!);
    const r = await cli(provinceEnv, provinceDb, 'resolve', provinceEnv.FEDERATION_ENTITY_ID!);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).path).toEqual([provinceEnv.FEDERATION_ENTITY_ID, nationalEnv.FEDERATION_ENTITY_ID]);
    const status = await cli(provinceEnv, provinceDb, 'status');
    expect(status.out).toContain('active');
  });

  it('a province rotates its key with its superior\'s help', async () => {
    const prep = await cli(provinceEnv, provinceDb, 'keys', 'prepare', '--by', 'bob');
    expect(prep.code).toBe(0);
    const jwksFile = join(dir, 'province-jwks.json');
    writeFileSync(jwksFile, (await cli(provinceEnv, provinceDb, 'jwks')).out);
    expect((await cli(nationalEnv, nationalDb, 'add', provinceEnv.FEDERATION_ENTITY_ID!, '--jwks', jwksFile, '--types', 'federation_entity', '--by', 'alice')).code).toBe(0);
    const act = await cli(provinceEnv, provinceDb, 'keys', 'activate', '--by', 'bob');
    expect(act.out).toMatch(/published until/);
    expect((await cli(provinceEnv, provinceDb, 'resolve', provinceEnv.FEDERATION_ENTITY_ID!)).code).toBe(0);
  });

  it('removal ends recognition; every act is audited; usage errors exit 2', async () => {
    expect((await cli(nationalEnv, nationalDb, 'remove', provinceEnv.FEDERATION_ENTITY_ID!, '--by', 'alice')).code).toBe(0);
    const r = await cli(provinceEnv, provinceDb, 'resolve', provinceEnv.FEDERATION_ENTITY_ID!);
    expect(r.code).toBe(1);
    expect(r.err).toContain('FEDERATION_UNTRUSTED');
    expect((await cli(nationalEnv, nationalDb, 'remove', provinceEnv.FEDERATION_ENTITY_ID!, '--by', 'alice')).err).toContain('FEDERATION_SUBORDINATE_UNKNOWN');
    const audit = (await cli(nationalEnv, nationalDb, 'audit')).out.split('\n');
    expect(audit.slice(0, 3).map((l) => l.split(/\s+/).slice(1, 3).join(' '))).toEqual([
      'cli:alice federation.subordinate.remove', 'cli:alice federation.subordinate.update', 'cli:alice federation.subordinate.add',
    ]);
    expect((await cli(nationalEnv, nationalDb, 'remove', provinceEnv.FEDERATION_ENTITY_ID!)).code).toBe(2); // no --by
    expect((await cli(nationalEnv, nationalDb, 'frobnicate')).code).toBe(2);
    expect((await cli({ ...nationalEnv, FEDERATION_ENTITY_ID: '' }, nationalDb, 'status')).code).toBe(2);
  });
});

/**
 * `npm run tiers` as a user runs it: a child process on the embedded default, six platforms in
 * their own processes, data directories and ports; the ready line, tiers.json, every platform's
 * Entity Configuration and trust chain checked from outside; then Ctrl-C (SIGINT) stops all of it.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../kernel/clock.ts';
import { createFetcher, createResolver, decodeStatement, verifyStatement, type TrustAnchor } from '../federation/index.ts';
import { TIERS, type TiersJson } from '../bin/tiers/plan.ts';
import { readTiers, runTiersJourney } from '../bin/journey/tiers.ts';
import { crossTierLogin } from '../bin/journey/cross-tier.ts';
import { newCitizen } from '../bin/journey/steps.ts';
import { AGREEMENT } from '../idp/accounts/store.ts';

const NODE = join(process.cwd(), 'node_modules/.bin/node');
const dir = mkdtempSync(join(tmpdir(), 'yiwang-tiers-'));
let proc: ChildProcess;
let output = '';
let tiersPath = '';
let tiers: TiersJson;
let exited: Promise<number | null>;

function run(args: string[]): ChildProcess {
  const env = { ...process.env, LOG_LEVEL: 'warn' };
  return spawn(NODE, ['bin/tiers.ts', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

function collect(p: ChildProcess): { text: () => string; exit: Promise<number | null> } {
  let text = '';
  p.stdout!.on('data', (d: Buffer) => { text += d.toString(); });
  p.stderr!.on('data', (d: Buffer) => { text += d.toString(); });
  return { text: () => text, exit: new Promise((ok) => p.once('exit', (code) => ok(code))) };
}

beforeAll(async () => {
  proc = run(['--dir', dir, '--base-port', '0']);
  const c = collect(proc);
  exited = c.exit;
  tiersPath = await new Promise<string>((ok, fail) => {
    const timer = setInterval(() => {
      output = c.text();
      const m = /^tiers ready: (.+)$/m.exec(output);
      if (m) {
        clearInterval(timer);
        ok(m[1]!.trim());
      }
    }, 250);
    void exited.then((code) => {
      clearInterval(timer);
      fail(new Error(`npm run tiers exited (${code}) before it was ready:\n${c.text().slice(-3000)}`));
    });
  });
  output = c.text();
  tiers = JSON.parse(readFileSync(tiersPath, 'utf8')) as TiersJson;
}, 900_000);

afterAll(async () => {
  if (proc && proc.exitCode === null && proc.signalCode === null) {
    proc.kill('SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run tiers', () => {
  test('tiers.json lists the anchor and every platform with its tier, mode and URLs', () => {
    expect(tiersPath).toBe(join(dir, 'tiers.json'));
    const national = tiers.platforms.find((p) => p.id === 'national')!;
    expect(tiers.trustAnchor).toBe(national.entityId);
    expect(tiers.platforms.map((p) => [p.id, p.tier, p.mode])).toEqual(TIERS.map((p) => [p.id, p.tier, p.mode]));
    expect(new Set(tiers.platforms.map((p) => p.mode))).toEqual(new Set(['separate', 'hybrid', 'unified']));
    for (const p of tiers.platforms) {
      expect(Object.keys(p).sort()).toEqual(['entityId', 'gateway', 'id', 'issuer', 'licence', 'mode', 'name', 'tier']);
      for (const u of [p.entityId, p.issuer, p.gateway, p.licence]) expect(u).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      // Each its own data directory (embedded database).
      expect(existsSync(join(dir, p.id, 'pglite'))).toBe(true);
    }
    // Each platform's IdP is its federation entity; no two platforms share a port.
    for (const p of tiers.platforms) expect(p.entityId).toBe(p.issuer);
    expect(new Set(tiers.platforms.flatMap((p) => [p.issuer, p.gateway])).size).toBe(tiers.platforms.length * 2);
    // The table names every platform and the demo logins.
    for (const p of tiers.platforms) expect(output).toContain(p.issuer);
    expect(output).toMatch(/password/);
  });

  test('every Entity Configuration is self-signed, names its superior and publishes its IdP', async () => {
    const byId = new Map(tiers.platforms.map((p) => [p.id, p]));
    const now = Math.floor(Date.now() / 1000);
    for (const plan of TIERS) {
      const p = byId.get(plan.id)!;
      const res = await fetch(`${p.entityId}/.well-known/openid-federation`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/entity-statement\+jwt/);
      const jwt = await res.text();
      const { claims } = decodeStatement(jwt);
      await verifyStatement(jwt, claims.jwks, now);
      expect(claims.iss).toBe(p.entityId);
      expect(claims.authority_hints ?? []).toEqual(plan.superior ? [byId.get(plan.superior)!.entityId] : []);
      expect(claims.metadata?.openid_provider?.issuer).toBe(p.issuer);
      expect(claims.metadata?.federation_entity?.yiwang_platform).toEqual({ id: p.id, tier: p.tier, mode: p.mode, region: plan.region });
      expect(claims.metadata?.openid_provider?.client_registration_types_supported).toEqual(['automatic']);
      // Authorities (national, provinces) serve fetch and list; the anchor also resolve.
      const fe = claims.metadata!.federation_entity!;
      expect(Boolean(fe.federation_fetch_endpoint)).toBe(plan.tier !== 'municipal');
      expect(Boolean(fe.federation_resolve_endpoint)).toBe(plan.tier === 'national');
      // The IdP and the gateway of each platform answer.
      expect((await fetch(`${p.issuer}/.well-known/openid-configuration`)).status).toBe(200);
      expect((await fetch(`${p.gateway}/healthz`)).status).toBe(200);
    }
  });

  test('superiors list their subordinates, and every chain resolves to the national anchor from outside', async () => {
    const byId = new Map(tiers.platforms.map((p) => [p.id, p]));
    const list = async (id: string) => (await (await fetch(`${byId.get(id)!.entityId}/federation/list`)).json()) as string[];
    expect((await list('national')).sort()).toEqual(['zj', 'js', 'gd'].map((id) => byId.get(id)!.entityId).sort());
    expect(await list('zj')).toEqual([byId.get('zj-hz')!.entityId]);
    expect(await list('js')).toEqual([byId.get('js-nj')!.entityId]);
    expect(await list('gd')).toEqual([]);

    const anchors = JSON.parse(readFileSync(join(dir, 'trust-anchors.json'), 'utf8')) as TrustAnchor[];
    expect(anchors.map((a) => a.entityId)).toEqual([tiers.trustAnchor]);
    const resolver = createResolver({
      anchors, clock: systemClock, cacheSeconds: 0,
      fetcher: createFetcher({ allowedHosts: [], httpHosts: ['127.0.0.1'], timeoutMs: 10_000, maxBytes: 262_144 }),
    });
    for (const plan of TIERS) {
      const p = byId.get(plan.id)!;
      const r = await resolver.resolveOpenIdProvider(p.entityId);
      expect(r.issuer).toBe(p.issuer);
      const expected = [p.entityId];
      for (let up = plan.superior; up; up = TIERS.find((t) => t.id === up)!.superior) expected.push(byId.get(up)!.entityId);
      expect((await resolver.resolve(p.entityId)).path).toEqual(expected);
    }
  });

  test('every platform trusts the national seal root only and publishes its licence service in its federation metadata (R-LI-3)', async () => {
    const root = readFileSync(tiers.sealTrustAnchors, 'utf8');
    const national = tiers.platforms.find((p) => p.id === 'national')!;
    expect(await (await fetch(`${national.licence}/trust-bundle.pem`)).text()).toBe(root);
    for (const p of tiers.platforms) {
      expect(await (await fetch(`${p.licence}/trust-bundle.pem`)).text()).toBe(root);
      const { claims } = decodeStatement(await (await fetch(`${p.entityId}/.well-known/openid-federation`)).text());
      expect(claims.metadata?.federation_entity?.yiwang_licence).toEqual({ service: p.licence, status_lists: `${p.licence}/status/`, trust_bundle: `${p.licence}/trust-bundle.pem` });
    }
  });

  test('the cross-tier journey (npm run journey -- --tiers): registered once in Hangzhou, served in Nanjing at the same level, its licence verified back home, logout and disabling followed everywhere (R-ID-12, R-LI-3)', async () => {
    const lines: string[] = [];
    const r = await runTiersJourney(readTiers(tiersPath), (l) => lines.push(l));
    expect(r.visitingAcr).toBe(r.homeAcr);
    expect(r.homeAcr).toMatch(/^urn:yiwang:loa:[3-5]$/);
    // Logout at the visiting city passed through the province's and the home's end-session endpoints.
    const byId = new Map(tiers.platforms.map((p) => [p.id, p]));
    for (const id of ['js-nj', 'js', 'zj-hz']) expect(r.logoutPath).toContain(`${byId.get(id)!.issuer}/session/end`);
    expect(lines.map((l) => l.match(/^(\d+)\./)?.[1]).filter(Boolean)).toEqual(['1', '2', '3', '4', '5', '6']);
  }, 600_000);
  test('R-ID-12 across the six platforms: registered at one, recognised at another (separate, unified, national) and at a hybrid city through its province', async () => {
    const byId = new Map(tiers.platforms.map((p) => [p.id, p]));
    /** A person registered at platform `id` (its development SMS sink writes <dir>/<id>/notifications.jsonl). */
    const registerAt = async (id: string) => {
      const c = newCitizen();
      const issuer = byId.get(id)!.issuer;
      await (await fetch(`${issuer}/register/code`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mobile: c.mobile }) })).body?.cancel();
      const sent = readFileSync(join(dir, id, 'notifications.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { to: string; params?: { code?: string } });
      const res = await fetch(`${issuer}/register`, {
        method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ ...c, mobileCode: sent.filter((n) => n.to === c.mobile).at(-1)?.params?.code, factorType: 'socialSecurityCard', factorValue: 'A12345678', agreementVersion: AGREEMENT.version }),
      });
      expect(res.status).toBe(201);
      return c;
    };
    for (const [visiting, home] of [['zj-hz', 'zj'], ['gd', 'zj-hz'], ['national', 'js'], ['js-nj', 'js']] as const) {
      const c = await registerAt(home);
      const r = await crossTierLogin({
        visiting: byId.get(visiting)!.issuer, redirectUri: 'http://127.0.0.1:3000/callback', login: c.idNumber, password: c.password,
        // The hybrid city's login page sends people to its province with one click.
        ...(visiting === 'js-nj' ? {} : { home: byId.get(home)!.entityId }),
      });
      expect([visiting, r.claims()!.amr, r.claims()!.acr, r.pages.visitingLogin]).toEqual([visiting, ['fed'], 'urn:yiwang:loa:3', 1]);
    }
  }, 300_000);

  test('a second run on the same data directories is refused and leaves the first one running', async () => {
    const second = run(['--dir', dir, '--base-port', '0', '--out', join(dir, 'second.json')]);
    const c = collect(second);
    expect(await c.exit).toBe(1);
    expect(c.text()).toMatch(/DATA_DIR_LOCKED/);
    expect(existsSync(join(dir, 'second.json'))).toBe(false);
    expect((await fetch(`${tiers.platforms[0]!.issuer}/.well-known/openid-configuration`)).status).toBe(200);
  }, 120_000);

  test('a bad port range is refused before anything starts', async () => {
    const bad = run(['--dir', join(dir, 'never'), '--base-port', '65530']);
    const c = collect(bad);
    expect(await c.exit).toBe(2);
    expect(c.text()).toMatch(/--base-port/);
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  test('Ctrl-C stops every platform', async () => {
    proc.kill('SIGINT');
    expect(await exited).toBe(0);
    for (const p of tiers.platforms) {
      for (const u of [p.entityId, p.issuer, p.gateway]) {
        await expect(fetch(`${u}/healthz`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
      }
    }
    // The embedded databases are released (their lock files gone).
    for (const p of tiers.platforms) expect(existsSync(join(dir, p.id, 'pglite', '.yiwang.lock'))).toBe(false);
  }, 120_000);
});

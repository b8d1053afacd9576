/**
 * `npm run tiers`: a federation of Yiwang platforms on one machine, on the embedded default
 * (nothing installed): the national platform (Trust Anchor), a province in each build mode
 * (separate, hybrid, unified) and a city below the separate and the hybrid province (R-ID-12;
 * the plan is in bin/tiers/plan.ts). Each platform is its own process (bin/tiers/platform.ts)
 * with its own data directory under --dir and its own block of ports from --base-port.
 *
 * Superiors start first; each platform's federation keys are registered at its superior as it
 * comes up (the registry of subordinates, audited), every platform is configured with the
 * national platform's keys only, and every chain is resolved through the national `resolve`
 * endpoint before the run is declared ready. Seals likewise (R-LI-3, ./tiers/seal.ts): the national
 * platform's seal root certifies each other platform's seal CA as it comes up, and every platform
 * trusts that root only, so a licence issued in one city verifies in any other with one line `tiers ready: <path of tiers.json>`.
 * Ctrl-C stops every platform.
 *
 *   npm run tiers [-- --dir ./data/tiers] [--base-port 4500] [--out <file>]
 *   (--base-port 0: a free block of ports, chosen again at every start)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createServer, type Server } from 'node:net';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { DEMO_CITIZEN, DEMO_STAFF } from '../kernel/demo.ts';
import { DEMO_ADMINS, DEMO_ADMIN_PASSWORD } from '../idp/admin/seed.ts';
import { SEAL_ANCHORS_FILE, sealCaName, type SealAnswer, type SealMessage } from './tiers/seal.ts';
import {
  DEFAULT_BASE_PORT, PORT_BLOCK, PORT_OFFSETS, TIERS, type ServicePort, type PlatformReady, type PlatformSpec, type RegisterMessage, type TierPlatform, type TiersJson,
} from './tiers/plan.ts';

const { values: args } = parseArgs({
  options: {
    dir: { type: 'string', default: './data/tiers' },
    'base-port': { type: 'string', default: String(process.env.TIERS_BASE_PORT ?? DEFAULT_BASE_PORT) },
    out: { type: 'string' },
  },
});
const dir = resolve(args.dir!);
const basePort = Number(args['base-port']);
if (!Number.isInteger(basePort) || basePort < 0 || basePort + TIERS.length * PORT_BLOCK > 65535) {
  console.error(`--base-port must be 0 (free ports) or a port with room for ${TIERS.length * PORT_BLOCK} ports above it`);
  process.exit(2);
}
const out = resolve(args.out ?? join(dir, 'tiers.json'));

interface Running { platform: TierPlatform; child: ChildProcess; ready?: PlatformReady }
const running = new Map<string, Running>();
let stopping = false;

function prefixOutput(id: string, stream: NodeJS.ReadableStream | null, to: NodeJS.WriteStream): void {
  if (!stream) return;
  createInterface({ input: stream }).on('line', (line) => to.write(`[${id}] ${line}\n`));
}

/**
 * Every platform's ports, chosen before anything starts: its block above --base-port, or with
 * --base-port 0 a free block chosen at random below the kernel's range of ephemeral ports
 * (32768 and up on Linux): ports the kernel hands out for port 0 are also the ones it gives
 * outgoing connections, and the platforms make hundreds of those while the later ones start,
 * so one of them could take a port chosen that way before its platform listens on it.
 */
const FREE_LOW = 20_000;
const FREE_HIGH = 32_000;

/** Whether every port of the block is free now (each bound and released). */
async function blockFree(base: number, size: number): Promise<boolean> {
  const held: Server[] = [];
  try {
    for (let p = base; p < base + size; p++) {
      const s = createServer();
      held.push(s);
      await new Promise<void>((ok, fail) => {
        s.once('error', fail);
        s.listen(p, '127.0.0.1', () => ok());
      });
    }
    return true;
  } catch {
    return false;
  } finally {
    await Promise.all(held.map((s) => new Promise((ok) => (s.listening ? s.close(ok) : ok(undefined)))));
  }
}

async function choosePorts(): Promise<Array<PlatformSpec['ports']>> {
  const names = Object.keys(PORT_OFFSETS) as ServicePort[];
  const size = TIERS.length * PORT_BLOCK;
  let base = basePort;
  if (base === 0) {
    const blocks = Math.floor((FREE_HIGH - FREE_LOW) / size);
    for (let attempt = 0; attempt < 50 && base === 0; attempt++) {
      const candidate = FREE_LOW + Math.floor(Math.random() * blocks) * size;
      if (await blockFree(candidate, size)) base = candidate;
    }
    if (base === 0) throw new Error(`no free block of ${size} ports between ${FREE_LOW} and ${FREE_HIGH}: give --base-port`);
  }
  return TIERS.map((_, i) => Object.fromEntries(names.map((n) => [n, base + i * PORT_BLOCK + PORT_OFFSETS[n]])) as PlatformSpec['ports']);
}
let portPlan: Array<PlatformSpec['ports']> = [];

/** Start one platform process and wait until it reports every service answering. */
function startPlatformProcess(p: TierPlatform, index: number, anchors: PlatformSpec['trustAnchors'], sealAnchors?: string): Promise<PlatformReady> {
  const superior = p.superior ? running.get(p.superior)?.ready : undefined;
  const spec: PlatformSpec = {
    ...p,
    dataDir: join(dir, p.id),
    ports: portPlan[index]!,
    authorityHints: superior ? [superior.entityId] : [],
    trustAnchors: anchors,
    ...(sealAnchors ? { sealAnchors } : {}),
  };
  mkdirSync(spec.dataDir, { recursive: true });
  const child = fork(join(import.meta.dirname, 'tiers', 'platform.ts'), [], {
    env: { ...process.env, TIERS_PLATFORM: JSON.stringify(spec) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  prefixOutput(p.id, child.stdout, process.stdout);
  prefixOutput(p.id, child.stderr, process.stderr);
  const r: Running = { platform: p, child };
  running.set(p.id, r);
  return new Promise((ok, fail) => {
    child.on('message', (m: PlatformReady) => {
      if (m?.type === 'ready') {
        r.ready = m;
        ok(m);
      }
    });
    child.once('exit', (code, signal) => {
      const why = `${p.id} exited (${signal ?? `code ${code}`})`;
      if (!r.ready) fail(new Error(`${why} before it was ready`));
      else if (!stopping) {
        console.error(`${why}: stopping the federation`);
        void stopAll(1);
      }
    });
  });
}

/** Ask a superior's process to register a subordinate in its registry. */
function registerAt(superiorId: string, m: RegisterMessage): Promise<void> {
  const { child } = running.get(superiorId)!;
  return new Promise((ok, fail) => {
    const on = (a: { type?: string; entityId?: string; error?: string }) => {
      if (a?.entityId !== m.entityId || (a.type !== 'registered' && a.type !== 'failed')) return;
      child.off('message', on);
      if (a.type === 'registered') ok();
      else fail(new Error(`${superiorId} could not register ${m.entityId}: ${a.error}`));
    };
    child.on('message', on);
    child.send(m);
  });
}

/** Send a seal message to a platform's process and wait for its answer about that platform. */
function sealAsk(at: string, m: SealMessage): Promise<SealAnswer> {
  const { child } = running.get(at)!;
  return new Promise((ok, fail) => {
    const on = (a: SealAnswer) => {
      if (a?.platform !== m.platform || !a.type?.startsWith('seal-')) return;
      child.off('message', on);
      if (a.type === 'seal-failed') fail(new Error(`${at} could not ${m.type === 'seal-certify' ? 'certify' : 'install'} the seal CA of ${m.platform}: ${a.error}`));
      else ok(a);
    };
    child.on('message', on);
    child.send(m);
  });
}

/** The national root certifies a platform's seal CA request; the platform installs the chain. */
async function certifySealCa(nationalId: string, p: TierPlatform, ready: PlatformReady): Promise<void> {
  if (!ready.sealCaRequest) return; // certified at an earlier start
  const certified = await sealAsk(nationalId, { type: 'seal-certify', platform: p.id, csr: ready.sealCaRequest, commonName: sealCaName(p), region: p.region });
  if (certified.type !== 'seal-certified') return;
  await sealAsk(p.id, { type: 'seal-install', platform: p.id, chain: certified.chain });
}

/** What a superior registers about the platform below it. */
function subordinateOf(p: TierPlatform, ready: PlatformReady): RegisterMessage {
  return p.tier === 'provincial'
    // A province may vouch for one level below it (its cities), nothing deeper.
    ? { type: 'register', entityId: ready.entityId, jwks: ready.jwks, entityTypes: ['federation_entity', 'openid_provider', 'openid_relying_party'], constraints: { max_path_length: 1 } }
    // Every IdP is also a relying party of the others (cross-tier login, idp/link/homes.ts).
    : { type: 'register', entityId: ready.entityId, jwks: ready.jwks, entityTypes: ['openid_provider', 'openid_relying_party'], constraints: { allowed_entity_types: ['openid_provider', 'openid_relying_party'] } };
}

async function stopAll(code: number): Promise<never> {
  stopping = true;
  const exits = [...running.values()].map(({ child }) => new Promise<void>((ok) => {
    if (child.exitCode !== null || child.signalCode !== null) return ok();
    const force = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', () => {
      clearTimeout(force);
      ok();
    });
    child.kill('SIGTERM');
  }));
  await Promise.all(exits);
  console.log('tiers stopped. 已停止。');
  process.exit(code);
}
process.once('SIGINT', () => void stopAll(0));
process.once('SIGTERM', () => void stopAll(0));

/** The anchor resolves every other platform's chain: the federation is whole. */
async function checkChains(anchor: PlatformReady): Promise<void> {
  for (const r of running.values()) {
    if (!r.ready || r.ready.entityId === anchor.entityId) continue;
    const u = new URL(`${anchor.entityId}/federation/resolve`);
    u.searchParams.set('sub', r.ready.entityId);
    u.searchParams.set('trust_anchor', anchor.entityId);
    const res = await fetch(u, { signal: AbortSignal.timeout(10_000) });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`the national platform cannot resolve ${r.platform.id}: ${res.status} ${body.slice(0, 300)}`);
  }
}

function table(anchor: PlatformReady): string {
  const rows = TIERS.map((p) => {
    const r = running.get(p.id)!.ready!;
    return [p.id, p.tier, p.mode, p.region, r.issuer, `${r.gateway}/graphql`];
  });
  const head = ['platform', 'tier', 'mode', 'region', 'IdP (issuer and Entity Identifier)', 'gateway'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd();
  const lines = ['', `一网 Yiwang federation — ${TIERS.length} platforms, trust anchor ${anchor.entityId}`, '', line(head), ...rows.map(line), ''];
  for (const p of TIERS) lines.push(`  ${p.id.padEnd(8)} ${p.name}`);
  lines.push('', `Data under ${dir} (one embedded database per platform). Every service answers GET /healthz.`,
    `Licences 电子证照: every platform's seal CA is certified by the national seal root (${join(dir, SEAL_ANCHORS_FILE)});`,
    '  a licence verifies on any platform: POST <licence>/verify, the page GET <licence>/verify (licence URLs in tiers.json).',
    'Demo logins on every platform 每个平台的演示账号 (portal client id: yiwang-portal):',
    `  citizen 市民  ${DEMO_CITIZEN.name}  login ${DEMO_CITIZEN.idNumber} or ${DEMO_CITIZEN.mobile}  password ${DEMO_CITIZEN.password}`);
  for (const st of DEMO_STAFF) lines.push(`  staff 工作人员 ${st.name} (${st.roles.join(', ')})  login ${st.username}  password ${st.password}`);
  for (const a of DEMO_ADMINS) lines.push(`  administrator 管理员 ${a.name} (${a.roles.join(', ')})  login ${a.username}  password ${DEMO_ADMIN_PASSWORD}`);
  lines.push('', 'Press Ctrl-C to stop every platform. 按 Ctrl-C 全部停止。', '');
  return lines.join('\n');
}

try {
  mkdirSync(dir, { recursive: true });
  const started = performance.now();
  portPlan = await choosePorts();
  const [national, ...rest] = TIERS;
  const anchor = await startPlatformProcess(national!, 0, 'self');
  const anchors = [{ entityId: anchor.entityId, jwks: anchor.jwks }];
  // What every platform configures out of band (FEDERATION_TRUST_ANCHORS), kept for the operator.
  writeFileSync(join(dir, 'trust-anchors.json'), `${JSON.stringify(anchors, null, 2)}\n`);
  // Likewise the national seal root (LICENCE_TRUST_ANCHORS of every other platform).
  const sealAnchors = join(dir, SEAL_ANCHORS_FILE);
  const bundle = await fetch(`${anchor.services.licence}/trust-bundle.pem`, { signal: AbortSignal.timeout(10_000) });
  if (bundle.status !== 200) throw new Error(`the national licence service's trust bundle answered ${bundle.status}`);
  writeFileSync(sealAnchors, await bundle.text());
  // Level by level: the platforms below a superior start once it runs, in parallel, and are
  // registered at it as each one reports its keys.
  let level = rest.filter((p) => p.superior === national!.id);
  while (level.length > 0) {
    await Promise.all(level.map(async (p) => {
      const ready = await startPlatformProcess(p, TIERS.indexOf(p), anchors, sealAnchors);
      await registerAt(p.superior!, subordinateOf(p, ready));
      await certifySealCa(national!.id, p, ready);
    }));
    const ids = new Set(level.map((p) => p.id));
    level = rest.filter((p) => p.superior && ids.has(p.superior));
  }
  await checkChains(anchor);
  const tiers: TiersJson = {
    trustAnchor: anchor.entityId,
    sealTrustAnchors: sealAnchors,
    platforms: TIERS.map((p) => {
      const r = running.get(p.id)!.ready!;
      return { id: p.id, name: p.name, tier: p.tier, mode: p.mode, entityId: r.entityId, issuer: r.issuer, gateway: r.gateway, licence: r.services.licence! };
    }),
  };
  mkdirSync(resolve(out, '..'), { recursive: true });
  writeFileSync(out, `${JSON.stringify(tiers, null, 2)}\n`);
  console.log(table(anchor));
  console.log(`Started in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
  console.log(`tiers ready: ${out}`);
} catch (e) {
  console.error(`tiers failed: ${(e as Error).message}`);
  await stopAll(1);
}

/**
 * `yiwang gateway --supergraph <file>` as a process: any Federation 2 supergraph file, subgraph URLs
 * from the file or `--subgraph name=url`, the identity assertion on every subgraph call (the
 * subgraph here refuses anything else), and clear usage errors.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';
import { systemClock } from '../kernel/clock.ts';
import { createHttpApp, listen, type Listening } from '../kernel/http.ts';
import { internalKey } from '../kernel/internal-auth.ts';
import { silentLogger } from '../kernel/log.ts';
import { mountSubgraph, type SubgraphContext } from '../kernel/subgraph.ts';
import { TEST_SECRET } from '../test/support/infra.ts';
import { parseGatewayArgs, runGateway } from './cli.ts';

const SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@authenticated"])
  type Query { greeting: String  whoami: String  private: String @authenticated }
`;

const dir = mkdtempSync(join(tmpdir(), 'yiwang-gw-cli-'));
let sub: Listening;
let proc: ChildProcess | undefined;

beforeAll(async () => {
  const log = silentLogger();
  const { app, router } = createHttpApp({ name: 'greet', log });
  await mountSubgraph<SubgraphContext>(router, {
    name: 'greet', typeDefs: parse(SDL), key: internalKey(TEST_SECRET), clock: systemClock, log,
    resolvers: { Query: { greeting: () => '你好', whoami: (_: unknown, __: unknown, c: SubgraphContext) => c.caller.kind, private: () => 'p' } } as never,
  });
  app.use(router.routes());
  sub = await listen(app, 0, '127.0.0.1');
});

afterAll(async () => {
  proc?.kill('SIGTERM');
  await sub?.close();
});

async function start(args: string[]): Promise<string> {
  proc = spawn(join(process.cwd(), 'node_modules/.bin/node'), [join(process.cwd(), 'bin/yiwang.ts'), 'gateway', ...args], {
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', YIWANG_INTERNAL_SECRET: TEST_SECRET, KEY_PASSPHRASE: TEST_SECRET, IDP_COOKIE_KEYS: 'k', DATA_DIR: dir, REDIS_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    proc!.stdout!.on('data', (d: Buffer) => { out += d.toString(); const m = /listening on (\S+)/.exec(out); if (m?.[1]) resolve(m[1]); });
    proc!.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    proc!.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
}

describe('gateway.cli', () => {
  test('serves a supergraph file with URLs from the file, signing each subgraph call; @authenticated holds', async () => {
    const composed = composeServices([{ name: 'greet', url: `${sub.url}/graphql`, typeDefs: parse(SDL) }]);
    const file = join(dir, 'supergraph.graphql');
    writeFileSync(file, composed.supergraphSdl!);
    const url = await start(['--supergraph', file, '--port', '0']);
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ greeting whoami private }' }) });
    const body = await res.json() as { data: unknown; errors: Array<{ extensions: { code: string } }> };
    expect(body.data).toEqual({ greeting: '你好', whoami: 'anonymous', private: null });
    expect(body.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
    proc!.kill('SIGTERM');
    await new Promise((r) => proc!.once('exit', r));
  }, 60_000);

  test('--subgraph name=url overrides the file', async () => {
    const composed = composeServices([{ name: 'greet', url: 'http://127.0.0.1:1/graphql', typeDefs: parse(SDL) }]);
    const file = join(dir, 'elsewhere.graphql');
    writeFileSync(file, composed.supergraphSdl!);
    const url = await start(['--supergraph', file, '--port', '0', '--subgraph', `greet=${sub.url}/graphql`]);
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ greeting }' }) });
    expect(await res.json()).toEqual({ data: { greeting: '你好' } });
  }, 60_000);

  test('usage errors exit 2 with a message', async () => {
    expect(parseGatewayArgs([])).toMatch(/--supergraph is required/);
    expect(parseGatewayArgs(['--supergraph', 'x', '--port', 'abc'])).toMatch(/invalid port/);
    expect(parseGatewayArgs(['--supergraph', 'x', '--subgraph', 'nourl'])).toMatch(/name=url/);
    const errs: string[] = [];
    const io = { out: () => undefined, err: (l: string) => { errs.push(l); }, env: {}, cwd: dir };
    expect(await runGateway(['--supergraph', 'missing.graphql'], io)).toBe(2);
    writeFileSync(join(dir, 'plain.graphql'), 'type Query { a: String }');
    expect(await runGateway(['--supergraph', 'plain.graphql'], io)).toBe(2);
    expect(errs.join('\n')).toMatch(/no such supergraph file[\s\S]*not a Federation 2 supergraph/);
  });
});

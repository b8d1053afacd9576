/**
 * `yiwang gateway --supergraph <file> [--port N] [--host H] [--subgraph name=url …]`: the gateway
 * serving any Federation 2 supergraph file with the platform's engine, token verification,
 * identity assertion to subgraphs, limits and authorization (gateway/service.ts). Subgraph URLs
 * come from the file unless overridden with `--subgraph name=url`. Everything else is the usual
 * configuration (IDP_ISSUER, GATEWAY_RESOURCE, YIWANG_INTERNAL_SECRET, GATEWAY_* limits, …); an
 * anonymous request reaches whatever the schema leaves public. Runs until SIGINT / SIGTERM.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'graphql';
import { EXIT, type CliIo } from '../kernel/cli.ts';
import { loadConfig } from '../kernel/config.ts';
import { openDeps, stopOnSignals } from '../kernel/service.ts';
import { startGatewayService } from './service.ts';
import { supergraphSubgraphs } from './supergraph.ts';

const USAGE = [
  '用法 / Usage: yiwang gateway --supergraph <file> [--port N] [--host H] [--subgraph name=url ...]',
  '',
  '以平台网关（令牌校验、身份断言、限制、授权）服务任一 Federation 2 超图 /',
  'serve any Federation 2 supergraph with the platform gateway (tokens, identity assertion, limits, authorization).',
  '  --supergraph <file>   超图文件 / the supergraph SDL file',
  '  --port N              端口（默认 GATEWAY_PORT）/ port (default GATEWAY_PORT)',
  '  --host H              监听地址（默认 BIND_HOST）/ address to listen on (default BIND_HOST)',
  '  --subgraph name=url   覆盖子图地址 / override a subgraph URL (repeatable)',
].join('\n');

export interface GatewayArgs { supergraph: string; port?: number; host?: string; subgraphs: Record<string, string> }

/** The arguments, or a usage message. */
export function parseGatewayArgs(argv: readonly string[]): GatewayArgs | string {
  const out: GatewayArgs = { supergraph: '', subgraphs: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = argv[i + 1];
    if (a === '--help' || a === '-h') return USAGE;
    if (value === undefined) return `缺少参数值 / ${a} needs a value\n\n${USAGE}`;
    if (a === '--supergraph') out.supergraph = value;
    else if (a === '--port') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0 || n > 65535) return `端口无效 / invalid port: ${value}`;
      out.port = n;
    } else if (a === '--host') out.host = value;
    else if (a === '--subgraph') {
      const m = /^([^=]+)=(https?:\/\/.+)$/.exec(value);
      if (!m) return `子图覆盖格式为 name=url / --subgraph takes name=url: ${value}`;
      out.subgraphs[m[1]!] = m[2]!;
    } else return `未知选项 / unknown option: ${a}\n\n${USAGE}`;
    i++;
  }
  if (!out.supergraph) return `需要 --supergraph / --supergraph is required\n\n${USAGE}`;
  return out;
}

export async function runGateway(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseGatewayArgs(argv);
  if (typeof args === 'string') {
    (args === USAGE ? io.out : io.err)(args);
    return args === USAGE ? EXIT.OK : EXIT.USAGE;
  }
  const file = resolve(io.cwd, args.supergraph);
  if (!existsSync(file)) {
    io.err(`找不到超图文件 / no such supergraph file: ${file}`);
    return EXIT.USAGE;
  }
  const sdl = readFileSync(file, 'utf8');
  try {
    parse(sdl);
  } catch (e) {
    io.err(`超图无法解析 / the supergraph does not parse: ${(e as Error).message}`);
    return EXIT.USAGE;
  }
  const names = supergraphSubgraphs(sdl).map((s) => s.name);
  if (names.length === 0) {
    io.err('不是 Federation 2 超图（没有 join__Graph）/ not a Federation 2 supergraph (no join__Graph)');
    return EXIT.USAGE;
  }
  const unknown = Object.keys(args.subgraphs).filter((n) => !names.includes(n));
  if (unknown.length) {
    io.err(`超图中没有这些子图 / the supergraph has no subgraph named: ${unknown.join(', ')} (it has ${names.join(', ')})`);
    return EXIT.USAGE;
  }
  const config = loadConfig(io.env);
  // The cache holds the delegation markers acting-for tokens are checked against (REDIS_URL, or in-process).
  const deps = await openDeps('gateway', config, { db: false, cache: true });
  const svc = await startGatewayService(deps, { port: args.port ?? config.GATEWAY_PORT, host: args.host ?? config.BIND_HOST }, {
    supergraphSdl: sdl, subgraphUrls: args.subgraphs, urlsFromFile: true,
  });
  io.out(`gateway listening on ${svc.url}/graphql (${names.length} subgraphs: ${names.join(', ')})`);
  stopOnSignals(deps, [svc]);
  return EXIT.OK;
}

/**
 * The whole platform in one process: the IdP, the four subgraphs and the gateway, sharing one
 * database and one cache. `npm start` uses it on the embedded defaults; the end-to-end tests use
 * it on free ports against whatever DATABASE_URL / REDIS_URL point to. Production runs each
 * service as its own process instead (`node <service>/main.ts`), configured by the same variables.
 */
import { createLogger } from '../kernel/log.ts';
import type { Deps, RunningService, ServiceFactory } from '../kernel/service.ts';
import type { Config } from '../kernel/config.ts';
import { startIdpService } from '../idp/service.ts';
import { startItemService } from '../subgraphs/item/service.ts';
import { startCaseService } from '../subgraphs/case/service.ts';
import { startLicenceService } from '../subgraphs/licence/service.ts';
import { startEvaluationService } from '../subgraphs/evaluation/service.ts';
import { startGatewayService } from '../gateway/service.ts';

export interface PlatformOptions {
  /** `configured`: the ports in configuration; `ephemeral`: free ports (tests). */
  ports: 'configured' | 'ephemeral';
  seed: boolean;
  /** Per-service factories to use instead of the defaults (tests that inject a fault). */
  factories?: Partial<Record<ServiceName, ServiceFactory>>;
}

export type ServiceName = 'idp' | 'item' | 'case' | 'licence' | 'evaluation' | 'gateway';

export interface Platform {
  services: Record<ServiceName, RunningService>;
  /** The configuration as actually used (issuer and URLs resolved to the real ports). */
  config: Config;
  /** Stop every service, last started first. Does not close the shared db and cache. */
  close(): Promise<void>;
}

async function freePort(host: string): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startPlatform(base: Deps, opts: PlatformOptions): Promise<Platform> {
  const host = base.config.BIND_HOST;
  let config: Config = { ...base.config };
  // The issuer URL is part of every token, so the IdP's port must be known before it starts.
  if (opts.ports === 'ephemeral') {
    const idpUrl = `http://127.0.0.1:${await freePort(host)}`;
    config = { ...config, IDP_ISSUER: idpUrl, IDP_INTERNAL_URL: idpUrl, IDP_PORT: Number(new URL(idpUrl).port), IDP_JWKS_URL: undefined };
  }
  const port = (p: number) => (opts.ports === 'ephemeral' ? 0 : p);
  const started: RunningService[] = [];
  const deps = (name: string, c: Config = config): Deps => ({ ...base, config: c, log: createLogger(name, c.LOG_LEVEL) });
  const f = (name: ServiceName, fallback: ServiceFactory) => opts.factories?.[name] ?? fallback;
  const run = async (name: ServiceName, factory: ServiceFactory, p: number, c?: Config) => {
    const svc = await factory(deps(name, c), { port: p, host, seed: opts.seed });
    started.push(svc);
    return svc;
  };
  try {
    const idp = await run('idp', f('idp', startIdpService), config.IDP_PORT);
    const [item, kase, licence, evaluation] = [
      await run('item', f('item', startItemService), port(config.ITEM_PORT)),
      await run('case', f('case', startCaseService), port(config.CASE_PORT)),
      await run('licence', f('licence', startLicenceService), port(config.LICENCE_PORT)),
      await run('evaluation', f('evaluation', startEvaluationService), port(config.EVALUATION_PORT)),
    ];
    config = {
      ...config,
      ITEM_URL: `${item.url}/graphql`, CASE_URL: `${kase.url}/graphql`,
      LICENCE_URL: `${licence.url}/graphql`, EVALUATION_URL: `${evaluation.url}/graphql`,
    };
    const gateway = await run('gateway', f('gateway', startGatewayService), port(config.GATEWAY_PORT), config);
    return {
      services: { idp, item, case: kase, licence, evaluation, gateway },
      config,
      async close() {
        for (const s of [...started].reverse()) await s.close().catch(() => undefined);
      },
    };
  } catch (e) {
    for (const s of [...started].reverse()) await s.close().catch(() => undefined);
    throw e;
  }
}

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
import { startPortalServiceFactory } from '../portal/service.ts';

export interface PlatformOptions {
  /** `configured`: the ports in configuration; `ephemeral`: free ports (tests). */
  ports: 'configured' | 'ephemeral';
  seed: boolean;
  /** Per-service factories to use instead of the defaults (tests that inject a fault). */
  factories?: Partial<Record<ServiceName, ServiceFactory>>;
}

export type ServiceName = 'idp' | 'item' | 'case' | 'licence' | 'evaluation' | 'gateway' | 'portal';

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
  // Services bake URLs into what they produce (the issuer into tokens, public URLs into licences
  // and receipts), so on free ports every port is chosen before anything starts.
  if (opts.ports === 'ephemeral') {
    const at = async () => `http://127.0.0.1:${await freePort(host)}`;
    const [idp, item, kase, licence, evaluation, gateway, portal] = [await at(), await at(), await at(), await at(), await at(), await at(), await at()];
    const portOf = (u: string) => Number(new URL(u).port);
    config = {
      ...config,
      IDP_ISSUER: idp, IDP_INTERNAL_URL: idp, IDP_JWKS_URL: undefined, IDENTITY_URL: `${idp}/graphql`,
      IDP_PORT: portOf(idp), ITEM_PORT: portOf(item), CASE_PORT: portOf(kase), LICENCE_PORT: portOf(licence),
      EVALUATION_PORT: portOf(evaluation), GATEWAY_PORT: portOf(gateway),
      ITEM_URL: `${item}/graphql`, CASE_URL: `${kase}/graphql`, LICENCE_URL: `${licence}/graphql`, EVALUATION_URL: `${evaluation}/graphql`,
      LICENCE_PUBLIC_URL: licence, CASE_PUBLIC_URL: kase,
      PORTAL_PORT: portOf(portal), PORTAL_PUBLIC_URL: portal,
      // The guide pages log people in (live chat) with their own callback on the chosen port.
      IDP_PORTAL_REDIRECT_URIS: `${config.IDP_PORTAL_REDIRECT_URIS},${portal}/callback`,
    };
  }
  const started: RunningService[] = [];
  const deps = (name: string): Deps => ({ ...base, config, log: createLogger(name, config.LOG_LEVEL) });
  const f = (name: ServiceName, fallback: ServiceFactory) => opts.factories?.[name] ?? fallback;
  const run = async (name: ServiceName, factory: ServiceFactory, port: number, override: Partial<Config> = {}) => {
    const svc = await factory({ ...deps(name), config: { ...config, ...override } }, { port, host, seed: opts.seed });
    started.push(svc);
    return svc;
  };
  try {
    const idp = await run('idp', f('idp', startIdpService), config.IDP_PORT);
    const item = await run('item', f('item', startItemService), config.ITEM_PORT);
    const licence = await run('licence', f('licence', startLicenceService), config.LICENCE_PORT);
    const kase = await run('case', f('case', startCaseService), config.CASE_PORT);
    const evaluation = await run('evaluation', f('evaluation', startEvaluationService), config.EVALUATION_PORT);
    const gateway = await run('gateway', f('gateway', startGatewayService), config.GATEWAY_PORT);
    // The guide pages query the gateway this process started, wherever it listens.
    const portal = await run('portal', f('portal', startPortalServiceFactory), config.PORTAL_PORT,
      { PORTAL_GATEWAY_URL: `${gateway.url}/graphql`, PORTAL_EVALUATION_URL: evaluation.url });
    return {
      services: { idp, item, case: kase, licence, evaluation, gateway, portal },
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

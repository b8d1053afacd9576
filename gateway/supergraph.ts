/**
 * The supergraph the gateway serves: the file composed at build time (`npm run compose`), or any
 * Federation 2 supergraph file (GATEWAY_SUPERGRAPH, `yiwang gateway --supergraph`), read from
 * disk — never introspected from subgraphs at run time, never fetched from a registry. The
 * subgraph URLs in the file are defaults; configuration and explicit overrides win.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Config } from '../kernel/config.ts';
import type { SubgraphTarget } from './upstream.ts';

export type SubgraphName = 'item' | 'case' | 'licence' | 'evaluation' | 'identity';
/** URL overrides by subgraph name (the platform's five, or any name of another supergraph). */
export type SubgraphUrls = Partial<Record<SubgraphName, string>> & Record<string, string | undefined>;

/** schema/supergraph.graphql from the sources (gateway/…) or from a build (dist/gateway/…). */
export function defaultSupergraphPath(): string {
  const candidates = ['../schema/supergraph.graphql', '../../schema/supergraph.graphql'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`supergraph not found (looked at ${candidates.join(', ')}); run \`npm run compose\``);
  return found;
}

export function readSupergraph(path: string = defaultSupergraphPath()): string {
  return readFileSync(path, 'utf8');
}

function isSubgraphName(name: string): name is SubgraphName {
  return name === 'item' || name === 'case' || name === 'licence' || name === 'evaluation' || name === 'identity';
}

/** The subgraphs a supergraph names (`enum join__Graph { X @join__graph(name: "…", url: "…") }`). */
export function supergraphSubgraphs(sdl: string): Array<{ name: string; url: string | undefined }> {
  const out: Array<{ name: string; url: string | undefined }> = [];
  for (const m of sdl.matchAll(/@join__graph\(\s*name:\s*"([^"]+)"(?:\s*,?\s*url:\s*"([^"]*)")?\s*\)/g)) {
    out.push({ name: m[1]!, url: m[2] || undefined });
  }
  return out;
}

/** Where to send a subgraph's requests: explicit override, then configuration, then the supergraph's URL. */
export function subgraphUrl(name: string, supergraphUrl: string | undefined, config: Config, overrides: SubgraphUrls = {}): string {
  const override = overrides[name];
  if (override) return override;
  if (isSubgraphName(name)) {
    return { item: config.ITEM_URL, case: config.CASE_URL, licence: config.LICENCE_URL, evaluation: config.EVALUATION_URL, identity: config.IDENTITY_URL }[name];
  }
  if (!supergraphUrl) throw new Error(`subgraph ${name} has no URL`);
  return supergraphUrl;
}

/** Every subgraph of the supergraph with the URL the gateway will call. */
export function subgraphTargets(sdl: string, config: Config, overrides: SubgraphUrls = {}, useFileUrls = false): SubgraphTarget[] {
  return supergraphSubgraphs(sdl).map(({ name, url }) => ({
    name,
    url: useFileUrls && !overrides[name] ? (url ?? subgraphUrl(name, url, config, overrides)) : subgraphUrl(name, url, config, overrides),
  }));
}

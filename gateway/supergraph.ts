/**
 * The supergraph the gateway serves: the file composed at build time (`npm run compose`),
 * read from disk — never introspected from subgraphs at run time, never fetched from Apollo's
 * uplink. The subgraph URLs baked into it are development defaults; configuration wins.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Config } from '../kernel/config.ts';

export type SubgraphName = 'item' | 'case' | 'licence' | 'evaluation' | 'identity';
export type SubgraphUrls = Partial<Record<SubgraphName, string>>;

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

/** Where to send a subgraph's requests: explicit override, then configuration, then the supergraph's URL. */
export function subgraphUrl(name: string, supergraphUrl: string | undefined, config: Config, overrides: SubgraphUrls = {}): string {
  if (isSubgraphName(name)) {
    const fromConfig = { item: config.ITEM_URL, case: config.CASE_URL, licence: config.LICENCE_URL, evaluation: config.EVALUATION_URL, identity: config.IDENTITY_URL }[name];
    return overrides[name] ?? fromConfig;
  }
  if (!supergraphUrl) throw new Error(`subgraph ${name} has no URL`);
  return supergraphUrl;
}

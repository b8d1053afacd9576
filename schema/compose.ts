/**
 * `npm run compose`: compose the subgraph SDLs into schema/supergraph.graphql with
 * `@theguild/federation-composition` (MIT; Federation 2). `--check` exits 1 when the committed file differs.
 * The URLs baked in are the embedded defaults; the gateway overrides them from configuration.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';
import { join } from 'node:path';

export const SCHEMA_DIR = fileURLToPath(new URL('.', import.meta.url));
export const SUBGRAPHS = [
  { name: 'item', url: 'http://127.0.0.1:4201/graphql' },
  { name: 'case', url: 'http://127.0.0.1:4202/graphql' },
  { name: 'licence', url: 'http://127.0.0.1:4203/graphql' },
  { name: 'evaluation', url: 'http://127.0.0.1:4204/graphql' },
  // Served by the IdP (idp/identity): accounts, companies, delegations (R-ID-4, R-ID-8).
  { name: 'identity', url: 'http://127.0.0.1:4100/graphql' },
] as const;

export type SubgraphName = (typeof SUBGRAPHS)[number]['name'];

export function subgraphSdl(name: SubgraphName): string {
  return readFileSync(join(SCHEMA_DIR, `${name}.graphql`), 'utf8');
}

export function compose(): string {
  const result = composeServices(SUBGRAPHS.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(subgraphSdl(s.name)) })));
  if (result.errors?.length) {
    throw new Error(`composition failed:\n${result.errors.map((e) => `  ${e.message}`).join('\n')}`);
  }
  return `${result.supergraphSdl}\n`;
}

export const SUPERGRAPH_PATH = join(SCHEMA_DIR, 'supergraph.graphql');

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const fresh = compose();
  if (process.argv.includes('--check')) {
    const committed = readFileSync(SUPERGRAPH_PATH, 'utf8');
    if (committed !== fresh) {
      console.error('schema/supergraph.graphql is stale: run `npm run compose`');
      process.exit(1);
    }
    console.log('supergraph is up to date');
  } else {
    writeFileSync(SUPERGRAPH_PATH, fresh);
    console.log(`wrote ${SUPERGRAPH_PATH}`);
  }
}

/**
 * The supergraph for a gateway that does not enforce `@authenticated` / `@requiresScopes` /
 * `@policy` (stock `@apollo/gateway` refuses any `for: SECURITY` feature it does not implement):
 * the same schema with those links no longer marked SECURITY, so the directives stay as plain
 * annotations. Such a gateway leaves authorization to the subgraphs' own checks (docs/graph.md).
 */
export function withoutSecurityPurpose(supergraphSdl: string): string {
  return supergraphSdl.replace(/(@link\(url: "https:\/\/specs\.apollo\.dev\/(?:authenticated|requiresScopes|policy)\/v[\d.]+"), for: SECURITY\)/g, '$1)');
}

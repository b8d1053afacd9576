/**
 * `npm run persisted`: the trusted-documents manifest (schema/persisted-documents.json, Apollo's
 * persisted-query manifest format) from the repository's own operations: every GraphQL document
 * written in the sources — the journey, the pages, the CLI and the tests — that parses and
 * validates against the public schema of schema/supergraph.graphql. A `${NAME}` inside a template
 * literal is replaced by a string constant NAME of the same file; a document still holding an
 * interpolation is left out (its text is not known before it runs). The id of a document is the
 * SHA-256 of its exact text, as clients send it. `--check` exits 1 when the committed manifest
 * differs. With GATEWAY_PERSISTED_ONLY the gateway serves these documents only.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildASTSchema, parse, validate, Kind, type DocumentNode, type GraphQLSchema } from 'graphql';
import { transformSupergraphToPublicSchema } from '@theguild/federation-composition';
import { documentId, PERSISTED_MANIFEST_PATH, type PersistedManifest } from './persisted-manifest.ts';
import { SUPERGRAPH_PATH } from './compose.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIRS = ['bin', 'bench', 'federation', 'gateway', 'idp', 'kernel', 'portal', 'schema', 'seal', 'subgraphs', 'test'];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|js|html)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

export function publicSchema(supergraphSdl: string): GraphQLSchema {
  return buildASTSchema(transformSupergraphToPublicSchema(parse(supergraphSdl)), { assumeValidSDL: true });
}

/** String literals of a source file that may be GraphQL documents, with same-file constants substituted. */
function candidates(source: string): string[] {
  const constants = new Map<string, string>();
  // Constants may themselves name earlier constants (`${HIT}` inside RESULT): resolved in order.
  for (const m of source.matchAll(/const\s+([A-Za-z_$][\w$]*)\s*=\s*(?:`((?:[^`$]|\$\{[A-Za-z_$][\w$]*\})*)`|'((?:[^'\\\n]|\\.)*)')/g)) {
    const value = m[2] !== undefined ? m[2].replace(/\$\{([A-Za-z_$][\w$]*)\}/g, (all, name: string) => constants.get(name) ?? all) : m[3]!.replace(/\\(.)/g, '$1');
    if (!value.includes('${')) constants.set(m[1]!, value);
  }
  const out: string[] = [];
  for (const m of source.matchAll(/`([^`]*)`|'((?:[^'\\\n]|\\.)*)'/g)) {
    let text = m[1] ?? m[2]!.replace(/\\(.)/g, '$1');
    if (!/^\s*(query|mutation|\{)/.test(text) || !text.includes('{')) continue;
    if (m[1] !== undefined) text = text.replace(/\$\{([A-Za-z_$][\w$]*)\}/g, (all, name: string) => constants.get(name) ?? all);
    if (text.includes('${')) continue;
    out.push(text);
  }
  return out;
}

export function buildManifest(supergraphSdl: string = readFileSync(SUPERGRAPH_PATH, 'utf8')): PersistedManifest {
  const schema = publicSchema(supergraphSdl);
  const ops = new Map<string, PersistedManifest['operations'][number]>();
  const files = DIRS.flatMap((d) => sourceFiles(join(ROOT, d))).sort();
  for (const file of files) {
    const rel = relative(ROOT, file);
    let n = 0;
    for (const text of candidates(readFileSync(file, 'utf8'))) {
      let doc: DocumentNode;
      try { doc = parse(text); } catch { continue; }
      const defs = doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
      if (defs.length !== 1 || defs[0]!.operation === 'subscription' || validate(schema, doc).length) continue;
      const id = documentId(text);
      n++;
      if (!ops.has(id)) ops.set(id, { id, name: defs[0]!.name?.value ?? `${rel}#${n}`, type: defs[0]!.operation as 'query' | 'mutation', body: text });
    }
  }
  return { format: 'apollo-persisted-query-manifest', version: 1, operations: [...ops.values()] };
}

export function manifestText(m: PersistedManifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const fresh = manifestText(buildManifest());
  if (process.argv.includes('--check')) {
    if (readFileSync(PERSISTED_MANIFEST_PATH, 'utf8') !== fresh) {
      console.error('schema/persisted-documents.json is stale: run `npm run persisted`');
      process.exit(1);
    }
    console.log('persisted documents are up to date');
  } else {
    writeFileSync(PERSISTED_MANIFEST_PATH, fresh);
    console.log(`wrote ${PERSISTED_MANIFEST_PATH} (${JSON.parse(fresh).operations.length} documents)`);
  }
}

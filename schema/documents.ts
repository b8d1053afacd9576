/**
 * The trusted documents (persisted queries) of the graph: the manifest's shape, where it is
 * committed (schema/persisted-documents.json, written by schema/persisted.ts) and how a document
 * is named in it. The gateway reads the manifest (gateway/limits.ts); both share this.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

/** Apollo's persisted-query manifest (also read by Apollo Router and Hive Router). */
export interface PersistedManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: Array<{ id: string; name: string; type: 'query' | 'mutation' | 'subscription'; body: string }>;
}

export const PERSISTED_MANIFEST_PATH = fileURLToPath(new URL('./persisted-documents.json', import.meta.url));

export function documentId(body: string): string {
  return createHash('sha256').update(body).digest('hex');
}


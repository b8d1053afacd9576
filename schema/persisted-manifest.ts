/**
 * The trusted-documents manifest (Apollo's persisted query manifest format): the contract between
 * the operations this repository writes (`npm run persisted` collects them) and the gateway that
 * may serve only those (GATEWAY_PERSISTED_ONLY). A document's id is the SHA-256 of its text.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

export interface PersistedManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: Array<{ id: string; name: string; type: 'query' | 'mutation' | 'subscription'; body: string }>;
}

export const PERSISTED_MANIFEST_PATH = fileURLToPath(new URL('./persisted-documents.json', import.meta.url));

export function documentId(body: string): string {
  return createHash('sha256').update(body).digest('hex');
}


/**
 * Call a subgraph the way the gateway does: with a signed identity assertion for the operation.
 * Used by each subgraph's own tests; end-to-end tests go through the real gateway instead.
 */
import type { KeyObject } from 'node:crypto';
import { IDENTITY_HEADER, operationHash, signIdentity, type Caller } from '../../kernel/internal-auth.ts';

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } & Record<string, unknown> }>;
  /** problem+json body when the request was refused before GraphQL ran. */
  problem?: { code: string; title: string };
}

export async function callSubgraph<T = Record<string, unknown>>(
  url: string, key: KeyObject | null, caller: Caller, query: string, variables: Record<string, unknown> = {},
): Promise<GraphQLResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key) headers[IDENTITY_HEADER] = await signIdentity(key, caller, operationHash(query, variables));
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = await res.json() as Record<string, unknown>;
  if ((res.headers.get('content-type') ?? '').includes('problem+json')) return { status: res.status, problem: body as GraphQLResponse['problem'] };
  return { status: res.status, ...(body as object) } as GraphQLResponse<T>;
}

/** Resolve entity references as the gateway's query planner would. */
export function entitiesQuery(selection: string): string {
  return `query ($representations: [_Any!]!) { _entities(representations: $representations) { ${selection} } }`;
}

export const PERSON: Caller = { kind: 'person', sub: '7c1d5c4e-0000-4000-8000-000000000001', name: '张三', acr: 'urn:yiwang:loa:2' };
export const ANONYMOUS: Caller = { kind: 'anonymous' };

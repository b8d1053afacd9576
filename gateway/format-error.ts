/**
 * What the gateway lets out in `errors[]` (the engine's last plugin). Codes from the platform
 * registry (kernel/errors.ts), including those raised by subgraphs (e.g. ROLE_REQUIRED) and those
 * upstream.ts gives failed fetches (SERVICE_UNAVAILABLE), reach the client unchanged with their
 * message, path and `details`; every other extension (subgraph names, HTTP details, anything a
 * subgraph might leak) is dropped. Problems with the request itself keep a standard GraphQL code
 * (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, BAD_USER_INPUT …). Everything else is logged
 * and becomes INTERNAL without its text.
 */
import type { GraphQLError, GraphQLFormattedError } from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { ERROR_CODES } from '../kernel/errors.ts';
import type { Logger } from '../kernel/log.ts';

/** Codes for problems with the request itself (not server faults). */
export const REQUEST_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED', 'OPERATION_RESOLUTION_FAILURE',
]);

export const INTERNAL_MESSAGE = '内部错误 / internal error';

type AnyError = GraphQLError | GraphQLFormattedError;

export function formatGatewayError(e: AnyError, log: Logger, requestId?: string): GraphQLFormattedError {
  const ext = (e.extensions ?? {}) as Record<string, unknown>;
  const code = ext.code;
  const where = {
    ...(e.locations ? { locations: e.locations } : {}),
    ...(e.path ? { path: e.path } : {}),
  };
  if (typeof code === 'string' && Object.hasOwn(ERROR_CODES, code)) {
    const details = ext.details;
    return { message: e.message, ...where, extensions: { code, ...(details !== undefined ? { details } : {}) } };
  }
  if (typeof code === 'string' && REQUEST_ERROR_CODES.has(code)) {
    return { message: e.message, ...where, extensions: { code } };
  }
  // Only the start of the message: the executor quotes a subgraph's whole unexpected answer in it.
  log.error({ reqId: requestId, err: { message: e.message.slice(0, 200), code, path: e.path } }, 'gateway operation failed');
  return { message: INTERNAL_MESSAGE, ...(e.path ? { path: e.path } : {}), extensions: { code: 'INTERNAL' } };
}

interface ResultLike { errors?: readonly AnyError[]; [k: string]: unknown }

/** The engine plugin applying formatGatewayError to every result it sends. */
export function shapeResult(log: Logger): GatewayPlugin {
  return {
    // An executed operation always has `data` (null when a non-null root failed), so clients and
    // the HTTP shell can tell a partial or failed execution from a refused request.
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (result && typeof result === 'object' && !(Symbol.asyncIterator in result) && (result as ResultLike).data === undefined) {
            setResult({ ...(result as ResultLike), data: null } as never);
          }
        },
      };
    },
    onResultProcess({ result, setResult, serverContext }) {
      const requestId = (serverContext as { requestId?: string }).requestId;
      const shape = (r: ResultLike): ResultLike => (r.errors?.length ? { ...r, errors: r.errors.map((e) => formatGatewayError(e, log, requestId)) } : r);
      if (Array.isArray(result)) setResult(result.map((r) => shape(r as ResultLike)) as never);
      else if (result && typeof result === 'object' && !(Symbol.asyncIterator in result)) setResult(shape(result as ResultLike) as never);
    },
  };
}

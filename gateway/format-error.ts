/**
 * What the gateway lets out in `errors[]`. Codes from the platform registry (kernel/errors.ts),
 * including those raised by subgraphs (e.g. ROLE_REQUIRED), reach the client unchanged with
 * their message and `details`; @apollo/gateway keeps a subgraph's `extensions.code` when it has
 * one (executeQueryPlan.js downstreamServiceError) and we drop the rest of its extensions
 * (`serviceName`, and anything a subgraph might leak). GraphQL request errors keep Apollo's
 * standard codes. Everything else is logged and becomes INTERNAL without its text.
 */
import type { GraphQLFormattedError } from 'graphql';
import { ERROR_CODES } from '../kernel/errors.ts';
import type { Logger } from '../kernel/log.ts';

/** Apollo Server's codes for problems with the request itself (not server faults). */
const REQUEST_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED', 'OPERATION_RESOLUTION_FAILURE',
]);

export const INTERNAL_MESSAGE = '内部错误 / internal error';

export function gatewayFormatError(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    const where = {
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
    };
    if (typeof code === 'string' && code in ERROR_CODES) {
      const details = formatted.extensions?.details;
      return { message: formatted.message, ...where, extensions: { code, ...(details !== undefined ? { details } : {}) } };
    }
    if (typeof code === 'string' && REQUEST_ERROR_CODES.has(code)) {
      return { message: formatted.message, ...where, extensions: { code } };
    }
    log.error({ err: error, code }, 'gateway operation failed');
    return { message: INTERNAL_MESSAGE, ...(formatted.path ? { path: formatted.path } : {}), extensions: { code: 'INTERNAL' } };
  };
}

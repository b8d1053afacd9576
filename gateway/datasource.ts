/**
 * How the gateway talks to a subgraph. Each outgoing subgraph request carries a fresh identity
 * assertion (kernel/internal-auth.ts) naming the verified caller and bound to the exact query +
 * variables being sent, so the subgraph can refuse anything that did not come through the
 * gateway and a captured assertion cannot be replayed for another operation. The user's own
 * credentials (Authorization, cookies) never leave the gateway. Transport failures and refusals
 * by a subgraph are logged here and reach the client as a clean INTERNAL error, without the
 * subgraph's URL or response body (which @apollo/gateway would otherwise put in `extensions`).
 */
import type { KeyObject } from 'node:crypto';
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import { ERROR_CODES } from '../kernel/errors.ts';
import { IDENTITY_HEADER, operationHash, signIdentity, type Caller } from '../kernel/internal-auth.ts';
import type { Clock } from '../kernel/clock.ts';
import type { Logger } from '../kernel/log.ts';

export interface GatewayContext {
  caller: Caller;
  /** The request id of the incoming request (kernel/http.ts), forwarded for log correlation. */
  requestId: string;
}

export interface IdentityDataSourceOptions {
  name: string;
  url: string;
  key: KeyObject;
  clock: Clock;
  log: Logger;
}

/** Headers of the incoming request that must never be passed on, whatever a future change copies. */
const NEVER_FORWARD = ['authorization', 'cookie', 'proxy-authorization'];

type FetcherResponse = Parameters<RemoteGraphQLDataSource['errorFromResponse']>[0];

export const SERVICE_UNAVAILABLE_MESSAGE = '服务暂不可用，请稍后再试 / a service is unavailable, try again later';

export class IdentityDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  readonly #name: string;
  readonly #key: KeyObject;
  readonly #clock: Clock;
  readonly #log: Logger;

  constructor(opts: IdentityDataSourceOptions) {
    super({ url: opts.url });
    this.#name = opts.name;
    this.#key = opts.key;
    this.#clock = opts.clock;
    this.#log = opts.log;
  }

  override async willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    const { request } = options;
    const context = options.context as Partial<GatewayContext>;
    const headers = request.http?.headers;
    if (!headers) throw new Error('subgraph request without HTTP headers');
    for (const h of NEVER_FORWARD) headers.delete(h);
    // Fail closed: a request that somehow has no caller goes out as anonymous, never as someone.
    const caller: Caller = context.caller ?? { kind: 'anonymous' };
    const assertion = await signIdentity(this.#key, caller, operationHash(request.query, request.variables), this.#clock.now());
    headers.set(IDENTITY_HEADER, assertion);
    if (context.requestId) headers.set('x-request-id', context.requestId);
  }

  /** A non-2xx answer: log what the subgraph said, tell the client only what it can act on. */
  override async errorFromResponse(response: FetcherResponse): Promise<GraphQLError> {
    let body: unknown;
    try {
      body = await this.parseBody(response);
    } catch {
      body = undefined;
    }
    const code = typeof body === 'object' && body !== null && 'code' in body ? String((body as { code: unknown }).code) : undefined;
    const title = typeof body === 'object' && body !== null && 'title' in body ? String((body as { title: unknown }).title) : undefined;
    // GATEWAY_IDENTITY_REQUIRED here means the gateway and the subgraph disagree on the internal
    // secret (or the clocks are far apart): an operator problem, not something the client caused.
    const passOn = code !== undefined && code in ERROR_CODES && code !== 'GATEWAY_IDENTITY_REQUIRED' && code !== 'INTERNAL';
    this.#log.error({ subgraph: this.#name, status: response.status, code }, 'subgraph refused the request');
    if (passOn && title) return new GraphQLError(title, { extensions: { code } });
    return new GraphQLError(SERVICE_UNAVAILABLE_MESSAGE, { extensions: { code: 'INTERNAL' } });
  }

  /** Network failures (connection refused, reset, DNS): log with the subgraph's name, answer cleanly. */
  override didEncounterError(error: Error): void {
    if (error instanceof GraphQLError) throw error; // already shaped by errorFromResponse
    this.#log.error({ subgraph: this.#name, err: { name: error.name, message: error.message, code: (error as { code?: unknown }).code } }, 'subgraph unreachable');
    throw new GraphQLError(SERVICE_UNAVAILABLE_MESSAGE, { extensions: { code: 'SERVICE_UNAVAILABLE' } });
  }
}

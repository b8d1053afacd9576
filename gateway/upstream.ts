/**
 * How the engine talks to a subgraph (one `onFetch` hook of the Hive runtime):
 *
 * - Identity: each request carries a fresh `x-yiwang-identity` assertion (kernel/internal-auth.ts)
 *   naming the verified caller and bound to the exact query + variables sent, so the subgraph
 *   refuses anything that did not come through the gateway and a captured assertion cannot be
 *   replayed for another operation. The user's credentials (Authorization, cookies) never leave
 *   the gateway; the request id is forwarded.
 * - Merging: while a read-only fetch (a query) is on its way, an identical one (same subgraph,
 *   same body) of the SAME caller (or another anonymous caller) waits for its answer instead of
 *   being sent again; each request parses its own copy. Fetches of different callers are never
 *   merged: the answer depends on the identity sent with it. A merged fetch carries the first
 *   request's id and timeout.
 * - Timeout: each fetch is aborted after the per-subgraph timeout (GATEWAY_SUBGRAPH_TIMEOUT_MS),
 *   so a frozen subgraph costs its fields, not the whole answer.
 * - Failures: a subgraph that is unreachable, times out, or answers non-2xx is logged here with
 *   its name, status and code, and the engine receives a GraphQL-shaped answer with a stable code
 *   instead (SERVICE_UNAVAILABLE; or the subgraph's own platform code such as RATE_LIMITED): the
 *   planner then nulls only the fields that fetch owed, with the error at their paths. The
 *   subgraph's URL, socket error and body never reach the client.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { getOperationAST, Kind, parse, type SelectionSetNode } from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { Agent, request } from 'undici';
import { ERROR_CODES } from '../kernel/errors.ts';
import { IDENTITY_HEADER, operationHash, signIdentity, type Caller } from '../kernel/internal-auth.ts';
import type { Clock } from '../kernel/clock.ts';
import type { Logger } from '../kernel/log.ts';

export interface SubgraphTarget { name: string; url: string }

export const SERVICE_UNAVAILABLE_MESSAGE = '服务暂不可用，请稍后再试 / a service is unavailable, try again later';

/** Headers of the incoming request that must never be passed on, whatever a future change copies. */
const NEVER_FORWARD = new Set(['authorization', 'cookie', 'proxy-authorization', 'dpop']);

/**
 * A digest of everything the identity assertion says about the caller (the same JSON). Two
 * fetches with the same subgraph, body and caller key would go out with the same assertion (up to
 * its timestamps) and get the same answer, so one may be sent for both (see useSubgraphCalls);
 * fetches of different callers never share one. Anonymous callers share the one key (public data
 * is the same for all). Computed on every fetch, never cached on the Caller object, so a changed
 * caller can never keep an old key.
 */
export function callerKey(caller: Caller | undefined): string {
  if (!caller || caller.kind === 'anonymous') return 'anonymous';
  return createHash('sha256').update(JSON.stringify(caller)).digest('base64url');
}

/** How a subgraph fetch ended; `merged`: it waited for an identical fetch of the same caller instead of being sent. */
export type FetchOutcome = 'ok' | 'error' | 'timeout' | 'unreachable' | 'refused' | 'cancelled' | 'merged';

export interface SubgraphCallsOptions {
  subgraphs: SubgraphTarget[];
  key: KeyObject;
  clock: Clock;
  log: Logger;
  timeoutMs: number;
  /** Called once per subgraph fetch (metrics). */
  onFetchDone?: (subgraph: string, seconds: number, outcome: FetchOutcome) => void;
}

interface EngineContext { caller?: Caller; requestId?: string }

/** A subgraph's answer, read whole: several requests waiting for one fetch each parse their own copy. */
interface Answer { status: number; contentType: string; text: string }

/** The largest subgraph answer the gateway reads (64 MiB). */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** Statuses whose Response may carry no body. */
const NO_BODY = new Set([204, 205, 304]);

function answerFrom(a: Answer): Response {
  return new Response(NO_BODY.has(a.status) ? null : a.text, { status: a.status, headers: { 'content-type': a.contentType } });
}

/**
 * The body of a fetch that only reads: the executor sends `{"query":"query …` or `{"query":"{ …`
 * (the planner's one operation per fetch). Anything else (a mutation, a body of another shape, a
 * document with several operations) is never merged.
 */
const READ_ONLY_FETCH = /^\{"query":"(?:query\b|\{)/;
const SECOND_OPERATION = /\b(?:mutation|subscription)\b/;

/** The only headers the executor may have set for a fetch to be merged: nothing per request. */
const MERGEABLE_HEADERS = new Set(['accept', 'content-type']);

/** Whether a subgraph fetch (its body and the executor's headers) may share an identical fetch's answer. */
export function mergeable(body: unknown, headers: unknown): body is string {
  if (typeof body !== 'string' || !READ_ONLY_FETCH.test(body)) return false;
  // The planner sends one operation per fetch; should a document name another kind too, read it.
  if (SECOND_OPERATION.test(body) && !onlyQueries(body)) return false;
  return Object.keys((headers ?? {}) as Record<string, string>).every((h) => MERGEABLE_HEADERS.has(h.toLowerCase()));
}

function onlyQueries(body: string): boolean {
  try {
    const { query } = JSON.parse(body) as { query?: unknown };
    return typeof query === 'string' && parse(query).definitions.every((d) => d.kind !== Kind.OPERATION_DEFINITION || d.operation === 'query');
  } catch {
    return false;
  }
}

/**
 * The answer the engine gets for a failed fetch. For an entity fetch every representation gets a
 * null entity and its own error, so the planner puts the error at each entity's path and nulls
 * only the fields this subgraph owed there.
 */
function graphqlFailure(message: string, code: string, query: string | undefined, variables: unknown): Answer {
  const reps = (variables as { representations?: unknown } | undefined)?.representations;
  let body: unknown = { data: null, errors: [{ message, extensions: { code } }] };
  if (Array.isArray(reps)) {
    const fields = entityFields(query);
    const errors = reps.flatMap((_r, i) => (fields.length ? fields : [undefined]).map((f) => ({ message, path: f ? ['_entities', i, f] : ['_entities', i], extensions: { code } })));
    body = { data: { _entities: reps.map(() => null) }, errors };
  }
  return { status: 200, contentType: 'application/json', text: JSON.stringify(body) };
}

/** The response keys an entity fetch asks of each entity (`_entities { ... on T { a b } }`). */
function entityFields(query: string | undefined): string[] {
  if (!query) return [];
  try {
    const keys = new Set<string>();
    const walk = (set: SelectionSetNode | undefined, inEntities: boolean): void => {
      for (const s of set?.selections ?? []) {
        if (s.kind === Kind.FIELD) {
          if (inEntities && s.name.value !== '__typename') keys.add(s.alias?.value ?? s.name.value);
          else if (!inEntities && s.name.value === '_entities') walk(s.selectionSet, true);
        } else if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet, inEntities);
      }
    };
    for (const d of parse(query).definitions) if (d.kind === Kind.OPERATION_DEFINITION) walk(d.selectionSet, false);
    return [...keys];
  } catch {
    return [];
  }
}

function bodyOf(body: unknown): { query?: string; variables?: unknown } {
  if (typeof body !== 'string') throw new Error('subgraph request body is not a JSON string');
  return JSON.parse(body) as { query?: string; variables?: unknown };
}

export function useSubgraphCalls(o: SubgraphCallsOptions): GatewayPlugin {
  const byUrl = new Map(o.subgraphs.map((s) => [s.url, s.name]));
  // Fetches on their way, by subgraph, caller key and body (read-only ones only).
  const inflight = new Map<string, Promise<Answer>>();
  // Requests running a mutation: their reads (entity fetches after the write) are never merged,
  // so a read can never be answered from a fetch sent before the write.
  const writing = new WeakSet<object>();
  // The subgraphs are called with undici's own client (kept-alive connections, no redirects
  // followed, no proxy from the environment) and their answers read whole as text: cheaper per
  // fetch than a WHATWG fetch. An answer larger than MAX_ANSWER_BYTES is cut off and counts as
  // unavailable, so a runaway subgraph cannot fill the gateway's memory.
  const agent = new Agent({ keepAliveTimeout: 30_000, maxResponseSize: MAX_ANSWER_BYTES });
  return {
    onDispose: () => agent.close(),
    onExecute({ args }) {
      if (getOperationAST(args.document, args.operationName)?.operation !== 'query') writing.add(args.contextValue as object);
    },
    async onFetch({ url, options, setOptions, context, setFetchFn }) {
      const subgraph = byUrl.get(url);
      if (subgraph === undefined) {
        // Nothing but the configured subgraphs is ever fetched (no CDN, no reporting).
        throw new Error(`the gateway refuses an outbound request to an unconfigured address`);
      }
      const ctx = context as EngineContext;
      // Fail closed: a request that somehow has no caller goes out as anonymous, never as someone.
      const caller: Caller = ctx.caller ?? { kind: 'anonymous' };
      const mergeKey = !writing.has(context as object) && mergeable(options.body, options.headers) ? `${subgraph}\n${callerKey(caller)}\n${options.body}` : undefined;
      const shared = mergeKey === undefined ? undefined : inflight.get(mergeKey);
      if (shared) {
        // The same caller's identical query is already on its way: wait for that answer.
        o.onFetchDone?.(subgraph, 0, 'merged');
        setFetchFn(async () => answerFrom(await shared));
        return;
      }
      const { query, variables } = bodyOf(options.body);
      const assertion = await signIdentity(o.key, caller, operationHash(query, variables), o.clock.now());
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries((options.headers ?? {}) as Record<string, string>)) {
        if (!NEVER_FORWARD.has(k.toLowerCase())) headers[k] = v;
      }
      headers[IDENTITY_HEADER] = assertion;
      if (ctx.requestId) headers['x-request-id'] = ctx.requestId;
      const timeout = AbortSignal.timeout(o.timeoutMs);
      // A fetch others may wait for ends only by its timeout: one request going away (its signal)
      // must not cost the others their answer.
      const signal = options.signal && mergeKey === undefined ? AbortSignal.any([options.signal, timeout]) : timeout;
      setOptions({ ...options, headers, signal });
      // A child logger only when something is logged (failures), not on every fetch.
      const log = () => o.log.child({ reqId: ctx.requestId, subgraph });
      const send = async (u: string, init: RequestInit): Promise<Answer> => {
        const started = performance.now();
        const done = (outcome: FetchOutcome) => o.onFetchDone?.(subgraph, (performance.now() - started) / 1000, outcome);
        const unavailable = (e: unknown, stage: string): Answer => {
          const outcome = timeout.aborted ? 'timeout' : init.signal?.aborted ? 'cancelled' : 'unreachable';
          done(outcome);
          log().error({ err: { name: (e as Error).name, message: (e as Error).message, code: (e as { code?: unknown }).code }, stage, timeoutMs: outcome === 'timeout' ? o.timeoutMs : undefined },
            outcome === 'timeout' ? 'subgraph timed out' : outcome === 'cancelled' ? 'subgraph call cancelled' : 'subgraph unreachable');
          return graphqlFailure(SERVICE_UNAVAILABLE_MESSAGE, 'SERVICE_UNAVAILABLE', query, variables);
        };
        let res: Awaited<ReturnType<typeof request>>;
        try {
          res = await request(u, {
            dispatcher: agent, method: (init.method ?? 'POST') as 'POST', signal: init.signal ?? timeout,
            headers: init.headers instanceof Headers ? Object.fromEntries(init.headers) : init.headers as Record<string, string>,
            body: init.body as string,
          });
        } catch (e) {
          return unavailable(e, 'connect');
        }
        let text: string;
        try {
          text = await res.body.text();
        } catch (e) {
          return unavailable(e, 'answer');
        }
        if (res.statusCode >= 200 && res.statusCode < 300) {
          done('ok');
          const type = res.headers['content-type'];
          return { status: res.statusCode, contentType: (Array.isArray(type) ? type[0] : type) ?? 'application/json', text };
        }
        // A non-2xx answer: log what the subgraph said, tell the client only what it can act on.
        let body: unknown;
        try { body = JSON.parse(text); } catch { body = undefined; }
        const code = typeof body === 'object' && body !== null && 'code' in body ? String((body as { code: unknown }).code) : undefined;
        const title = typeof body === 'object' && body !== null && 'title' in body ? String((body as { title: unknown }).title) : undefined;
        done('refused');
        log().error({ status: res.statusCode, code }, 'subgraph refused the request');
        // GATEWAY_IDENTITY_REQUIRED means the gateway and the subgraph disagree on the internal
        // secret (or the clocks are far apart): an operator problem, not the client's.
        const passOn = code !== undefined && Object.hasOwn(ERROR_CODES, code) && code !== 'GATEWAY_IDENTITY_REQUIRED' && code !== 'INTERNAL';
        if (passOn && title) return graphqlFailure(title, code, query, variables);
        return graphqlFailure(SERVICE_UNAVAILABLE_MESSAGE, 'INTERNAL', query, variables);
      };
      setFetchFn(async (u, init) => {
        if (mergeKey === undefined) return answerFrom(await send(u, init as RequestInit));
        // Registered only once the fetch really starts, so nobody waits on a fetch never sent.
        let answer = inflight.get(mergeKey);
        if (answer) o.onFetchDone?.(subgraph, 0, 'merged');
        else {
          answer = send(u, init as RequestInit);
          inflight.set(mergeKey, answer);
          const forget = () => { if (inflight.get(mergeKey) === answer) inflight.delete(mergeKey); };
          answer.then(forget, forget);
        }
        return answerFrom(await answer);
      });
    },
  };
}

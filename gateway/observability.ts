/**
 * Operations view of the gateway.
 *
 * - `GET /metrics` (Prometheus text, prom-client): Hive's Prometheus plugin
 *   (`@graphql-mesh/plugin-prometheus`) records per operation the HTTP requests and their latency
 *   histogram (`graphql_yoga_http_duration`), parse / validate / execute durations, errors by phase
 *   (`graphql_envelop_error_result`) and per subgraph the execution latency and errors
 *   (`graphql_gateway_subgraph_execute_duration`, `…_errors`) and fetch latency
 *   (`graphql_gateway_fetch_duration`). Beside them, the gateway's own
 *   `yiwang_gateway_subgraph_fetch_failures_total{subgraph,outcome}` counts fetches that timed
 *   out, were refused or could not connect (upstream.ts), and
 *   `yiwang_gateway_rate_limited_total{limit}` is registered for the rate limits of the HTTP shell.
 * - Traces: OpenTelemetry spans for each request, the planning and each subgraph fetch, with the
 *   W3C `traceparent` propagated to the subgraphs, exported over OTLP/HTTP only when
 *   GATEWAY_OTLP_ENDPOINT is set (otherwise nothing is recorded and nothing is sent).
 * - Logs: every line the gateway writes for a request carries `reqId` (the shell's request id).
 */
import { Counter, Registry } from 'prom-client';
import useMeshPrometheus from '@graphql-mesh/plugin-prometheus';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { Logger as HiveLogger } from '@graphql-hive/logger';
import type { Logger } from '../kernel/log.ts';

import type { FetchOutcome } from './upstream.ts';

export interface GatewayMetrics {
  registry: Registry;
  plugin: GatewayPlugin;
  /** Per-subgraph fetch outcome (upstream.ts). */
  subgraphFetch(subgraph: string, seconds: number, outcome: FetchOutcome): void;
  /** Refusals by the shell's rate limits (name of the limit: account, client, ip). */
  rateLimited: Counter<'limit'>;
  contentType: string;
  render(): Promise<string>;
}

export function createMetrics(): GatewayMetrics {
  const registry = new Registry();
  const failures = new Counter({
    name: 'yiwang_gateway_subgraph_fetch_failures_total',
    help: 'Subgraph fetches that did not get a 2xx answer, by subgraph and outcome (timeout, unreachable, refused, cancelled).',
    labelNames: ['subgraph', 'outcome'] as const,
    registers: [registry],
  });
  const merged = new Counter({
    name: 'yiwang_gateway_subgraph_fetches_merged_total',
    help: 'Subgraph fetches not sent because an identical fetch of the same caller was on its way (its answer was used), by subgraph.',
    labelNames: ['subgraph'] as const,
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'yiwang_gateway_rate_limited_total',
    help: 'Requests refused with 429 by a rate limit, by limit (account, client, ip).',
    labelNames: ['limit'] as const,
    registers: [registry],
  });
  const plugin = useMeshPrometheus({
    registry,
    log: new HiveLogger({ level: false }),
    metrics: {
      graphql_yoga_http_duration: true,
      graphql_envelop_request: true,
      graphql_envelop_request_duration: true,
      graphql_envelop_phase_parse: true,
      graphql_envelop_phase_validate: true,
      graphql_envelop_phase_execute: true,
      graphql_envelop_error_result: true,
      graphql_gateway_fetch_duration: true,
      graphql_gateway_subgraph_execute_duration: true,
      graphql_gateway_subgraph_execute_errors: true,
      // The plugin's other defaults are off: a summary with quantiles (costly per observation), a
      // walk of every document for deprecated fields, context-building and subscribe phases
      // (no subscriptions), schema changes (the supergraph is fixed at start).
      graphql_envelop_request_time_summary: false,
      graphql_envelop_deprecated_field: false,
      graphql_envelop_phase_context: false,
      graphql_envelop_phase_subscribe: false,
      graphql_envelop_schema_change: false,
      graphql_envelop_execute_resolver: false,
    },
    labels: { subgraphName: true },
  }) as unknown as GatewayPlugin;
  return {
    registry,
    plugin,
    rateLimited,
    subgraphFetch(subgraph, _seconds, outcome) {
      if (outcome === 'merged') merged.inc({ subgraph });
      else if (outcome !== 'ok') failures.inc({ subgraph, outcome });
    },
    contentType: registry.contentType,
    render: () => registry.metrics(),
  };
}

/**
 * OpenTelemetry (Hive's plugin, `@graphql-hive/plugin-opentelemetry`) when an OTLP endpoint is
 * configured: spans for the HTTP request, parse / validate / plan / execute and each subgraph
 * fetch, the incoming `traceparent` honoured and passed on to the subgraphs, exported in batches
 * over OTLP/HTTP to `endpoint` as service `yiwang-gateway`. None otherwise (no provider is
 * registered, nothing is recorded or sent).
 */
export async function tracingPlugins(endpoint: string | undefined, log: Logger): Promise<GatewayPlugin[]> {
  if (!endpoint) return [];
  // Loaded only when configured: without an endpoint no OpenTelemetry code runs at all.
  const [{ useOpenTelemetry }, { openTelemetrySetup }, { AsyncLocalStorageContextManager }, { OTLPTraceExporter }] = await Promise.all([
    import('@graphql-hive/plugin-opentelemetry'), import('@graphql-hive/plugin-opentelemetry/setup'),
    import('@opentelemetry/context-async-hooks'), import('@opentelemetry/exporter-trace-otlp-http'),
  ]);
  openTelemetrySetup({
    contextManager: new AsyncLocalStorageContextManager(),
    resource: { serviceName: 'yiwang-gateway' },
    traces: { exporter: new OTLPTraceExporter({ url: endpoint }), batching: { scheduledDelayMillis: 500 } },
    configureDiagLogger: false,
  });
  log.info({ endpoint }, 'OpenTelemetry traces exported over OTLP');
  return [useOpenTelemetry({ traces: true, propagateContext: true, inheritContext: true, log: new HiveLogger({ level: false }) } as never) as unknown as GatewayPlugin];
}

/**
 * Imported first by gateway/service.ts and gateway/main.ts: the gateway makes no outbound calls
 * of its own. The engine (Hive's runtime) reports nowhere unless told to (no `reporting`, no CDN);
 * this variable also switches off the OpenTelemetry exporter that `@apollo/gateway` (a dev
 * dependency, used by the benchmark baseline and a compatibility test) would start otherwise.
 */
process.env.APOLLO_TELEMETRY_DISABLED = '1';

export const TELEMETRY_DISABLED = true;

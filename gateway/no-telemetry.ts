/**
 * Imported first by gateway/service.ts and gateway/main.ts: the gateway makes no outbound calls
 * of its own. @apollo/gateway otherwise starts an OpenTelemetry exporter to Apollo's servers (and
 * cloud metadata probes) when an ApolloGateway is constructed; this variable switches it off.
 * Usage and schema reporting are switched off separately by plugins in service.ts.
 */
process.env.APOLLO_TELEMETRY_DISABLED = '1';

export const TELEMETRY_DISABLED = true;

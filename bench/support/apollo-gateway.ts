/**
 * Stock `@apollo/gateway` (a dev dependency) over a supergraph, for the compatibility test and
 * the benchmark baseline: the same identity assertion on every subgraph call as the platform's
 * gateway (so subgraphs accept it), with the caller taken from the access token's claims WITHOUT
 * verifying them — test and benchmark use only.
 */
import '../../gateway/no-telemetry.ts';
import type { KeyObject } from 'node:crypto';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled, ApolloServerPluginUsageReportingDisabled, ApolloServerPluginSchemaReportingDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { IDENTITY_HEADER, operationHash, signIdentity, type Caller } from '../../kernel/internal-auth.ts';
import { unverifiedCaller } from './unverified-caller.ts';

interface Ctx { caller: Caller }

class SigningDataSource extends RemoteGraphQLDataSource<Ctx> {
  readonly #key: KeyObject;
  constructor(url: string, key: KeyObject) {
    super({ url });
    this.#key = key;
  }
  override async willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<Ctx>): Promise<void> {
    const caller = (context as Partial<Ctx>).caller ?? { kind: 'anonymous' };
    request.http!.headers.set(IDENTITY_HEADER, await signIdentity(this.#key, caller, operationHash(request.query, request.variables)));
  }
}

export interface StockGateway { url: string; close(): Promise<void> }

export async function startStockApolloGateway(supergraphSdl: string, urls: Record<string, string>, key: KeyObject): Promise<StockGateway> {
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name, url }) => new SigningDataSource(urls[name] ?? url!, key),
  });
  const server = new ApolloServer<Ctx>({
    gateway,
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginUsageReportingDisabled(), ApolloServerPluginSchemaReportingDisabled()],
  });
  const { url } = await startStandaloneServer(server, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }): Promise<Ctx> => ({ caller: unverifiedCaller(req.headers.authorization) }),
  });
  return { url: url.replace(/\/$/, ''), close: () => server.stop() };
}

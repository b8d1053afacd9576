/**
 * The slice of oidc-provider 9's API the IdP uses. The package ships no types and
 * `@types/oidc-provider` is not a dependency; if it is added, delete this file.
 */
declare module 'oidc-provider' {
  import type Koa from 'koa';
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface AdapterPayload {
    [key: string]: unknown;
    jti?: string;
    uid?: string;
    userCode?: string;
    grantId?: string;
    consumed?: number;
    accountId?: string;
    kind?: string;
  }

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string, claims: Record<string, unknown>, rejected: string[]): Promise<Record<string, unknown>> | Record<string, unknown>;
    [key: string]: unknown;
  }

  export interface InteractionPrompt {
    name: string;
    reasons: string[];
    details: {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
      [key: string]: unknown;
    };
  }

  export interface Interaction {
    uid: string;
    jti: string;
    prompt: InteractionPrompt;
    params: Record<string, unknown> & { client_id: string; scope?: string; resource?: string | string[] };
    session?: { accountId: string; uid: string; cookie?: string; acr?: string; amr?: string[] };
    grantId?: string;
    returnTo: string;
    lastSubmission?: Record<string, unknown>;
    exp: number;
  }

  export interface GrantInstance {
    jti: string;
    accountId: string;
    clientId: string;
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(resource: string, scope: string): void;
    save(ttl?: number): Promise<string>;
  }

  export interface GrantStatic {
    new (init: { accountId: string; clientId: string }): GrantInstance;
    find(id: string): Promise<GrantInstance | undefined>;
  }

  export interface ClientInstance {
    clientId: string;
    clientName?: string;
    clientAuthMethod: string;
    grantTypeAllowed(type: string): boolean;
    [key: string]: unknown;
  }

  export interface TokenLike {
    kind: string;
    accountId?: string;
    clientId?: string;
    grantId?: string;
    acr?: string;
    scope?: string;
    scopes: Set<string>;
    resource?: string | string[];
    [key: string]: unknown;
  }

  export interface OIDCContext {
    route: string;
    params: Record<string, unknown>;
    client?: ClientInstance;
    entities: Record<string, (TokenLike & Record<string, unknown>) | undefined> & { Account?: Account };
    [key: string]: unknown;
  }

  export type KoaContextWithOIDC = Koa.ParameterizedContext & { oidc: OIDCContext };

  export type Configuration = Record<string, unknown>;

  export class Provider extends Koa {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    Grant: GrantStatic;
    Client: { find(id: string): Promise<ClientInstance | undefined> };
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionResult(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>, opts?: { mergeWithLastSubmission?: boolean }): Promise<string>;
    urlFor(name: string, opts?: Record<string, unknown>): string;
  }

  export class OIDCProviderError extends Error {
    constructor(status: number, message: string);
    status: number;
    statusCode: number;
    error: string;
    error_description?: string;
  }

  export const errors: {
    InvalidTarget: new (description?: string) => OIDCProviderError;
    SessionNotFound: new (description?: string) => OIDCProviderError;
    AccessDenied: new (description?: string) => OIDCProviderError;
    OIDCProviderError: typeof OIDCProviderError;
    [name: string]: new (description?: string) => OIDCProviderError;
  };

  export default Provider;
}

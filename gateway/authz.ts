/**
 * Authorization written in the schema, enforced by the gateway before planning
 * (`@envelop/generic-auth` through the Hive runtime's `genericAuth`, granular mode):
 *
 * - `@authenticated` (type or field): the caller must be logged in.
 * - `@requiresScopes(scopes: [[...]])`: one inner list must be wholly held. A caller's scopes are
 *   the access token's OAuth `scope` values, plus `person` or `staff` and, for staff,
 *   `role:<receiver|acceptor|reviewer|decider>`.
 * - `@policy(policies: [[...]])`: one inner list of named policies must all hold; the policies
 *   are the functions in POLICIES below, and nowhere else.
 *
 * An unauthorised field is removed from the operation before planning: it is null in the answer
 * with an error at its path (UNAUTHENTICATED for an anonymous caller, FORBIDDEN otherwise), and
 * the rest of the answer is returned. Subgraphs keep their own checks (defence in depth): a policy
 * here can only see the caller and the field's arguments, so ownership of stored data (whose case,
 * whose licence) is still decided where the data lives.
 */
import { GraphQLError, Kind, valueFromASTUntyped, type DocumentNode, type FieldNode, type OperationDefinitionNode, type ValueNode } from 'graphql';
import type { GatewayPlugin, ValidateUserFn } from '@graphql-hive/gateway-runtime';
import type { Caller } from '../kernel/internal-auth.ts';

type KnownCaller = Exclude<Caller, { kind: 'anonymous' }>;
type ValidateUserFnParams<U> = Parameters<ValidateUserFn<U>>[0];

/** What the engine knows of a logged-in caller. */
export interface AuthUser { caller: KnownCaller; scopes: string[] }

/** A policy: may this caller use this field with these arguments? */
export type Policy = (caller: KnownCaller, args: Record<string, unknown>) => boolean;

/** The argument naming an agency (unified social credit code), when the field has one. */
function agencyArg(args: Record<string, unknown>): unknown {
  return args.agencyCode ?? args.agency;
}

/** Every named policy the schema may use. */
export const POLICIES: Record<string, Policy> = {
  /** Staff of the owning agency: staff, and of the agency the field names when it names one. */
  agencyStaff: (c, args) => c.kind === 'staff' && (agencyArg(args) === undefined || agencyArg(args) === null || agencyArg(args) === c.agency),
  /** A person acting for a company (R-ID-8), for the company the field names when it names one. */
  actingForCompany: (c, args) => c.kind === 'person' && c.actingFor !== undefined && (args.company === undefined || args.company === c.actingFor.company),
  /** A person who can hold licences (the licence service checks that the licence is theirs). */
  licenceHolder: (c) => c.kind === 'person',
};

function fieldArgs(node: FieldNode, variables: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of node.arguments ?? []) out[a.name.value] = valueFromASTUntyped(a.value as ValueNode, variables);
  return out;
}

function scopesOf(caller: KnownCaller, tokenScopes: readonly string[]): string[] {
  const s = [...tokenScopes, caller.kind];
  if (caller.kind === 'staff') for (const r of caller.roles) s.push(`role:${r}`);
  return s;
}

function refused(p: ValidateUserFnParams<AuthUser>, code: 'UNAUTHENTICATED' | 'FORBIDDEN'): GraphQLError {
  const message = code === 'UNAUTHENTICATED' ? '请先登录 / please log in' : '无权查看此内容 / you may not see this field';
  return new GraphQLError(message, { nodes: [p.fieldNode], path: p.path.filter((x) => x !== '@'), extensions: { code } });
}

/** One of the alternatives (inner lists) wholly satisfied. */
function anyAll(alternatives: string[][] | undefined, holds: (name: string) => boolean): boolean {
  if (!alternatives?.length) return true;
  return alternatives.some((all) => all.every(holds));
}

/**
 * The plan cache of the Rust planner is keyed by the document object. The authorization plugin
 * hands execution a rewritten copy of the document on every request (even when it removed
 * nothing), which would make every request plan again. What it removed is noted here per request
 * (the field nodes it refused); `samePlanForSameDocument` then gives execution one shared
 * document per (parsed document, refused fields): the parsed one itself when nothing was refused.
 */
interface Checked { document: DocumentNode; refused: FieldNode[] }
const checkedByContext = new WeakMap<object, Checked>();
const nodeIds = new WeakMap<FieldNode, number>();
let nextNodeId = 0;
const rewritten = new WeakMap<DocumentNode, Map<string, DocumentNode>>();
/** Distinct refusal sets kept per parsed document (each is one plan). */
const MAX_REWRITES_PER_DOCUMENT = 32;

function noteChecked(p: ValidateUserFnParams<AuthUser>, refusal: GraphQLError | undefined): GraphQLError | undefined {
  const context = p.executionArgs.contextValue as object | undefined;
  if (context && typeof context === 'object') {
    let checked = checkedByContext.get(context);
    if (!checked) {
      checked = { document: p.executionArgs.document, refused: [] };
      checkedByContext.set(context, checked);
    }
    if (refusal) checked.refused.push(p.fieldNode);
  }
  return refusal;
}

function nodeId(node: FieldNode): number {
  let id = nodeIds.get(node);
  if (id === undefined) nodeIds.set(node, (id = nextNodeId++));
  return id;
}

/** After authorization (the runtime's plugin runs before the engine's own): the shared document for what it left. */
export function samePlanForSameDocument(): GatewayPlugin {
  return {
    onExecute({ args }) {
      const context = args.contextValue as object | undefined;
      const checked = context && typeof context === 'object' ? checkedByContext.get(context) : undefined;
      if (!checked) return;
      checkedByContext.delete(context!);
      // Nothing refused: the rewrite only dropped empty or unused nodes, which a valid document has none of.
      if (checked.refused.length === 0) {
        args.document = checked.document;
        return;
      }
      const key = checked.refused.map(nodeId).sort((a, b) => a - b).join(',');
      let byRefusals = rewritten.get(checked.document);
      if (!byRefusals) rewritten.set(checked.document, (byRefusals = new Map()));
      const shared = byRefusals.get(key);
      if (shared) args.document = shared;
      else if (byRefusals.size < MAX_REWRITES_PER_DOCUMENT) byRefusals.set(key, args.document);
    },
  };
}

export function validateUser(p: ValidateUserFnParams<AuthUser>): GraphQLError | undefined {
  return noteChecked(p, judge(p));
}

function judge(p: ValidateUserFnParams<AuthUser>): GraphQLError | undefined {
  const guarded = p.typeAuthArgs || p.fieldAuthArgs || p.typeScopes?.length || p.fieldScopes?.length || p.typePolicies?.length || p.fieldPolicies?.length;
  if (!guarded) return undefined;
  if (!p.user) return refused(p, 'UNAUTHENTICATED');
  const { caller } = p.user;
  const scopes = new Set(p.user.scopes);
  if (!anyAll(p.typeScopes, (s) => scopes.has(s)) || !anyAll(p.fieldScopes, (s) => scopes.has(s))) return refused(p, 'FORBIDDEN');
  const args = fieldArgs(p.fieldNode, p.executionArgs.variableValues as Record<string, unknown> | undefined);
  const holds = (name: string) => {
    const policy = Object.hasOwn(POLICIES, name) ? POLICIES[name] : undefined;
    return policy ? policy(caller, args) : false; // an unknown policy name never grants access
  };
  if (!anyAll(p.typePolicies, holds) || !anyAll(p.fieldPolicies, holds)) return refused(p, 'FORBIDDEN');
  return undefined;
}

/** The engine's `genericAuth` configuration. */
export function genericAuthOptions() {
  return {
    mode: 'protect-granular' as const,
    rejectUnauthenticated: false,
    resolveUserFn: (ctx: { caller?: Caller; scopes?: readonly string[] }): AuthUser | null =>
      ctx.caller && ctx.caller.kind !== 'anonymous' ? { caller: ctx.caller, scopes: scopesOf(ctx.caller, ctx.scopes ?? []) } : null,
    extractScopes: (u: AuthUser | null) => u?.scopes ?? [],
    validateUser,
  };
}

/**
 * When authorization removed every field of the operation, there is nothing to plan: answer
 * `data: {}` here (the removed fields' nulls and errors are added by the authorization plugin).
 */
export function nothingLeftToPlan(): GatewayPlugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const ops = (args.document as DocumentNode).definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
      const op = args.operationName ? ops.find((d) => d.name?.value === args.operationName) : ops[0];
      if (!op || op.selectionSet.selections.length === 0) setResultAndStopExecution({ data: {} });
    },
  };
}

/** Every policy a supergraph names must be one of POLICIES: an unknown name stops the start. */
export function assertKnownPolicies(supergraphSdl: string): void {
  const unknown = new Set<string>();
  for (const m of supergraphSdl.matchAll(/@policy\(\s*policies:\s*(\[[^)]*\])\s*\)/g)) {
    for (const name of m[1]!.matchAll(/"([^"]+)"/g)) if (!Object.hasOwn(POLICIES, name[1]!)) unknown.add(name[1]!);
  }
  if (unknown.size) throw new Error(`the supergraph names policies the gateway does not define: ${[...unknown].join(', ')} (gateway/authz.ts POLICIES)`);
}

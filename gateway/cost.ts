/**
 * Demand control: the cost of an operation, computed on the supergraph before planning, from the
 * `@cost` and `@listSize` directives of the subgraph SDL (Federation 2.9, the IBM GraphQL cost
 * specification) as composed into the supergraph:
 *
 * - a field costs its `@cost(weight)`, else its type's `@cost`, else 1 for an object, interface
 *   or union and 0 for a scalar or enum;
 * - a list field multiplies its cost and its selection's cost by its size: the largest slicing
 *   argument given (`@listSize(slicingArguments: [...])`, variables resolved), else
 *   `@listSize(assumedSize)`, else the configured default; `sizedFields` apply the slicing
 *   argument to the named child fields instead;
 * - a mutation adds 10;
 * - fragments count as if inlined; of fragments on different types, only the dearest counts
 *   (one object has one type).
 *
 * Hive's own demand-control plugin prices each subgraph request as it is sent, which the Rust
 * planner's execution path does not reach; this prices the whole operation once, before any fetch.
 */
import {
  getNamedType, GraphQLError, isCompositeType, isListType, isNonNullType, Kind, parse, valueFromASTUntyped,
  type DocumentNode, type FragmentDefinitionNode, type GraphQLOutputType, type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode,
  type DirectiveNode, type ValueNode, type GraphQLType, isObjectType, isInterfaceType,
} from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';

interface FieldCost { weight?: number; assumedSize?: number; slicingArguments?: string[]; sizedFields?: string[] }

export interface CostTable {
  fields: Map<string, FieldCost>;
  types: Map<string, number>;
}

function directiveArgs(d: DirectiveNode): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of d.arguments ?? []) out[a.name.value] = valueFromASTUntyped(a.value);
  return out;
}

/** `@cost` / `@listSize` of every field and type of a supergraph (whatever name the link imports them under). */
export function costTable(supergraphSdl: string): CostTable {
  const doc = parse(supergraphSdl);
  const fields = new Map<string, FieldCost>();
  const types = new Map<string, number>();
  const isCost = (n: string) => n === 'cost' || n.endsWith('__cost');
  const isListSize = (n: string) => n === 'listSize' || n.endsWith('__listSize');
  for (const def of doc.definitions) {
    if (!('name' in def) || !def.name || !('directives' in def)) continue;
    for (const d of def.directives ?? []) if (isCost(d.name.value)) types.set(def.name.value, Number(directiveArgs(d).weight));
    if (!('fields' in def) || !def.fields) continue;
    for (const f of def.fields) {
      if (f.kind !== Kind.FIELD_DEFINITION) continue;
      const c: FieldCost = {};
      for (const d of f.directives ?? []) {
        const a = directiveArgs(d);
        if (isCost(d.name.value)) c.weight = Number(a.weight);
        if (isListSize(d.name.value)) {
          if (typeof a.assumedSize === 'number') c.assumedSize = a.assumedSize;
          if (Array.isArray(a.slicingArguments)) c.slicingArguments = a.slicingArguments as string[];
          if (Array.isArray(a.sizedFields)) c.sizedFields = a.sizedFields as string[];
        }
      }
      if (Object.keys(c).length) fields.set(`${def.name.value}.${f.name.value}`, c);
    }
  }
  return { fields, types };
}

function unwrapList(t: GraphQLType): boolean {
  return isListType(isNonNullType(t) ? t.ofType : t);
}

export function operationCost(schema: GraphQLSchema, doc: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown> | undefined, table: CostTable, defaultListSize: number): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  let op: OperationDefinitionNode | undefined;
  for (const d of doc.definitions) {
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    else if (d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName)) op ??= d;
  }
  if (!op) return 0;
  const root = op.operation === 'mutation' ? schema.getMutationType() : op.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
  if (!root) return 0;

  const selectionCost = (set: SelectionSetNode, typeName: string, sized: Map<string, number>, seen: Set<string>): number => {
    const type = schema.getType(typeName);
    let total = 0;
    // Fragments on different concrete types never apply to the same object: the dearest counts.
    const byCondition = new Map<string, number>();
    const addFragment = (condition: string, cost: number) => {
      if (condition === typeName) total += cost;
      else byCondition.set(condition, (byCondition.get(condition) ?? 0) + cost);
    };
    for (const s of set.selections) {
      if (s.kind === Kind.INLINE_FRAGMENT) {
        const condition = s.typeCondition?.name.value ?? typeName;
        addFragment(condition, selectionCost(s.selectionSet, condition, sized, seen));
      } else if (s.kind === Kind.FRAGMENT_SPREAD) {
        const f = fragments.get(s.name.value);
        if (f && !seen.has(f.name.value)) {
          const condition = f.typeCondition.name.value;
          addFragment(condition, selectionCost(f.selectionSet, condition, sized, new Set([...seen, f.name.value])));
        }
      } else if (!s.name.value.startsWith('__') && (isObjectType(type) || isInterfaceType(type))) {
        const def = type.getFields()[s.name.value];
        if (!def) continue;
        const named = getNamedType(def.type as GraphQLOutputType);
        const c = table.fields.get(`${typeName}.${def.name}`) ?? {};
        const base = c.weight ?? table.types.get(named.name) ?? (isCompositeType(named) ? 1 : 0);
        let size = 1;
        const childSized = new Map<string, number>();
        let slice: number | undefined;
        for (const argName of c.slicingArguments ?? []) {
          const arg = s.arguments?.find((a) => a.name.value === argName);
          const v = arg ? Number(valueFromASTUntyped(arg.value as ValueNode, variables)) : NaN;
          if (Number.isFinite(v)) slice = Math.max(slice ?? 0, v);
        }
        if (c.sizedFields?.length) {
          for (const f of c.sizedFields) childSized.set(f, slice ?? c.assumedSize ?? defaultListSize);
        } else if (unwrapList(def.type)) {
          size = sized.get(s.name.value) ?? slice ?? c.assumedSize ?? defaultListSize;
        }
        const children = s.selectionSet ? selectionCost(s.selectionSet, named.name, childSized, seen) : 0;
        total += size * (base + children);
      }
    }
    return total + Math.max(0, ...byCondition.values());
  };
  return (op.operation === 'mutation' ? 10 : 0) + selectionCost(op.selectionSet, root.name, new Map(), new Set());
}

/** The engine plugin: operations over `maxCost` end with LIMIT_COST before planning. */
export function demandControl(supergraphSdl: string, maxCost: number, defaultListSize: number): GatewayPlugin {
  const table = costTable(supergraphSdl);
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const cost = operationCost(args.schema, args.document, args.operationName, args.variableValues as Record<string, unknown> | undefined, table, defaultListSize);
      if (cost > maxCost) {
        setResultAndStopExecution({
          errors: [new GraphQLError(`查询代价过高 / the operation's estimated cost ${cost} is above the limit ${maxCost}`, {
            extensions: { code: 'LIMIT_COST', details: { estimated: cost, max: maxCost } },
          })],
        });
      }
    },
  };
}

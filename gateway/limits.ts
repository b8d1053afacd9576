/**
 * Request limits the gateway applies before planning: a maximum selection depth (a cheap guard
 * against deeply nested queries that fan out across subgraphs). Apollo Server's own
 * `maxRecursiveSelections` guards fragment explosion, and batched HTTP requests stay disabled
 * (Apollo Server's default), so one HTTP request is one operation.
 */
import { GraphQLError, Kind, type ASTVisitor, type FragmentDefinitionNode, type SelectionSetNode, type ValidationContext } from 'graphql';

export const DEFAULT_MAX_DEPTH = 15;

function depthOf(set: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, visiting: Set<string>): number {
  let deepest = 0;
  for (const s of set.selections) {
    let d = 0;
    if (s.kind === Kind.FIELD) {
      // Introspection (__schema, __type, __typename) counts as one level: its depth is fixed by
      // the introspection types, and it is governed by the `introspection` switch instead.
      d = s.selectionSet && !s.name.value.startsWith('__') ? 1 + depthOf(s.selectionSet, fragments, visiting) : 1;
    } else if (s.kind === Kind.INLINE_FRAGMENT) {
      d = depthOf(s.selectionSet, fragments, visiting);
    } else {
      const name = s.name.value;
      const frag = fragments.get(name);
      if (frag && !visiting.has(name)) { // cycles are reported by NoFragmentCyclesRule
        visiting.add(name);
        d = depthOf(frag.selectionSet, fragments, visiting);
        visiting.delete(name);
      }
    }
    if (d > deepest) deepest = d;
  }
  return deepest;
}

/** Validation rule: refuse operations whose field nesting exceeds `max`. */
export function depthLimit(max: number = DEFAULT_MAX_DEPTH) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of context.getDocument().definitions) {
      if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    }
    return {
      OperationDefinition(node) {
        const depth = depthOf(node.selectionSet, fragments, new Set());
        if (depth > max) {
          context.reportError(new GraphQLError(`查询嵌套过深 / the operation is nested ${depth} levels deep, more than ${max}`, { nodes: [node] }));
        }
        return false;
      },
    };
  };
}

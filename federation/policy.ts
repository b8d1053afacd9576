/**
 * Metadata policy (OpenID Federation 1.0, section 6.1): the seven standard operators (value,
 * add, default, one_of, subset_of, superset_of, essential) with their allowed combinations
 * (6.1.3.1), the merge of the policies of a trust chain from the anchor down (6.1.4.1) and their
 * application to the subject's metadata (6.1.4.2).
 *
 * A broken policy (a wrong operator value, a forbidden combination, a merge conflict between
 * tiers, an unknown critical operator) is FEDERATION_POLICY_INVALID; metadata that fails a
 * check is FEDERATION_POLICY_VIOLATION. Either makes the chain invalid.
 */
import { AppError } from '../kernel/errors.ts';
import type { EntityTypePolicy, Json, Metadata, MetadataPolicy, ParameterPolicy } from './types.ts';

export const STANDARD_OPERATORS = ['value', 'add', 'default', 'one_of', 'subset_of', 'superset_of', 'essential'] as const;
type Operator = (typeof STANDARD_OPERATORS)[number];
const isStandard = (op: string): op is Operator => (STANDARD_OPERATORS as readonly string[]).includes(op);

/** Which operators each may be combined with in one parameter policy (6.1.3.1.1 … 6.1.3.1.7). */
const COMBINES: Record<Operator, readonly Operator[]> = {
  value: ['add', 'default', 'one_of', 'subset_of', 'superset_of', 'essential'],
  add: ['value', 'default', 'subset_of', 'superset_of', 'essential'],
  default: ['value', 'add', 'one_of', 'subset_of', 'superset_of', 'essential'],
  one_of: ['value', 'default', 'essential'],
  subset_of: ['value', 'add', 'default', 'superset_of', 'essential'],
  superset_of: ['value', 'add', 'default', 'subset_of', 'essential'],
  essential: ['value', 'add', 'default', 'one_of', 'subset_of', 'superset_of'],
};

/** Canonical JSON (object keys sorted) so values compare by content. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
const equal = (a: unknown, b: unknown) => canonical(a) === canonical(b);
const has = (list: readonly Json[], x: Json) => list.some((y) => equal(x, y));
const isSubset = (a: readonly Json[], b: readonly Json[]) => a.every((x) => has(b, x));
const union = (a: readonly Json[], b: readonly Json[]) => [...a, ...b.filter((x) => !has(a, x))];
const intersection = (a: readonly Json[], b: readonly Json[]) => a.filter((x) => has(b, x));
const isScalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

function invalid(message: string, details: Record<string, unknown>): AppError {
  return new AppError('FEDERATION_POLICY_INVALID', `联邦元数据策略无效 / invalid metadata policy: ${message}`, details);
}
function violation(message: string, details: Record<string, unknown>): AppError {
  return new AppError('FEDERATION_POLICY_VIOLATION', `元数据不符合联邦策略 / metadata violates the federation policy: ${message}`, details);
}

/** `scope` is a space-separated string that operators treat as an array (6.1.3.1.8). */
const asList = (param: string, v: Json): Json => (param === 'scope' && typeof v === 'string' ? v.split(' ').filter(Boolean) : v);

/**
 * Check one parameter policy: operator value types and allowed combinations. Returns the policy
 * without non-critical operators this library does not understand (they are ignored, 6.1.3.2).
 */
export function validateParameterPolicy(policy: unknown, where: { entityType: string; parameter: string }, crit: ReadonlySet<string> = new Set()): ParameterPolicy {
  if (policy === null || typeof policy !== 'object' || Array.isArray(policy)) throw invalid('a parameter policy must be an object', where);
  const out: ParameterPolicy = {};
  for (const [op, raw] of Object.entries(policy as Record<string, Json>)) {
    if (!isStandard(op)) {
      if (crit.has(op)) throw invalid(`critical operator ${op} is not understood`, { ...where, operator: op });
      continue;
    }
    const v = asList(where.parameter, raw);
    const ok = op === 'value' ? v !== undefined
      : op === 'default' ? v !== null && v !== undefined
        : op === 'essential' ? typeof v === 'boolean'
          : Array.isArray(v);
    if (!ok) throw invalid(`${op} has a value of the wrong type`, { ...where, operator: op });
    out[op] = v;
  }
  const ops = Object.keys(out) as Operator[];
  for (const a of ops) {
    for (const b of ops) {
      if (a !== b && !COMBINES[a].includes(b)) throw invalid(`${a} cannot be combined with ${b}`, { ...where, operators: [a, b] });
    }
  }
  const value = out.value;
  const arr = (k: Operator) => out[k] as Json[] | undefined;
  if ('value' in out) {
    if (value === null && out.essential === true) throw invalid('value null cannot be essential', where);
    if (value === null && 'default' in out) throw invalid('value null cannot be combined with default', where);
    if (arr('add') && !(Array.isArray(value) && isSubset(arr('add')!, value))) throw invalid('add must be a subset of value', where);
    if (arr('one_of') && !has(arr('one_of')!, value as Json)) throw invalid('value must be one of one_of', where);
    if (arr('subset_of') && value !== null && !(Array.isArray(value) && isSubset(value, arr('subset_of')!))) throw invalid('value must be a subset of subset_of', where);
    if (arr('superset_of') && value !== null && !(Array.isArray(value) && isSubset(arr('superset_of')!, value))) throw invalid('value must be a superset of superset_of', where);
  }
  if (arr('add') && arr('subset_of') && !isSubset(arr('add')!, arr('subset_of')!)) throw invalid('add must be a subset of subset_of', where);
  if (arr('subset_of') && arr('superset_of') && !isSubset(arr('superset_of')!, arr('subset_of')!)) throw invalid('subset_of must be a superset of superset_of', where);
  return out;
}

/** Check a whole `metadata_policy` claim (6.1.2); returns it without ignorable operators. */
export function validateMetadataPolicy(policy: unknown, crit: ReadonlySet<string> = new Set()): MetadataPolicy {
  if (policy === null || typeof policy !== 'object' || Array.isArray(policy)) throw invalid('metadata_policy must be an object', {});
  const out: MetadataPolicy = {};
  for (const [entityType, params] of Object.entries(policy as Record<string, unknown>)) {
    if (params === null || typeof params !== 'object' || Array.isArray(params)) throw invalid('an entity type policy must be an object', { entityType });
    const t: EntityTypePolicy = {};
    for (const [parameter, p] of Object.entries(params as Record<string, unknown>)) {
      t[parameter] = validateParameterPolicy(p, { entityType, parameter }, crit);
    }
    out[entityType] = t;
  }
  return out;
}

/** Merge a subordinate parameter policy into the current (superior) one, operator by operator (6.1.4.1). */
function mergeParameter(current: ParameterPolicy, next: ParameterPolicy, where: { entityType: string; parameter: string }): ParameterPolicy {
  const out: ParameterPolicy = { ...current };
  for (const [op, v] of Object.entries(next) as Array<[Operator, Json]>) {
    if (!(op in out)) { out[op] = v; continue; }
    const c = out[op] as Json;
    switch (op) {
      case 'value':
      case 'default':
        if (!equal(c, v)) throw invalid(`tiers set different ${op} values`, { ...where, operator: op });
        break;
      case 'add':
      case 'superset_of':
        out[op] = union(c as Json[], v as Json[]);
        break;
      case 'one_of': {
        const i = intersection(c as Json[], v as Json[]);
        if (i.length === 0) throw invalid('one_of values of the tiers have nothing in common', { ...where, operator: op });
        out[op] = i;
        break;
      }
      case 'subset_of':
        out[op] = intersection(c as Json[], v as Json[]);
        break;
      case 'essential':
        out[op] = (c as boolean) || (v as boolean);
        break;
    }
  }
  // The merged result must itself be an allowed combination.
  return validateParameterPolicy(out, where);
}

/**
 * Resolve the policy of a trust chain (6.1.4.1). `statements` are the Subordinate Statements'
 * policies ordered from the most superior (the anchor's) to the subject's immediate superior;
 * `critical` are all operator names found in their `metadata_policy_crit` claims.
 */
export function mergeMetadataPolicies(policies: ReadonlyArray<MetadataPolicy | undefined>, critical: Iterable<string> = []): MetadataPolicy | undefined {
  const crit = new Set(critical);
  let current: MetadataPolicy | undefined;
  for (const raw of policies) {
    if (raw === undefined) continue;
    const next = validateMetadataPolicy(raw, crit);
    if (!current) { current = next; continue; }
    for (const [entityType, params] of Object.entries(next)) {
      const mine = current[entityType];
      if (!mine) { current[entityType] = params; continue; }
      for (const [parameter, p] of Object.entries(params)) {
        mine[parameter] = mine[parameter] ? mergeParameter(mine[parameter], p, { entityType, parameter }) : p;
      }
    }
  }
  return current;
}

/** Apply one parameter policy to a value (absent = undefined), operators in their order (6.1.3.1). */
export function applyParameterPolicy(policy: ParameterPolicy, input: Json | undefined, where: { entityType: string; parameter: string }): Json | undefined {
  let v: Json | undefined = input === undefined ? undefined : asList(where.parameter, input);
  if ('value' in policy) v = policy.value === null ? undefined : structuredClone(policy.value);
  if ('add' in policy) {
    if (v === undefined) v = [];
    if (!Array.isArray(v)) throw violation(`${where.parameter} must be an array for add`, where);
    v = union(v, policy.add as Json[]);
  }
  if ('default' in policy && v === undefined) v = structuredClone(policy.default);
  if ('one_of' in policy && v !== undefined) {
    if (!isScalar(v) && (v === null || typeof v !== 'object' || Array.isArray(v))) throw violation(`${where.parameter} must be a single value for one_of`, where);
    if (!has(policy.one_of as Json[], v)) throw violation(`${where.parameter} is not one of the allowed values`, { ...where, allowed: policy.one_of });
  }
  if ('subset_of' in policy && v !== undefined) {
    if (!Array.isArray(v)) throw violation(`${where.parameter} must be an array for subset_of`, where);
    v = intersection(v, policy.subset_of as Json[]);
  }
  if ('superset_of' in policy && v !== undefined) {
    if (!Array.isArray(v)) throw violation(`${where.parameter} must be an array for superset_of`, where);
    const missing = (policy.superset_of as Json[]).filter((x) => !has(v as Json[], x));
    if (missing.length) throw violation(`${where.parameter} lacks required values`, { ...where, missing });
  }
  if (policy.essential === true && v === undefined) throw violation(`${where.parameter} is required`, where);
  if (where.parameter === 'scope' && Array.isArray(v)) v = v.join(' ');
  return v;
}

/** Apply a resolved policy to metadata (6.1.4.2); returns new metadata. */
export function applyMetadataPolicy(metadata: Metadata, policy: MetadataPolicy | undefined): Metadata {
  const out: Metadata = structuredClone(metadata);
  if (!policy) return out;
  for (const [entityType, params] of Object.entries(policy)) {
    const m = out[entityType];
    // A policy for an entity type the subject does not have changes nothing (6.1.4.2).
    if (!m) continue;
    for (const [parameter, p] of Object.entries(params)) {
      const r = applyParameterPolicy(p, m[parameter], { entityType, parameter });
      if (r === undefined) delete m[parameter];
      else m[parameter] = r;
    }
  }
  return out;
}

/** The superior's `metadata` claim overrides the subject's parameters, type by type (3.1.3). */
export function applySuperiorMetadata(metadata: Metadata, superior: Metadata | undefined): Metadata {
  const out: Metadata = structuredClone(metadata);
  if (!superior) return out;
  for (const [entityType, params] of Object.entries(superior)) {
    out[entityType] = { ...(out[entityType] ?? {}), ...structuredClone(params) };
  }
  return out;
}

/**
 * Metadata policy against the specification's own examples (federation/testdata, each file
 * names its section) and the operator rules of 6.1.3.1.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { applyMetadataPolicy, applyParameterPolicy, applySuperiorMetadata, mergeMetadataPolicies, validateParameterPolicy } from './policy.ts';
import type { Json, Metadata, MetadataPolicy } from './types.ts';

const vector = (name: string) => JSON.parse(readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8'));

/** Arrays compared as sets: the order of merged operator values is not defined (6.1.3). */
function normalise(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalise).map((x) => JSON.stringify(x)).sort();
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x)]));
  return v;
}
const where = { entityType: 'openid_relying_party', parameter: 'p' };
const codeOf = (f: () => unknown) => { try { f(); } catch (e) { return (e as { code?: string }).code; } return 'no error'; };

describe('6.1.5 metadata policy example', () => {
  const v = vector('metadata-policy-example.json');
  it('merges the anchor and intermediate policies into the printed merged policy', () => {
    const merged = mergeMetadataPolicies([v.trustAnchorPolicy, v.intermediatePolicy]);
    expect(normalise(merged!.openid_relying_party)).toEqual(normalise(v.mergedPolicy));
  });
  it('applies the intermediate metadata and the merged policy to the leaf metadata', () => {
    const merged = mergeMetadataPolicies([v.trustAnchorPolicy, v.intermediatePolicy]);
    const withSuperior = applySuperiorMetadata(v.leafMetadata as Metadata, v.intermediateMetadata as Metadata);
    const resolved = applyMetadataPolicy(withSuperior, merged);
    expect(normalise(resolved.openid_relying_party)).toEqual(normalise(v.resolvedMetadata));
    // The contacts come out in the printed order too (leaf first, then anchor, then intermediate).
    expect(resolved.openid_relying_party!.contacts).toEqual(v.resolvedMetadata.contacts);
  });
  it('refuses a leaf whose token_endpoint_auth_method the merged policy no longer allows', () => {
    const merged = mergeMetadataPolicies([v.trustAnchorPolicy, v.intermediatePolicy]);
    const leaf = structuredClone(v.leafMetadata) as Metadata;
    leaf.openid_relying_party!.token_endpoint_auth_method = 'private_key_jwt';
    expect(codeOf(() => applyMetadataPolicy(leaf, merged))).toBe('FEDERATION_POLICY_VIOLATION');
    delete leaf.openid_relying_party!.token_endpoint_auth_method;
    expect(codeOf(() => applyMetadataPolicy(leaf, merged))).toBe('FEDERATION_POLICY_VIOLATION'); // essential
  });
});

describe('6.1.3.1.8 essential and subset_of table', () => {
  for (const [i, row] of (vector('essential-subset-table.json').rows as Array<Record<string, unknown>>).entries()) {
    it(`row ${i + 1}`, () => {
      const policy = validateParameterPolicy({ essential: row.essential as boolean, subset_of: row.subset_of as Json }, where);
      if (row.error) {
        expect(codeOf(() => applyParameterPolicy(policy, undefined, where))).toBe('FEDERATION_POLICY_VIOLATION');
      } else {
        expect(applyParameterPolicy(policy, row.input as Json | undefined, where)).toEqual(row.output);
      }
    });
  }
});

describe('operators (6.1.3.1)', () => {
  it('value sets, and null removes', () => {
    expect(applyParameterPolicy({ value: 'pairwise' }, 'public', where)).toBe('pairwise');
    expect(applyParameterPolicy({ value: null }, 'x', where)).toBeUndefined();
  });
  it('add initialises or appends without duplicates', () => {
    expect(applyParameterPolicy({ add: ['a'] }, undefined, where)).toEqual(['a']);
    expect(applyParameterPolicy({ add: ['a', 'b'] }, ['b', 'c'], where)).toEqual(['b', 'c', 'a']);
  });
  it('default only fills an absent parameter', () => {
    expect(applyParameterPolicy({ default: ['x'] }, undefined, where)).toEqual(['x']);
    expect(applyParameterPolicy({ default: ['x'] }, ['y'], where)).toEqual(['y']);
  });
  it('one_of checks a single value', () => {
    expect(applyParameterPolicy({ one_of: ['a', 'b'] }, 'a', where)).toBe('a');
    expect(codeOf(() => applyParameterPolicy({ one_of: ['a', 'b'] }, 'c', where))).toBe('FEDERATION_POLICY_VIOLATION');
    expect(codeOf(() => applyParameterPolicy({ one_of: ['a'] }, ['a'], where))).toBe('FEDERATION_POLICY_VIOLATION');
  });
  it('superset_of requires the values', () => {
    expect(applyParameterPolicy({ superset_of: ['a'] }, ['a', 'b'], where)).toEqual(['a', 'b']);
    expect(codeOf(() => applyParameterPolicy({ superset_of: ['a', 'z'] }, ['a'], where))).toBe('FEDERATION_POLICY_VIOLATION');
  });
  it('scope is a space-separated list (6.1.3.1.8)', () => {
    const scope = { entityType: 'openid_relying_party', parameter: 'scope' };
    expect(applyParameterPolicy({ subset_of: ['openid', 'profile'] }, 'openid email profile', scope)).toBe('openid profile');
    expect(applyParameterPolicy({ default: ['openid'] }, undefined, scope)).toBe('openid');
  });
  it('refuses combinations the specification forbids', () => {
    for (const p of [
      { one_of: ['a'], subset_of: ['a'] },
      { one_of: ['a'], add: ['a'] },
      { value: ['a', 'b'], add: ['c'] },
      { value: 'c', one_of: ['a', 'b'] },
      { value: ['a', 'x'], subset_of: ['a'] },
      { value: ['a'], superset_of: ['a', 'b'] },
      { value: null, essential: true },
      { value: null, default: 'x' },
      { add: ['z'], subset_of: ['a'] },
      { subset_of: ['a'], superset_of: ['a', 'b'] },
      { essential: 'yes' },
      { subset_of: 'a' },
    ]) {
      expect([p, codeOf(() => validateParameterPolicy(p as unknown as Record<string, Json>, where))]).toEqual([p, 'FEDERATION_POLICY_INVALID']);
    }
  });
  it('merges per operator: value and default must agree, one_of intersects (never to nothing), essential ORs', () => {
    const m = (a: Record<string, Json>, b: Record<string, Json>) => mergeMetadataPolicies([{ t: { p: a } }, { t: { p: b } }] as MetadataPolicy[])!.t!.p;
    expect(codeOf(() => m({ value: 'a' }, { value: 'b' }))).toBe('FEDERATION_POLICY_INVALID');
    expect(codeOf(() => m({ default: 'a' }, { default: 'b' }))).toBe('FEDERATION_POLICY_INVALID');
    expect(codeOf(() => m({ one_of: ['a'] }, { one_of: ['b'] }))).toBe('FEDERATION_POLICY_INVALID');
    expect(m({ one_of: ['a', 'b'] }, { one_of: ['b', 'c'] })).toEqual({ one_of: ['b'] });
    expect(m({ subset_of: ['a'] }, { subset_of: ['b'] })).toEqual({ subset_of: [] });
    expect(m({ superset_of: ['a'] }, { superset_of: ['b'] })).toEqual({ superset_of: ['a', 'b'] });
    expect(m({ essential: false }, { essential: true })).toEqual({ essential: true });
    // A merge that yields a forbidden combination is a policy error too.
    expect(codeOf(() => m({ subset_of: ['a', 'b'] }, { superset_of: ['c'] }))).toBe('FEDERATION_POLICY_INVALID');
  });
  it('ignores unknown operators unless metadata_policy_crit names them (6.1.3.2)', () => {
    expect(mergeMetadataPolicies([{ t: { p: { regexp: '^a', essential: true } } }])).toEqual({ t: { p: { essential: true } } });
    expect(codeOf(() => mergeMetadataPolicies([{ t: { p: { regexp: '^a' } } }], ['regexp']))).toBe('FEDERATION_POLICY_INVALID');
  });
  it('a policy for an entity type the subject lacks changes nothing', () => {
    expect(applyMetadataPolicy({ openid_provider: { a: 1 } }, { openid_relying_party: { b: { essential: true } } })).toEqual({ openid_provider: { a: 1 } });
  });
});

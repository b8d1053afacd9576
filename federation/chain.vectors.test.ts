/**
 * Trust chain validation against the specification's Appendix A.2 example (op.umu.se → umu.se →
 * swamid.se → edugain.geant.org): the printed claims, signed with generated keys because the
 * printed keys are shortened, validate to the printed resolved metadata; and each kind of damage
 * to the chain fails with its own code. Constraints follow the 6.2.1 examples.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { signStatement, type SigningKey } from './statement.ts';
import { validateTrustChain } from './validate.ts';
import type { EntityStatementClaims, Jwks, TrustAnchor } from './types.ts';

const v = JSON.parse(readFileSync(new URL('./testdata/trust-chain-example.json', import.meta.url), 'utf8'));
const S = v.statements as Record<string, EntityStatementClaims>;
const NOW: number = v.now;
const ids = ['https://op.umu.se', 'https://umu.se', 'https://swamid.se', 'https://edugain.geant.org'];

const keys = new Map<string, { signer: SigningKey; jwks: Jwks }>();
async function makeKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { signer: { kid, alg: 'ES256', key: privateKey }, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } as JWK] } };
}
const jwksOf = (id: string) => keys.get(id)!.jwks;
const sign = (c: EntityStatementClaims, by: string) => signStatement(c, keys.get(by)!.signer);

/** The printed statements with each entity's jwks replaced by its generated key. */
function claims(name: string, patch: Partial<EntityStatementClaims> = {}): EntityStatementClaims {
  const c = structuredClone(S[name]!);
  c.jwks = jwksOf(c.sub);
  return { ...c, ...patch };
}
let anchors: TrustAnchor[];

async function chain(p: { leaf?: Partial<EntityStatementClaims>; umu?: Partial<EntityStatementClaims>; swamid?: Partial<EntityStatementClaims>; edugain?: Partial<EntityStatementClaims>; leafSigner?: string } = {}) {
  return [
    await sign(claims('A.2.1 op.umu.se configuration', p.leaf), p.leafSigner ?? 'https://op.umu.se'),
    await sign(claims('A.2.3 umu.se about op.umu.se', p.umu), 'https://umu.se'),
    await sign(claims('A.2.5 swamid.se about umu.se', p.swamid), 'https://swamid.se'),
    await sign(claims('A.2.7 edugain.geant.org about swamid.se', p.edugain), 'https://edugain.geant.org'),
  ];
}
const codeOf = async (p: Promise<unknown>) => p.then(() => 'no error', (e: { code?: string }) => e.code);

function normalise(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(normalise).map((y) => JSON.stringify(y)).sort();
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, normalise(y)]));
  return x;
}

beforeAll(async () => {
  for (const id of [...ids, 'https://rogue.example']) keys.set(id, await makeKey(`k-${new URL(id).hostname}`));
  anchors = [{ entityId: 'https://edugain.geant.org', jwks: jwksOf('https://edugain.geant.org') }];
});

describe('Appendix A.2 trust chain', () => {
  it('validates to the printed OP resolved metadata (A.2.8)', async () => {
    const r = await validateTrustChain(await chain(), anchors, NOW);
    expect(normalise(r.metadata)).toEqual(normalise(v.resolvedMetadata));
    expect(r.path).toEqual(ids);
    expect(r.trustAnchor).toBe('https://edugain.geant.org');
    expect(r.exp).toBe(1568397247);
    expect(r.jwks).toEqual(jwksOf('https://op.umu.se'));
  });
  it('accepts the anchor\'s own Entity Configuration as the last link (A.2.6)', async () => {
    const c = [...await chain(), await sign(claims('A.2.6 edugain.geant.org configuration'), 'https://edugain.geant.org')];
    expect((await validateTrustChain(c, anchors, NOW)).path).toEqual(ids);
  });
  it('is untrusted without that anchor configured', async () => {
    expect(await codeOf(validateTrustChain(await chain(), [{ entityId: 'https://swamid.example', jwks: jwksOf('https://swamid.se') }], NOW))).toBe('FEDERATION_UNTRUSTED');
  });
  it('fails on a statement signed by a key the superior does not vouch for', async () => {
    expect(await codeOf(validateTrustChain(await chain({ leafSigner: 'https://rogue.example' }), anchors, NOW))).toBe('FEDERATION_SIGNATURE_INVALID');
    // An anchor statement signed with another key than the configured one.
    const c = await chain();
    c[3] = await sign(claims('A.2.7 edugain.geant.org about swamid.se'), 'https://rogue.example');
    expect(await codeOf(validateTrustChain(c, anchors, NOW))).toBe('FEDERATION_SIGNATURE_INVALID');
  });
  it('fails on a tampered statement', async () => {
    const c = await chain();
    const [h, , s] = c[1]!.split('.');
    const body = JSON.parse(Buffer.from(c[1]!.split('.')[1]!, 'base64url').toString());
    body.metadata_policy.openid_provider.subject_types_supported.value = ['public'];
    c[1] = `${h}.${Buffer.from(JSON.stringify(body)).toString('base64url')}.${s}`;
    expect(await codeOf(validateTrustChain(c, anchors, NOW))).toBe('FEDERATION_SIGNATURE_INVALID');
  });
  it('fails when a statement has expired or is issued in the future', async () => {
    expect(await codeOf(validateTrustChain(await chain(), anchors, 1568397247))).toBe('FEDERATION_CHAIN_EXPIRED');
    expect(await codeOf(validateTrustChain(await chain({ swamid: { exp: NOW - 1 } }), anchors, NOW))).toBe('FEDERATION_CHAIN_EXPIRED');
    expect(await codeOf(validateTrustChain(await chain({ umu: { iat: NOW + 3600 } }), anchors, NOW))).toBe('FEDERATION_CHAIN_EXPIRED');
  });
  it('fails on a broken chain (a link about another entity, a missing link)', async () => {
    const c = await chain();
    expect(await codeOf(validateTrustChain([c[0]!, c[2]!, c[3]!], anchors, NOW))).toBe('FEDERATION_UNTRUSTED');
    expect(await codeOf(validateTrustChain(await chain({ swamid: { sub: 'https://other.umu.se' } }), anchors, NOW))).toBe('FEDERATION_UNTRUSTED');
  });
  it('fails when the leaf metadata violates the policy', async () => {
    const leaf = structuredClone(S['A.2.1 op.umu.se configuration']!);
    leaf.metadata!.openid_provider!.token_endpoint_auth_methods_supported = ['client_secret_basic'];
    expect(await codeOf(validateTrustChain(await chain({ leaf: { metadata: leaf.metadata } }), anchors, NOW))).toBe('FEDERATION_POLICY_VIOLATION');
  });
  it('fails when tiers set conflicting policies, or a critical operator is unknown', async () => {
    const pol = { openid_provider: { organization_name: { value: 'Someone else' } } };
    expect(await codeOf(validateTrustChain(await chain({ swamid: { metadata_policy: pol } }), anchors, NOW))).toBe('FEDERATION_POLICY_INVALID');
    const crit = { openid_provider: { contacts: { regexp: '^ops@' } } };
    expect(await codeOf(validateTrustChain(await chain({ edugain: { metadata_policy: crit, metadata_policy_crit: ['regexp'] } }), anchors, NOW))).toBe('FEDERATION_POLICY_INVALID');
    // Not critical: ignored.
    expect((await validateTrustChain(await chain({ edugain: { metadata_policy: crit } }), anchors, NOW)).entityId).toBe('https://op.umu.se');
  });
  it('refuses a crit claim it does not understand, and a wrong typ', async () => {
    expect(await codeOf(validateTrustChain(await chain({ leaf: { crit: ['jti_policy'], jti_policy: 'x' } }), anchors, NOW))).toBe('FEDERATION_STATEMENT_INVALID');
    const c = await chain();
    c[0] = await signStatement(claims('A.2.1 op.umu.se configuration'), keys.get('https://op.umu.se')!.signer, 'JWT');
    expect(await codeOf(validateTrustChain(c, anchors, NOW))).toBe('FEDERATION_STATEMENT_INVALID');
  });
  it('applies max_path_length as in 6.2.1', async () => {
    // Four statements: LE, I1 = umu.se, I2 = swamid.se, TA = edugain.
    const ok = async (p: Parameters<typeof chain>[0]) => (await validateTrustChain(await chain(p), anchors, NOW)).entityId;
    await expect(ok({ edugain: { constraints: { max_path_length: 2 } } })).resolves.toBe('https://op.umu.se');
    await expect(ok({ edugain: { constraints: { max_path_length: 2 } }, swamid: { constraints: { max_path_length: 1 } } })).resolves.toBe('https://op.umu.se');
    await expect(ok({ umu: { constraints: { max_path_length: 0 } } })).resolves.toBe('https://op.umu.se');
    expect(await codeOf(ok({ edugain: { constraints: { max_path_length: 1 } } }))).toBe('FEDERATION_CONSTRAINT_VIOLATION');
  });
  it('applies naming_constraints to every subordinate below the issuer (RFC 5280 domain constraints)', async () => {
    const nc = (permitted: string[], excluded: string[] = []) => ({ constraints: { naming_constraints: { permitted, excluded } } });
    await expect(validateTrustChain(await chain({ edugain: nc(['swamid.se', 'umu.se', '.umu.se']) }), anchors, NOW)).resolves.toBeTruthy();
    expect(await codeOf(validateTrustChain(await chain({ edugain: nc(['.se']) }), anchors, NOW))).toBe('no error');
    expect(await codeOf(validateTrustChain(await chain({ swamid: nc(['.umu.se']) }), anchors, NOW))).toBe('FEDERATION_CONSTRAINT_VIOLATION'); // umu.se itself is not below .umu.se
    expect(await codeOf(validateTrustChain(await chain({ edugain: nc(['.se'], ['op.umu.se']) }), anchors, NOW))).toBe('FEDERATION_CONSTRAINT_VIOLATION');
  });
  it('removes entity types that allowed_entity_types does not list', async () => {
    const r = await validateTrustChain(await chain({ swamid: { constraints: { allowed_entity_types: ['openid_relying_party'] } } }), anchors, NOW);
    expect(r.metadata.openid_provider).toBeUndefined();
  });
});

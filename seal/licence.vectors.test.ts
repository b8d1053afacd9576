/**
 * seal.vectors: known-answer test on the fixed hierarchy in seal/testdata/ (made by
 * seal/testdata/generate.ts). RS256 is deterministic: re-sealing the same credential with the
 * same key at the same time must give the stored JWS byte for byte, and the stored JWS must
 * verify. A change in claim order, header or encoding shows up here first.
 */
import { describe, expect, it } from '@jest/globals';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { buildLicenceCredential, readTrustBundle, signLicence, verifyLicence } from './index.ts';
import { decodeJws } from './testing/hierarchy.ts';
import { VECTOR_FIELDS, VECTOR_SIGNED_AT } from './testing/vectors.ts';

const read = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8');
const root = read('root.pem');
const ca = read('ca.pem');
const seal = read('seal.pem');
const key = createPrivateKey(read('seal.key.pem'));
const expected = read('licence.jws').trim();

describe('seal.vectors', () => {
  it('re-sealing the vector credential gives the stored JWS byte for byte', async () => {
    const jws = await signLicence(buildLicenceCredential(VECTOR_FIELDS), { privateKey: key, chainPem: [seal, ca] }, VECTOR_SIGNED_AT);
    expect(jws).toBe(expected);
  });

  it('the stored JWS has the documented header and claims', () => {
    const { header, payload } = decodeJws(expected);
    expect(Object.keys(header)).toEqual(['alg', 'typ', 'x5c']);
    expect(header).toMatchObject({ alg: 'RS256', typ: 'vc+jwt' });
    expect((header.x5c as string[]).length).toBe(2);
    expect(payload).toEqual({
      ...buildLicenceCredential(VECTOR_FIELDS),
      iss: 'urn:uscc:11330100MB0000002W',
      jti: `urn:yiwang:licence:${VECTOR_FIELDS.identifier}`,
      iat: VECTOR_SIGNED_AT.getTime() / 1000,
    });
  });

  it('the stored JWS verifies against the stored root', async () => {
    const r = await verifyLicence(expected, { trustAnchorsPem: readTrustBundle(root), now: new Date('2030-01-01T00:00:00Z') });
    expect(r).toMatchObject({ valid: true, holder: { name: '张三' }, issuer: { code: '11330100MB0000002W' }, signedAt: VECTOR_SIGNED_AT });
  });
});

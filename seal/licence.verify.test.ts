/**
 * seal.verify: a sealed licence verifies, and each way of breaking one is reported with its
 * own code (kernel/errors.ts LICENCE_*), never as an exception.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { KeyObject } from 'node:crypto';
import { AppError } from '../kernel/errors.ts';
import { formatLicenceId, parseLicenceId } from '../kernel/ids.ts';
import {
  buildLicenceCredential, describeCertificate, issueCa, issueSealCertificate, signLicence, verifyLicence,
  type CertifiedKey, type RevocationCheck, type VerifyResult,
} from './index.ts';
import { OID_KP_DOCUMENT_SIGNING } from './lib/oids.ts';
import { randomSerialHex } from './certificates/serial.ts';
import { buildCertificate, type CertificateSpec } from './x509/index.ts';
import {
  b64json, decodeJws, HANGZHOU_HRSS, HANGZHOU_SAMR, licenceFields, makeHierarchy, rsaKey, sealRaw, timestamperAt, x5c, type Hierarchy,
} from './testing/hierarchy.ts';

const ISSUED = new Date('2026-01-01T00:00:00Z');
const SIGNED = new Date('2026-03-01T09:30:00Z');
const CHECKED = new Date('2026-06-01T00:00:00Z');

let h: Hierarchy;
let foreign: Hierarchy;
let good: string;
/** The good licence with a platform timestamp (the seal certificate expires before the licence). */
let stampedGood: string;

/** A certificate under `issuer` with a hand-made profile (what a careless CA could produce). */
function oddCertificate(issuer: CertifiedKey, key: KeyObject, spec: Partial<CertificateSpec>): string {
  return buildCertificate({
    subject: { commonName: '异常证书', organization: HANGZHOU_SAMR.name, organizationIdentifier: HANGZHOU_SAMR.code },
    publicKey: key,
    signingKey: issuer.privateKey,
    issuerCertPem: issuer.certPem,
    serialHex: randomSerialHex(),
    notBefore: ISSUED,
    notAfter: new Date('2027-01-01T00:00:00Z'),
    basicConstraints: { cA: false },
    keyUsage: ['digitalSignature', 'nonRepudiation'],
    extKeyUsage: [OID_KP_DOCUMENT_SIGNING],
    ...spec,
  });
}

async function check(jws: string, o: { now?: Date; anchors?: string[]; revoked?: RevocationCheck } = {}): Promise<VerifyResult> {
  return verifyLicence(jws, { trustAnchorsPem: o.anchors ?? [h.root.certPem], now: o.now ?? CHECKED, isCertificateRevoked: o.revoked });
}

async function reason(jws: string, o?: Parameters<typeof check>[1]): Promise<string> {
  const r = await check(jws, o);
  if (r.valid) throw new Error('expected an invalid licence');
  expect(r.message).toMatch(/[\u4e00-\u9fff].*\/ [a-zA-Z]/); // zh-CN first, then English
  return r.reason;
}

/** Re-seal the good licence's payload (optionally altered) with a given key and header. */
async function reseal(o: { key?: KeyObject; chain?: string[]; payload?: (p: Record<string, unknown>) => Record<string, unknown> }): Promise<string> {
  const { payload } = decodeJws(good);
  return sealRaw(
    { alg: 'RS256', typ: 'vc+jwt', x5c: x5c(o.chain ?? h.chain) },
    o.payload ? o.payload({ ...payload }) : payload,
    o.key ?? h.seal.privateKey,
  );
}

beforeAll(async () => {
  h = makeHierarchy(ISSUED);
  foreign = makeHierarchy(ISSUED); // same names, other keys: a look-alike national root
  good = await signLicence(buildLicenceCredential(licenceFields()), { privateKey: h.seal.privateKey, chainPem: h.chain }, SIGNED);
  stampedGood = await signLicence(buildLicenceCredential(licenceFields()), { privateKey: h.seal.privateKey, chainPem: h.chain }, SIGNED,
    { timestamper: timestamperAt(h, SIGNED) });
});

describe('seal.verify round trip', () => {
  it('verifies a sealed licence and returns who holds and who issued it', async () => {
    const r = await check(good);
    if (!r.valid) throw new Error(`${r.reason}: ${r.message}`);
    expect(r.holder).toEqual({ name: '张三', code: '33010619900101123X' });
    expect(r.issuer).toEqual({ name: HANGZHOU_SAMR.name, code: HANGZHOU_SAMR.code });
    expect(r.signedAt).toEqual(SIGNED);
    expect(r.sealSubject).toContain(`organizationIdentifier=${HANGZHOU_SAMR.code}`);
    expect(r.credential).toEqual(buildLicenceCredential(licenceFields()));
    expect(r.credential).not.toHaveProperty('iss');
  });

  it('accepts the root inside x5c, surrounding whitespace, and a provincial CA as the anchor', async () => {
    const withRoot = await signLicence(buildLicenceCredential(licenceFields()), { privateKey: h.seal.privateKey, chainPem: [...h.chain, h.root.certPem] }, SIGNED);
    expect((await check(withRoot)).valid).toBe(true);
    expect((await check(`\n  ${good}\n`)).valid).toBe(true);
    const sealOnly = await reseal({ chain: [h.seal.certPem] });
    expect((await check(sealOnly, { anchors: [h.ca.certPem] })).valid).toBe(true);
    expect((await check(good, { anchors: [foreign.root.certPem, h.root.certPem] })).valid).toBe(true);
  });

  it('throws CONFIG_INVALID (a verifier fault, not a verdict) without trust anchors', async () => {
    await expect(verifyLicence(good, { trustAnchorsPem: [] })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(verifyLicence(good, { trustAnchorsPem: ['garbage'] })).rejects.toBeInstanceOf(AppError);
  });
});

describe('seal.verify malformed and unsigned', () => {
  it.each([
    ['empty', () => ''],
    ['plain text', () => 'this is not a licence'],
    ['two parts', () => 'eyJhbGciOiJSUzI1NiJ9.e30'],
    ['four parts', () => `${good}.x`],
    ['header not base64url', () => `%%%.${good.split('.')[1]}.${good.split('.')[2]}`],
    ['header not JSON', () => `${Buffer.from('nope').toString('base64url')}.e30.c2ln`],
    ['header a JSON array', () => `${b64json([1])}.e30.c2ln`],
    ['payload not JSON', () => `${good.split('.')[0]}.${Buffer.from('{').toString('base64url')}.${good.split('.')[2]}`],
  ])('garbage (%s) is LICENCE_MALFORMED', async (_, jws) => {
    expect(await reason(jws())).toBe('LICENCE_MALFORMED');
  });

  it('a header swapped to HS256, a wrong typ or a crit header is LICENCE_MALFORMED', async () => {
    const [, p, s] = good.split('.');
    const { header } = decodeJws(good);
    expect(await reason(`${b64json({ ...header, alg: 'HS256' })}.${p}.${s}`)).toBe('LICENCE_MALFORMED');
    expect(await reason(`${b64json({ ...header, typ: 'JWT' })}.${p}.${s}`)).toBe('LICENCE_MALFORMED');
    expect(await reason(`${b64json({ ...header, crit: ['b64'], b64: false })}.${p}.${s}`)).toBe('LICENCE_MALFORMED');
  });

  it('a correctly sealed payload that lacks a claim is LICENCE_MALFORMED', async () => {
    for (const drop of ['iss', 'iat', 'jti', 'issuer', 'validFrom', 'credentialSubject']) {
      const jws = await reseal({ payload: (p) => { delete p[drop]; return p; } });
      expect([drop, await reason(jws)]).toEqual([drop, 'LICENCE_MALFORMED']);
    }
    const noHolder = await reseal({ payload: (p) => {
      const cs = p.credentialSubject as { licence: Record<string, unknown> };
      return { ...p, credentialSubject: { ...cs, licence: { ...cs.licence, holderName: '' } } };
    } });
    expect(await reason(noHolder)).toBe('LICENCE_MALFORMED');
    expect(await reason(await reseal({ payload: (p) => ({ ...p, jti: 'urn:other' }) }))).toBe('LICENCE_MALFORMED');
  });

  it('alg none or an empty signature is LICENCE_UNSIGNED', async () => {
    const [, p, s] = good.split('.');
    const { header } = decodeJws(good);
    expect(await reason(`${b64json({ ...header, alg: 'none' })}.${p}.`)).toBe('LICENCE_UNSIGNED');
    expect(await reason(`${b64json({ ...header, alg: 'none' })}.${p}.${s}`)).toBe('LICENCE_UNSIGNED');
    expect(await reason(`${good.split('.').slice(0, 2).join('.')}.`)).toBe('LICENCE_UNSIGNED');
  });
});

describe('seal.verify signature', () => {
  it('an edited payload is LICENCE_BAD_SIGNATURE', async () => {
    const { header, payload, signature } = decodeJws(good);
    const cs = payload.credentialSubject as { licence: Record<string, unknown> };
    const edited = { ...payload, credentialSubject: { ...cs, licence: { ...cs.licence, holderName: '李四' } } };
    expect(await reason(`${b64json(header)}.${b64json(edited)}.${signature}`)).toBe('LICENCE_BAD_SIGNATURE');
  });

  it('a signature by another key under the genuine chain is LICENCE_BAD_SIGNATURE', async () => {
    expect(await reason(await reseal({ key: rsaKey() }))).toBe('LICENCE_BAD_SIGNATURE');
  });
});

describe('seal.verify chain', () => {
  it('no x5c, an unparsable or truncated certificate, or a missing link is LICENCE_BROKEN_CHAIN', async () => {
    const { header, payload } = decodeJws(good);
    const { x5c: _drop, ...noX5c } = header;
    expect(await reason(await sealRaw(noX5c, payload, h.seal.privateKey))).toBe('LICENCE_BROKEN_CHAIN');
    expect(await reason(await sealRaw({ ...header, x5c: [] }, payload, h.seal.privateKey))).toBe('LICENCE_BROKEN_CHAIN');
    const [leaf, ca] = x5c(h.chain) as [string, string];
    const cut = leaf.slice(0, 400); // valid base64, truncated DER
    expect(await reason(await sealRaw({ ...header, x5c: [cut, ca] }, payload, h.seal.privateKey))).toBe('LICENCE_BROKEN_CHAIN');
    expect(await reason(await sealRaw({ ...header, x5c: ['***', ca] }, payload, h.seal.privateKey))).toBe('LICENCE_BROKEN_CHAIN');
    // the provincial CA left out: the seal certificate is not issued by the root
    expect(await reason(await reseal({ chain: [h.seal.certPem, h.root.certPem] }))).toBe('LICENCE_BROKEN_CHAIN');
  });

  it('a certificate signed with SHA-1 is LICENCE_BROKEN_CHAIN', async () => {
    const key = rsaKey();
    const sha1Seal = oddCertificate(h.ca, key, { digest: 'sha1' });
    expect(await reason(await reseal({ key, chain: [sha1Seal, h.ca.certPem] }))).toBe('LICENCE_BROKEN_CHAIN');
  });

  it('a chain truncated to the seal certificate does not reach the root: LICENCE_UNKNOWN_ISSUER', async () => {
    expect(await reason(await reseal({ chain: [h.seal.certPem] }))).toBe('LICENCE_UNKNOWN_ISSUER');
  });

  it('a chain from a look-alike foreign root is LICENCE_UNKNOWN_ISSUER, with or without that root in x5c', async () => {
    const foreignLicence = await signLicence(buildLicenceCredential(licenceFields()), { privateKey: foreign.seal.privateKey, chainPem: foreign.chain }, SIGNED);
    expect(await reason(foreignLicence)).toBe('LICENCE_UNKNOWN_ISSUER');
    const withRoot = await reseal({ key: foreign.seal.privateKey, chain: [...foreign.chain, foreign.root.certPem] });
    expect(await reason(withRoot)).toBe('LICENCE_UNKNOWN_ISSUER');
  });
});

describe('seal.verify key usage', () => {
  it('a seal certificate without id-kp-documentSigning is LICENCE_WRONG_KEY_USAGE', async () => {
    const key = rsaKey();
    const cert = oddCertificate(h.ca, key, { extKeyUsage: ['1.3.6.1.5.5.7.3.4'] }); // emailProtection only
    expect(await reason(await reseal({ key, chain: [cert, h.ca.certPem] }))).toBe('LICENCE_WRONG_KEY_USAGE');
    const noEku = oddCertificate(h.ca, key, { extKeyUsage: null });
    expect(await reason(await reseal({ key, chain: [noEku, h.ca.certPem] }))).toBe('LICENCE_WRONG_KEY_USAGE');
  });

  it('a seal certificate without digitalSignature/nonRepudiation, or that is a CA, is LICENCE_WRONG_KEY_USAGE', async () => {
    const key = rsaKey();
    const encipherOnly = oddCertificate(h.ca, key, { keyUsage: ['keyEncipherment'] });
    expect(await reason(await reseal({ key, chain: [encipherOnly, h.ca.certPem] }))).toBe('LICENCE_WRONG_KEY_USAGE');
    const caLeaf = oddCertificate(h.ca, key, { basicConstraints: { cA: true } });
    expect(await reason(await reseal({ key, chain: [caLeaf, h.ca.certPem] }))).toBe('LICENCE_WRONG_KEY_USAGE');
  });

  it('a CA certificate without cA=true or without keyCertSign is LICENCE_WRONG_KEY_USAGE', async () => {
    for (const spec of [{ basicConstraints: { cA: false } }, { basicConstraints: null }, { keyUsage: ['cRLSign' as const] }]) {
      const notCa: CertifiedKey = {
        privateKey: rsaKey(),
        certPem: '',
      };
      notCa.certPem = buildCertificate({
        subject: { commonName: '伪CA', regionCode: '330000' },
        publicKey: notCa.privateKey,
        signingKey: h.root.privateKey,
        issuerCertPem: h.root.certPem,
        serialHex: randomSerialHex(),
        notBefore: ISSUED,
        notAfter: new Date('2030-01-01T00:00:00Z'),
        basicConstraints: { cA: true },
        keyUsage: ['keyCertSign', 'cRLSign'],
        extKeyUsage: null,
        ...spec,
      });
      const s = issueSealCertificate(notCa, { agencyName: HANGZHOU_SAMR.name, agencyCode: HANGZHOU_SAMR.code, sealName: '章', now: ISSUED });
      const jws = await reseal({ key: s.privateKey, chain: [s.certPem, notCa.certPem] });
      expect([spec, await reason(jws)]).toEqual([spec, 'LICENCE_WRONG_KEY_USAGE']);
    }
  });

  it('a CA below a pathLen 0 CA is LICENCE_WRONG_KEY_USAGE', async () => {
    const sub = issueCa(h.ca, { commonName: '杭州市电子印章CA', regionCode: '330100', now: ISSUED });
    const s = issueSealCertificate(sub, { agencyName: HANGZHOU_SAMR.name, agencyCode: HANGZHOU_SAMR.code, sealName: '章', now: ISSUED });
    expect(await reason(await reseal({ key: s.privateKey, chain: [s.certPem, sub.certPem, h.ca.certPem] }))).toBe('LICENCE_WRONG_KEY_USAGE');
  });
});

describe('seal.verify time and status', () => {
  it('a seal certificate expired (or not yet valid) at signing time is LICENCE_CERT_NOT_VALID_AT_SIGNING', async () => {
    const shortSeal = issueSealCertificate(h.ca, { agencyName: HANGZHOU_SAMR.name, agencyCode: HANGZHOU_SAMR.code, sealName: '章', now: ISSUED, years: 1 });
    const chain = [shortSeal.certPem, h.ca.certPem];
    const at = (iso: string) => reseal({ key: shortSeal.privateKey, chain, payload: (p) => ({ ...p, iat: Date.parse(iso) / 1000 }) });
    // Timestamped while the seal was valid: still valid after the seal expired (R-LI-1).
    const stamped = await signLicence(buildLicenceCredential(licenceFields()), { privateKey: shortSeal.privateKey, chainPem: chain },
      new Date('2026-12-31T00:00:00Z'), { timestamper: timestamperAt(h, new Date('2026-12-31T00:00:00Z')) });
    expect((await check(stamped, { now: new Date('2027-06-01T00:00:00Z') })).valid).toBe(true);
    // The same claim without a timestamp is only the signer's word once the seal has expired.
    expect(await reason(await at('2026-12-31T00:00:00Z'), { now: new Date('2027-06-01T00:00:00Z') })).toBe('LICENCE_TIMESTAMP_REQUIRED');
    expect((await check(await at('2026-12-31T00:00:00Z'), { now: new Date('2026-12-31T12:00:00Z') })).valid).toBe(true);
    expect(await reason(await at('2027-01-02T00:00:00Z'), { now: new Date('2027-06-01T00:00:00Z') })).toBe('LICENCE_CERT_NOT_VALID_AT_SIGNING');
    expect(await reason(await at('2025-12-31T00:00:00Z'))).toBe('LICENCE_CERT_NOT_VALID_AT_SIGNING');
  });

  it('signLicence itself refuses to seal with a certificate not valid now', async () => {
    await expect(signLicence(buildLicenceCredential(licenceFields()), { privateKey: h.seal.privateKey, chainPem: h.chain }, new Date('2040-01-01T00:00:00Z')))
      .rejects.toMatchObject({ code: 'LICENCE_CERT_NOT_VALID_AT_SIGNING' });
  });

  it('a certificate the callback calls revoked is LICENCE_CERT_REVOKED, asked by serial and issuer', async () => {
    const asked: Array<[string, string]> = [];
    const seal = describeCertificate(h.seal.certPem);
    const r = await reason(good, { revoked: (serial, issuer) => { asked.push([serial, issuer]); return serial === seal.serialHex && issuer === seal.issuer; } });
    expect(r).toBe('LICENCE_CERT_REVOKED');
    expect(asked[0]).toEqual([seal.serialHex, seal.issuer]);
    const ca = describeCertificate(h.ca.certPem);
    expect(await reason(good, { revoked: async (serial) => serial === ca.serialHex })).toBe('LICENCE_CERT_REVOKED');
    expect((await check(good, { revoked: () => false })).valid).toBe(true);
  });

  it('a licence before validFrom is LICENCE_NOT_YET_VALID, after validUntil LICENCE_EXPIRED', async () => {
    expect(await reason(good, { now: new Date('2026-02-28T23:59:59Z') })).toBe('LICENCE_NOT_YET_VALID');
    expect(await reason(stampedGood, { now: new Date('2031-03-01T00:00:00Z') })).toBe('LICENCE_EXPIRED');
    expect((await check(stampedGood, { now: new Date('2031-02-28T23:59:59Z') })).valid).toBe(true);
    const endless = await signLicence(buildLicenceCredential(licenceFields({ validUntil: null })), { privateKey: h.seal.privateKey, chainPem: h.chain }, SIGNED,
      { timestamper: timestamperAt(h, SIGNED) });
    expect((await check(endless, { now: new Date('2045-01-01T00:00:00Z') })).valid).toBe(true);
  });

  it('a licence signed in the future is LICENCE_NOT_YET_VALID; an exp in the past LICENCE_EXPIRED', async () => {
    expect(await reason(good, { now: new Date('2026-03-01T09:00:00Z') })).toBe('LICENCE_NOT_YET_VALID');
    const withExp = await reseal({ payload: (p) => ({ ...p, exp: Date.parse('2026-05-01T00:00:00Z') / 1000 }) });
    expect(await reason(withExp)).toBe('LICENCE_EXPIRED');
  });
});

describe('seal.verify issuer', () => {
  it('a licence of one agency sealed with another agency\'s seal is LICENCE_ISSUER_MISMATCH', async () => {
    const other = issueSealCertificate(h.ca, { agencyName: HANGZHOU_HRSS.name, agencyCode: HANGZHOU_HRSS.code, sealName: '人社章', now: ISSUED });
    expect(await reason(await reseal({ key: other.privateKey, chain: [other.certPem, h.ca.certPem] }))).toBe('LICENCE_ISSUER_MISMATCH');
    await expect(signLicence(buildLicenceCredential(licenceFields()), { privateKey: other.privateKey, chainPem: [other.certPem, h.ca.certPem] }, SIGNED))
      .rejects.toMatchObject({ code: 'LICENCE_ISSUER_MISMATCH' });
  });

  it('iss different from issuer.id, or a licence issuerCode different from the seal\'s, is LICENCE_ISSUER_MISMATCH', async () => {
    expect(await reason(await reseal({ payload: (p) => ({ ...p, iss: `urn:uscc:${HANGZHOU_HRSS.code}` }) }))).toBe('LICENCE_ISSUER_MISMATCH');
    const otherCode = await reseal({ payload: (p) => {
      const cs = p.credentialSubject as { licence: Record<string, unknown> };
      // The identifier names the issuing agency too (gap B): keep it consistent so only the seal disagrees.
      const id = parseLicenceId(cs.licence.identifier as string)!;
      const identifier = formatLicenceId({ ...id, agencyCode: HANGZHOU_HRSS.code });
      return { ...p, credentialSubject: { ...cs, licence: { ...cs.licence, identifier, issuerCode: HANGZHOU_HRSS.code } } };
    } });
    expect(await reason(otherCode)).toBe('LICENCE_ISSUER_MISMATCH');
  });

  it('a licence naming another agency than the seal certificate\'s organizationName (same credit code) is refused when sealed and when verified', async () => {
    const renamed = buildLicenceCredential(licenceFields({ issuerName: HANGZHOU_HRSS.name }));
    await expect(signLicence(renamed, { privateKey: h.seal.privateKey, chainPem: h.chain }, SIGNED)).rejects.toMatchObject({ code: 'LICENCE_ISSUER_MISMATCH' });
    expect(await reason(await reseal({ payload: (p) => ({ ...p, issuer: { ...(p.issuer as object), name: HANGZHOU_HRSS.name } }) }))).toBe('LICENCE_ISSUER_MISMATCH');
    const r = await verifyLicence(good, { trustAnchorsPem: [h.root.certPem], now: SIGNED });
    expect(r.valid && [r.issuer.name, r.credential.credentialSubject.licence.issuerName]).toEqual([HANGZHOU_SAMR.name, HANGZHOU_SAMR.name]);
  });
});

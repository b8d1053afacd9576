/**
 * seal.certificates: the national root → provincial CA → agency seal hierarchy has the
 * profile the verifier (and any RFC 5280 path validator) expects.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { createRootCa, describeCertificate, issueCa, issueSealCertificate } from './index.ts';
import { OID_KP_DOCUMENT_SIGNING } from './lib/oids.ts';
import { inspectCertificate } from './x509/index.ts';
import { HANGZHOU_SAMR, makeHierarchy, type Hierarchy } from './testing/hierarchy.ts';

const NOW = new Date('2026-01-01T00:00:00.750Z');
let h: Hierarchy;
const x509 = (pem: string) => new X509Certificate(pem);

beforeAll(() => {
  h = makeHierarchy(NOW);
});

describe('seal.certificates profile', () => {
  it('the root is self-signed RSA 3072, cA critical, keyCertSign + cRLSign, SHA-256', () => {
    const root = x509(h.root.certPem);
    expect(root.checkIssued(root)).toBe(true);
    expect(root.verify(root.publicKey)).toBe(true);
    expect(root.publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
    const p = inspectCertificate(root.raw);
    expect(p.signatureAlgorithm).toBe('1.2.840.113549.1.1.11');
    expect(p.basicConstraints).toEqual({ cA: true, pathLen: null });
    expect([...p.keyUsage ?? []].sort()).toEqual(['cRLSign', 'keyCertSign']);
    expect(p.criticalExtensions).toEqual(expect.arrayContaining(['2.5.29.19', '2.5.29.15']));
    expect(root.subject).toContain('CN=国家政务服务电子印章根CA');
  });

  it('the provincial CA is issued by the root with its pathLen and region', () => {
    const ca = x509(h.ca.certPem);
    expect(ca.checkIssued(x509(h.root.certPem))).toBe(true);
    expect(ca.verify(x509(h.root.certPem).publicKey)).toBe(true);
    expect(ca.publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
    expect(inspectCertificate(ca.raw).basicConstraints).toEqual({ cA: true, pathLen: 0 });
    expect(ca.subject).toContain('ST=330000');
  });

  it('the seal certificate names the agency and its credit code and is good only for document signing', () => {
    const seal = x509(h.seal.certPem);
    expect(seal.checkIssued(x509(h.ca.certPem))).toBe(true);
    expect(seal.verify(x509(h.ca.certPem).publicKey)).toBe(true);
    expect(seal.verify(x509(h.root.certPem).publicKey)).toBe(false);
    expect(seal.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const p = inspectCertificate(seal.raw);
    expect(p.organizationIdentifier).toBe(HANGZHOU_SAMR.code);
    expect(p.basicConstraints).toEqual({ cA: false, pathLen: null });
    expect([...p.keyUsage ?? []].sort()).toEqual(['digitalSignature', 'nonRepudiation']);
    expect(p.extKeyUsage).toEqual([OID_KP_DOCUMENT_SIGNING]);
    expect(p.criticalExtensions).toContain('2.5.29.15');
    expect(seal.ca).toBe(false);
    expect(seal.subject.split('\n')).toEqual(['C=CN', `O=${HANGZHOU_SAMR.name}`, `organizationIdentifier=${HANGZHOU_SAMR.code}`, `CN=${HANGZHOU_SAMR.name}电子证照专用章`]);
  });

  it('serial numbers are random and positive; the private key matches the certificate', () => {
    const serials = [h.root, h.ca, h.seal].map((c) => describeCertificate(c.certPem).serialHex);
    expect(new Set(serials).size).toBe(3);
    for (const s of serials) expect(parseInt(s.slice(0, 2), 16)).toBeLessThan(0x80);
    for (const c of [h.root, h.ca, h.seal]) expect(x509(c.certPem).checkPrivateKey(c.privateKey)).toBe(true);
  });

  it('validity starts at the issuing second and never outlives the issuer', () => {
    const seal = describeCertificate(h.seal.certPem);
    expect(seal.notBefore).toEqual(new Date('2026-01-01T00:00:00Z'));
    expect(seal.notAfter).toEqual(new Date('2031-01-01T00:00:00Z'));
    const longSeal = issueSealCertificate(h.ca, { agencyName: HANGZHOU_SAMR.name, agencyCode: HANGZHOU_SAMR.code, sealName: '章', now: NOW, years: 30 });
    expect(describeCertificate(longSeal.certPem).notAfter).toEqual(describeCertificate(h.ca.certPem).notAfter);
  });
});

describe('seal.certificates refusals', () => {
  it('refuses agency and seal names with invisible format characters (BAD_INPUT): they would be shown for every licence sealed', () => {
    for (const [agencyName, sealName] of [[`${HANGZHOU_SAMR.name}\u200B`, '章'], ['\u202E局督监场市市州杭', '章'], [HANGZHOU_SAMR.name, '电子\u2066证照专用章']]) {
      expect(() => issueSealCertificate(h.ca, { agencyName: agencyName!, agencyCode: HANGZHOU_SAMR.code, sealName: sealName!, now: NOW }))
        .toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    }
  });

  it('refuses a seal for a credit code with a wrong check character (CREDIT_CODE_INVALID)', () => {
    expect(() => issueSealCertificate(h.ca, { agencyName: '某局', agencyCode: '11330100MB0000002X', sealName: '章', now: NOW }))
      .toThrow(expect.objectContaining({ code: 'CREDIT_CODE_INVALID' }));
  });

  it('refuses empty names, bad years and pathLen, and issuing under an expired CA (BAD_INPUT)', () => {
    expect(() => issueSealCertificate(h.ca, { agencyName: ' ', agencyCode: HANGZHOU_SAMR.code, sealName: '章', now: NOW })).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(() => createRootCa({ commonName: 'x', now: NOW, years: 0 })).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(() => issueCa(h.root, { commonName: 'x', now: NOW, pathLen: -1 })).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(() => issueSealCertificate(h.ca, { agencyName: '某局', agencyCode: HANGZHOU_SAMR.code, sealName: '章', now: new Date('2040-01-01T00:00:00Z') }))
      .toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
  });
});

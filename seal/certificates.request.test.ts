/**
 * seal.certificates request: the external-CA flow's library half — a PKCS #10 request made with
 * node:crypto (OpenSSL-compatible DER, UTF-8 names), its self-signature checked when read, a CA
 * certifying the requested key without ever seeing the private one, and acceptCertifiedChain
 * refusing what must not be installed, each with its own code: a chain under a foreign root,
 * a certificate for another key, one that is not a seal (or not a TSA) certificate, another
 * agency, a broken or expired chain.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { isAppError } from '../kernel/errors.ts';
import {
  acceptCertifiedChain, buildCsr, certifySealKey, certifyTsaKey, CsrSyntaxError, readCsr, samePublicKey, type CertifiedRole,
} from './index.ts';
import { HANGZHOU_HRSS, HANGZHOU_SAMR, makeHierarchy, type Hierarchy } from './testing/hierarchy.ts';

const NOW = new Date('2026-03-01T00:00:00Z');
const AGENCY = { code: HANGZHOU_SAMR.code, name: HANGZHOU_SAMR.name };
let h: Hierarchy;
let key: KeyObject;
let csrPem: string;

beforeAll(() => {
  h = makeHierarchy(NOW);
  key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  csrPem = buildCsr({ subject: { commonName: '电子证照专用章', organization: AGENCY.name, organizationIdentifier: AGENCY.code }, privateKey: key });
});

const pemOf = (...pems: string[]) => pems.join('');
const sealCert = (publicKey: KeyObject, o: Partial<{ agencyName: string; agencyCode: string; now: Date; years: number }> = {}) => certifySealKey(h.ca, {
  agencyName: AGENCY.name, agencyCode: AGENCY.code, sealName: '电子证照专用章', now: NOW, publicKey, ...o,
});

function refusal(f: () => unknown): { code: string; reason?: unknown } {
  try {
    f();
  } catch (e) {
    if (isAppError(e)) return { code: e.code, ...(e.details?.reason ? { reason: e.details.reason } : {}) };
    throw e;
  }
  throw new Error('accepted');
}

describe('seal.certificates request (PKCS #10)', () => {
  it('carries the UTF-8 subject and the public key; its self-signature verifies', () => {
    const r = readCsr(csrPem);
    expect(r.subject).toEqual({ commonName: '电子证照专用章', organization: AGENCY.name, organizationIdentifier: AGENCY.code });
    expect(r.modulusLength).toBe(2048);
    expect(samePublicKey(r.publicKey, key)).toBe(true);
    expect(csrPem).not.toContain('PRIVATE KEY');
  });

  it('a changed byte, text that is not a request, or a request of someone else\'s key signed by another is refused', () => {
    const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 10]! ^= 0x01;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    expect(() => readCsr(tampered)).toThrow(CsrSyntaxError);
    expect(() => readCsr('hello')).toThrow(CsrSyntaxError);
    expect(() => readCsr(h.seal.certPem)).toThrow(CsrSyntaxError);
  });

  it('a CA certifies the requested key: the certificate holds that key, and the private key was never needed', () => {
    const cert = new X509Certificate(sealCert(readCsr(csrPem).publicKey));
    expect(cert.checkPrivateKey(key)).toBe(true);
    expect(cert.verify(new X509Certificate(h.ca.certPem).publicKey)).toBe(true);
  });
});

describe('seal.certificates acceptCertifiedChain', () => {
  const accept = (pem: string, o: { role?: CertifiedRole; publicKey?: KeyObject; agency?: typeof AGENCY | undefined; now?: Date; anchors?: string[] } = {}) => acceptCertifiedChain({
    pem, anchorsPem: o.anchors ?? [h.root.certPem], role: o.role ?? 'seal', publicKey: o.publicKey ?? key, now: o.now ?? NOW,
    agency: 'agency' in o ? o.agency : AGENCY,
  });

  it('accepts the seal certificate with its CA (and with the root too), ending at the configured anchor', () => {
    const seal = sealCert(key);
    const a = accept(pemOf(seal, h.ca.certPem));
    expect(a.chainPem).toEqual([seal, h.ca.certPem]);
    expect(a.path.map((c) => c.cert.subject.split('\n').pop())).toEqual(['CN=电子证照专用章', 'CN=浙江省电子印章CA', 'CN=国家政务服务电子印章根CA']);
    expect(accept(pemOf(seal, h.ca.certPem, h.root.certPem)).chainPem).toHaveLength(3);
  });

  it('a chain under a foreign root (same names) is SEAL_CHAIN_INVALID with LICENCE_UNKNOWN_ISSUER', () => {
    const foreign = makeHierarchy(NOW);
    const seal = certifySealKey(foreign.ca, { agencyName: AGENCY.name, agencyCode: AGENCY.code, sealName: '电子证照专用章', now: NOW, publicKey: key });
    expect(refusal(() => accept(pemOf(seal, foreign.ca.certPem, foreign.root.certPem)))).toEqual({ code: 'SEAL_CHAIN_INVALID', reason: 'LICENCE_UNKNOWN_ISSUER' });
  });

  it('a certificate for another key is SEAL_KEY_MISMATCH', () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    expect(refusal(() => accept(pemOf(sealCert(other), h.ca.certPem)))).toEqual({ code: 'SEAL_KEY_MISMATCH' });
  });

  it('a TSA certificate offered as a seal, or a seal as the TSA, is SEAL_USAGE_INVALID; each is accepted in its own role', () => {
    const tsa = certifyTsaKey(h.root, { commonName: '时间戳服务', now: NOW, publicKey: key });
    expect(refusal(() => accept(pemOf(tsa, h.root.certPem)))).toEqual({ code: 'SEAL_USAGE_INVALID', reason: 'LICENCE_WRONG_KEY_USAGE' });
    expect(accept(pemOf(tsa, h.root.certPem), { role: 'tsa', agency: undefined }).chainPem).toHaveLength(2);
    expect(refusal(() => accept(pemOf(sealCert(key), h.ca.certPem), { role: 'tsa', agency: undefined }))).toEqual({ code: 'SEAL_USAGE_INVALID', reason: 'LICENCE_WRONG_KEY_USAGE' });
  });

  it('a seal certificate of another agency (credit code or name) is SEAL_AGENCY_MISMATCH', () => {
    expect(refusal(() => accept(pemOf(sealCert(key, { agencyCode: HANGZHOU_HRSS.code }), h.ca.certPem)))).toEqual({ code: 'SEAL_AGENCY_MISMATCH' });
    expect(refusal(() => accept(pemOf(sealCert(key, { agencyName: HANGZHOU_HRSS.name }), h.ca.certPem)))).toEqual({ code: 'SEAL_AGENCY_MISMATCH' });
  });

  it('no certificate, an unparsable one, a missing intermediate, or a chain not valid now is SEAL_CHAIN_INVALID', () => {
    expect(refusal(() => accept('no pem here'))).toEqual({ code: 'SEAL_CHAIN_INVALID', reason: 'LICENCE_BROKEN_CHAIN' });
    expect(refusal(() => accept('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'))).toEqual({ code: 'SEAL_CHAIN_INVALID', reason: 'LICENCE_BROKEN_CHAIN' });
    // Without the provincial CA the seal's issuer is not an anchor.
    expect(refusal(() => accept(sealCert(key)))).toEqual({ code: 'SEAL_CHAIN_INVALID', reason: 'LICENCE_UNKNOWN_ISSUER' });
    const seal = sealCert(key, { years: 1 });
    expect(refusal(() => accept(pemOf(seal, h.ca.certPem), { now: new Date('2027-06-01T00:00:00Z') }))).toEqual({ code: 'SEAL_CHAIN_INVALID', reason: 'LICENCE_CERT_NOT_VALID_AT_SIGNING' });
  });
});

/**
 * seal.certificate-chain: an end-entity certificate that secures no licence (an enterprise
 * certificate, R-ID-4) is judged by the same path rules as a seal chain, with the caller's
 * extended key usage; each way of failing is named, never thrown.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { buildCrl, OID_KP_CLIENT_AUTH, verifyCertificateChain, type CertificateChainOptions } from './index.ts';
import { OID_KP_DOCUMENT_SIGNING } from './lib/oids.ts';
import { issueEnterpriseCertificate, makeEnterpriseCa, type EnterpriseCa } from './testing/enterprise.ts';

const NOW = new Date('2026-03-01T00:00:00Z');
const COMPANY = { companyName: '杭州一网示范科技有限公司', creditCode: '91330106MA2B00001Y' };
let ca: EnterpriseCa;
let foreign: EnterpriseCa;

beforeAll(() => {
  ca = makeEnterpriseCa(new Date('2026-01-01T00:00:00Z'));
  foreign = makeEnterpriseCa(new Date('2026-01-01T00:00:00Z'));
});

const opts = (o: Partial<CertificateChainOptions> = {}): CertificateChainOptions => ({ trustAnchorsPem: [ca.root.certPem], purpose: OID_KP_CLIENT_AUTH, at: NOW, ...o });
const reason = async (pem: string, o: Partial<CertificateChainOptions> = {}) => {
  const r = await verifyCertificateChain(pem, opts(o));
  return r.valid ? 'VALID' : r.reason;
};

describe('seal.certificate-chain (enterprise certificates, R-ID-4)', () => {
  it('a certificate of a trusted enterprise CA, with its CA, is valid and names the company', async () => {
    const leaf = issueEnterpriseCertificate(ca.ca, { ...COMPANY, now: new Date('2026-02-01T00:00:00Z') });
    const r = await verifyCertificateChain(`${leaf.certPem}${ca.ca.certPem}`, opts());
    expect(r).toMatchObject({ valid: true, organizationIdentifier: COMPANY.creditCode });
    if (r.valid) expect(r.anchor.fingerprint256).toBe(new X509Certificate(ca.root.certPem).fingerprint256);
  });

  const cases: Array<[string, () => string, string]> = [
    ['no PEM block', () => 'not a certificate', 'LICENCE_BROKEN_CHAIN'],
    ['the CA certificate missing from the chain', () => issueEnterpriseCertificate(ca.ca, { ...COMPANY, now: NOW }).certPem, 'LICENCE_UNKNOWN_ISSUER'],
    ['another CA\'s certificate', () => `${issueEnterpriseCertificate(foreign.ca, { ...COMPANY, now: NOW }).certPem}${foreign.ca.certPem}`, 'LICENCE_UNKNOWN_ISSUER'],
    ['an extended key usage other than the purpose', () => `${issueEnterpriseCertificate(ca.ca, { ...COMPANY, now: NOW, extKeyUsage: [OID_KP_DOCUMENT_SIGNING] }).certPem}${ca.ca.certPem}`, 'LICENCE_WRONG_KEY_USAGE'],
    ['no digitalSignature key usage', () => `${issueEnterpriseCertificate(ca.ca, { ...COMPANY, now: NOW, keyUsage: ['keyEncipherment'] }).certPem}${ca.ca.certPem}`, 'LICENCE_WRONG_KEY_USAGE'],
    ['a CA certificate as the end certificate', () => ca.ca.certPem, 'LICENCE_WRONG_KEY_USAGE'],
    ['expired', () => `${issueEnterpriseCertificate(ca.ca, { ...COMPANY, now: NOW, notBefore: new Date('2026-01-02T00:00:00Z'), days: 10 }).certPem}${ca.ca.certPem}`, 'LICENCE_CERT_NOT_VALID_AT_SIGNING'],
  ];
  it.each(cases)('%s is %s', async (_l, make, expected) => {
    expect(await reason(make())).toBe(expected);
  });

  it('a certificate its CA revoked (CRL) is LICENCE_CERT_REVOKED; the CRL of another CA does not count', async () => {
    const leaf = issueEnterpriseCertificate(ca.ca, { ...COMPANY, now: NOW });
    const entries = [{ serialHex: new X509Certificate(leaf.certPem).serialNumber, revokedAt: NOW, reason: 'keyCompromise' as const }];
    const crl = (by: EnterpriseCa) => buildCrl({ issuerCertPem: by.ca.certPem, issuerKey: by.ca.privateKey, thisUpdate: NOW, nextUpdate: new Date('2026-04-01T00:00:00Z'), crlNumber: 1, entries });
    expect(await reason(`${leaf.certPem}${ca.ca.certPem}`, { crls: [crl(ca)] })).toBe('LICENCE_CERT_REVOKED');
    expect(await reason(`${leaf.certPem}${ca.ca.certPem}`, { crls: [crl(foreign)] })).toBe('VALID');
  });
});

/**
 * seal.crl freshness: seal certificates carry a CRL distribution point and the
 * seal image's SHA-256 (read back, and by OpenSSL-compatible DER); verifyLicence refuses to rule
 * out revocation with a CRL past its nextUpdate, and with requireCrls without any CRL for a
 * certificate that names a distribution point — LICENCE_STATUS_UNAVAILABLE — while a certificate
 * listed even in a stale CRL stays LICENCE_CERT_REVOKED.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { loadCertificate } from './chain/certificate.ts';
import { buildCrl, buildLicenceCredential, issueSealCertificate, signLicence, verifyLicence } from './index.ts';
import { HANGZHOU_SAMR, licenceFields, makeHierarchy, type Hierarchy } from './testing/hierarchy.ts';
import type { CertifiedKey } from './certificates/types.ts';

const NOW = new Date('2026-03-01T08:00:00Z');
const CRL_URL = 'https://licence.example.gov.cn/crl/ca.crl';
const IMAGE = Buffer.from('\x89PNG seal image bytes');
let h: Hierarchy;
let seal: CertifiedKey;
let jws: string;

const crl = (o: { thisUpdate: Date; nextUpdate: Date; revoke?: boolean }) => buildCrl({
  issuerCertPem: h.ca.certPem, issuerKey: h.ca.privateKey, thisUpdate: o.thisUpdate, nextUpdate: o.nextUpdate, crlNumber: o.thisUpdate.getTime() / 1000,
  entries: o.revoke ? [{ serialHex: loadCertificate(seal.certPem).cert.serialNumber, revokedAt: o.thisUpdate, reason: 'keyCompromise' }] : [],
});
const at = (hours: number) => new Date(NOW.getTime() + hours * 3600_000);

beforeAll(async () => {
  h = makeHierarchy(new Date('2026-01-01T00:00:00Z'));
  seal = issueSealCertificate(h.ca, {
    agencyName: HANGZHOU_SAMR.name, agencyCode: HANGZHOU_SAMR.code, sealName: '电子证照专用章', now: new Date('2026-01-01T00:00:00Z'), crlUrl: CRL_URL, sealImage: IMAGE,
  });
  jws = await signLicence(buildLicenceCredential(licenceFields()), { privateKey: seal.privateKey, chainPem: [seal.certPem, h.ca.certPem] }, NOW);
});

describe('seal.crl extensions', () => {
  it('a seal certificate carries its CRL distribution point and the SHA-256 of its seal image; others carry neither', () => {
    const p = loadCertificate(seal.certPem).profile;
    expect(p.crlDistributionPoints).toEqual([CRL_URL]);
    expect(p.sealImageSha256).toBe(createHash('sha256').update(IMAGE).digest('hex'));
    expect(p.criticalExtensions).not.toContain('2.5.29.31');
    const plain = loadCertificate(h.seal.certPem).profile;
    expect([plain.crlDistributionPoints, plain.sealImageSha256]).toEqual([[], null]);
  });
});

describe('seal.crl freshness', () => {
  const verify = (now: Date, crls: string[], requireCrls = false) => verifyLicence(jws, { trustAnchorsPem: [h.root.certPem], now, crls, requireCrls });

  it('a current CRL rules revocation out; without CRLs only requireCrls refuses', async () => {
    expect((await verify(at(1), [crl({ thisUpdate: NOW, nextUpdate: at(24) })], true)).valid).toBe(true);
    expect((await verify(at(1), [])).valid).toBe(true);
    expect(await verify(at(1), [], true)).toMatchObject({ valid: false, reason: 'LICENCE_STATUS_UNAVAILABLE', message: expect.stringContaining(CRL_URL) });
  });

  it('a CRL past its nextUpdate is no answer (LICENCE_STATUS_UNAVAILABLE), with or without requireCrls', async () => {
    const stale = crl({ thisUpdate: NOW, nextUpdate: at(24) });
    for (const required of [false, true]) {
      expect(await verify(at(25), [stale], required)).toMatchObject({ valid: false, reason: 'LICENCE_STATUS_UNAVAILABLE', message: expect.stringContaining('revocation cannot be ruled out') });
    }
    // A newer CRL beside the stale one answers.
    expect((await verify(at(25), [stale, crl({ thisUpdate: at(24), nextUpdate: at(48) })], true)).valid).toBe(true);
  });

  it('a certificate listed in a CRL is revoked, even when that CRL is stale', async () => {
    const revoked = crl({ thisUpdate: at(1), nextUpdate: at(24), revoke: true });
    expect(await verify(at(2), [revoked], true)).toMatchObject({ valid: false, reason: 'LICENCE_CERT_REVOKED' });
    expect(await verify(at(30), [revoked], true)).toMatchObject({ valid: false, reason: 'LICENCE_CERT_REVOKED' });
  });

  it('a CRL signed by another CA does not count for the seal', async () => {
    const other = makeHierarchy(new Date('2026-01-01T00:00:00Z'));
    const foreign = buildCrl({ issuerCertPem: other.ca.certPem, issuerKey: other.ca.privateKey, thisUpdate: NOW, nextUpdate: at(24), crlNumber: 1, entries: [] });
    expect(await verify(at(1), [foreign], true)).toMatchObject({ valid: false, reason: 'LICENCE_STATUS_UNAVAILABLE' });
  });
});

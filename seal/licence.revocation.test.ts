/**
 * seal.licence revocation time (RFC 5280 §5.3.1, §5.3.2, RFC 3161 §4): a seal certificate revoked
 * as superseded, cessationOfOperation or affiliationChanged leaves valid what a platform timestamp
 * proves was sealed before the revocation date, and only that; keyCompromise with an
 * invalidityDate leaves valid what was timestamped before that date; keyCompromise without one
 * (or unspecified, or a bare "revoked") spares nothing; without a timestamp nothing is spared.
 * The same from a CRL and from the revocation callback, and for the TSA certificate itself.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { loadCertificate } from './chain/certificate.ts';
import { buildCrl, buildLicenceCredential, parseCrl, readInvalidityDate, signLicence, verifyLicence, type CrlReason, type RevocationCheck } from './index.ts';
import { licenceFields, makeHierarchy, timestamperAt, type Hierarchy } from './testing/hierarchy.ts';

const T0 = new Date('2026-03-01T00:00:00Z');
const SIGNED = new Date('2026-04-01T00:00:00Z');
const BEFORE = new Date('2026-03-15T00:00:00Z');
const AFTER = new Date('2026-05-01T00:00:00Z');
const CHECKED = new Date('2026-06-01T00:00:00Z');
let h: Hierarchy;
let stamped: string;
let bare: string;

beforeAll(async () => {
  h = makeHierarchy(T0);
  const credential = buildLicenceCredential(licenceFields());
  stamped = await signLicence(credential, { privateKey: h.seal.privateKey, chainPem: h.chain }, SIGNED, { timestamper: timestamperAt(h, SIGNED) });
  bare = await signLicence(credential, { privateKey: h.seal.privateKey, chainPem: h.chain }, SIGNED);
});

const serial = (pem: string) => loadCertificate(pem).cert.serialNumber;
const crlOf = (issuer: { certPem: string; privateKey: import('node:crypto').KeyObject }, certPem: string, revokedAt: Date, reason: CrlReason, invalidityDate?: Date) => buildCrl({
  issuerCertPem: issuer.certPem, issuerKey: issuer.privateKey, thisUpdate: revokedAt, nextUpdate: new Date(CHECKED.getTime() + 86_400_000), crlNumber: 1,
  entries: [{ serialHex: serial(certPem), revokedAt, reason, invalidityDate }],
});
const verify = (jws: string, o: { crls?: string[]; isCertificateRevoked?: RevocationCheck } = {}) => verifyLicence(jws, { trustAnchorsPem: [h.root.certPem], now: CHECKED, ...o });

describe('seal.licence revocation time', () => {
  it.each(['superseded', 'cessationOfOperation', 'affiliationChanged'] as const)('revoked as %s after the timestamp: still valid; before it: revoked', async (reason) => {
    expect(await verify(stamped, { crls: [crlOf(h.ca, h.seal.certPem, AFTER, reason)] })).toMatchObject({ valid: true, timestamped: true });
    expect(await verify(stamped, { crls: [crlOf(h.ca, h.seal.certPem, BEFORE, reason)] })).toMatchObject({ valid: false, reason: 'LICENCE_CERT_REVOKED' });
  });

  it.each(['keyCompromise', 'unspecified', 'cACompromise'] as const)('revoked as %s: revoked whenever it was sealed', async (reason) => {
    expect(await verify(stamped, { crls: [crlOf(h.ca, h.seal.certPem, AFTER, reason)] })).toMatchObject({ valid: false, reason: 'LICENCE_CERT_REVOKED', message: expect.stringContaining(reason) });
  });

  it('without a platform timestamp the signing time is the signer\'s word: superseded later is still revoked', async () => {
    expect(await verify(bare, { crls: [crlOf(h.ca, h.seal.certPem, AFTER, 'superseded')] })).toMatchObject({ valid: false, reason: 'LICENCE_CERT_REVOKED' });
  });

  it('the revocation callback answers the same way with a record; a bare true spares nothing', async () => {
    const record = (reason: CrlReason, revokedAt: Date): RevocationCheck => (s) => (s === serial(h.seal.certPem).toUpperCase() ? { revokedAt, reason } : null);
    expect((await verify(stamped, { isCertificateRevoked: record('superseded', AFTER) })).valid).toBe(true);
    expect(await verify(stamped, { isCertificateRevoked: record('superseded', BEFORE) })).toMatchObject({ valid: false, reason: 'LICENCE_CERT_REVOKED' });
    expect(await verify(stamped, { isCertificateRevoked: record('keyCompromise', AFTER) })).toMatchObject({ valid: false, reason: 'LICENCE_CERT_REVOKED' });
    expect(await verify(stamped, { isCertificateRevoked: (s) => s === serial(h.seal.certPem).toUpperCase() })).toMatchObject({ valid: false, reason: 'LICENCE_CERT_REVOKED' });
  });

  it('the TSA certificate: superseded after its token leaves the token good; keyCompromise voids it', async () => {
    expect((await verify(stamped, { crls: [crlOf(h.root, h.tsa.certPem, AFTER, 'superseded')] })).valid).toBe(true);
    expect(await verify(stamped, { crls: [crlOf(h.root, h.tsa.certPem, BEFORE, 'superseded')] })).toMatchObject({ valid: false, reason: 'LICENCE_TIMESTAMP_INVALID' });
    expect(await verify(stamped, { crls: [crlOf(h.root, h.tsa.certPem, AFTER, 'keyCompromise')] })).toMatchObject({ valid: false, reason: 'LICENCE_TIMESTAMP_INVALID' });
  });

  it('the TSA certificate revoked with reasonCode unspecified (RFC 3161 §4: retired, not compromised): earlier tokens stand; a seal so revoked spares nothing', async () => {
    expect((await verify(stamped, { crls: [crlOf(h.root, h.tsa.certPem, AFTER, 'unspecified')] })).valid).toBe(true);
    expect(await verify(stamped, { crls: [crlOf(h.root, h.tsa.certPem, BEFORE, 'unspecified')] })).toMatchObject({ valid: false, reason: 'LICENCE_TIMESTAMP_INVALID' });
    expect(await verify(stamped, { crls: [crlOf(h.ca, h.seal.certPem, AFTER, 'unspecified')] })).toMatchObject({ valid: false, reason: 'LICENCE_CERT_REVOKED' });
  });
});

describe('seal.licence invalidityDate (RFC 5280 §5.3.2)', () => {
  const COMPROMISED_AFTER = new Date('2026-04-15T00:00:00Z'); // after SIGNED
  const COMPROMISED_BEFORE = new Date('2026-03-20T00:00:00Z'); // before SIGNED

  it('the CRL entry carries it (GeneralizedTime, whole seconds) and it is read back; without one there is none', () => {
    const crl = parseCrl(crlOf(h.ca, h.seal.certPem, AFTER, 'keyCompromise', COMPROMISED_AFTER));
    expect(crl.revoked.get(serial(h.seal.certPem).toUpperCase())).toEqual({ revokedAt: AFTER, reason: 1, invalidityDate: COMPROMISED_AFTER });
    expect(crl.criticalExtensions).toEqual([]);
    expect(parseCrl(crlOf(h.ca, h.seal.certPem, AFTER, 'keyCompromise')).revoked.get(serial(h.seal.certPem).toUpperCase())!.invalidityDate).toBeNull();
  });

  it('keyCompromise: a licence timestamped before the invalidity date stays valid; after it, revoked', async () => {
    expect(await verify(stamped, { crls: [crlOf(h.ca, h.seal.certPem, AFTER, 'keyCompromise', COMPROMISED_AFTER)] })).toMatchObject({ valid: true, timestamped: true });
    expect(await verify(stamped, { crls: [crlOf(h.ca, h.seal.certPem, AFTER, 'keyCompromise', COMPROMISED_BEFORE)] }))
      .toMatchObject({ valid: false, reason: 'LICENCE_CERT_REVOKED', message: expect.stringContaining(COMPROMISED_BEFORE.toISOString()) });
    expect(await verify(stamped, { crls: [crlOf(h.ca, h.seal.certPem, AFTER, 'keyCompromise', SIGNED)] })).toMatchObject({ valid: false, reason: 'LICENCE_CERT_REVOKED' });
  });

  it('without a platform timestamp nothing is spared, whatever the invalidity date', async () => {
    expect(await verify(bare, { crls: [crlOf(h.ca, h.seal.certPem, AFTER, 'keyCompromise', COMPROMISED_AFTER)] })).toMatchObject({ valid: false, reason: 'LICENCE_CERT_REVOKED' });
  });

  it('only keyCompromise is spared by it; a non-compromise reason takes the earlier of the two dates', async () => {
    expect(await verify(stamped, { crls: [crlOf(h.ca, h.seal.certPem, AFTER, 'unspecified', COMPROMISED_AFTER)] })).toMatchObject({ valid: false, reason: 'LICENCE_CERT_REVOKED' });
    expect(await verify(stamped, { crls: [crlOf(h.ca, h.seal.certPem, AFTER, 'superseded', COMPROMISED_BEFORE)] })).toMatchObject({ valid: false, reason: 'LICENCE_CERT_REVOKED' });
    expect((await verify(stamped, { crls: [crlOf(h.ca, h.seal.certPem, AFTER, 'superseded', COMPROMISED_AFTER)] })).valid).toBe(true);
  });

  it('the revocation callback may give it too; with a CRL as well, the stricter source wins', async () => {
    const record = (invalidityDate: Date): RevocationCheck => (s) => (s === serial(h.seal.certPem).toUpperCase() ? { revokedAt: AFTER, reason: 'keyCompromise', invalidityDate } : null);
    expect((await verify(stamped, { isCertificateRevoked: record(COMPROMISED_AFTER) })).valid).toBe(true);
    expect(await verify(stamped, { isCertificateRevoked: record(COMPROMISED_BEFORE) })).toMatchObject({ valid: false, reason: 'LICENCE_CERT_REVOKED' });
    expect(await verify(stamped, { isCertificateRevoked: record(COMPROMISED_AFTER), crls: [crlOf(h.ca, h.seal.certPem, AFTER, 'keyCompromise')] }))
      .toMatchObject({ valid: false, reason: 'LICENCE_CERT_REVOKED' });
    expect(await verify(stamped, { isCertificateRevoked: record(COMPROMISED_BEFORE), crls: [crlOf(h.ca, h.seal.certPem, AFTER, 'superseded')] }))
      .toMatchObject({ valid: false, reason: 'LICENCE_CERT_REVOKED' });
  });

  it('the TSA certificate: compromised after its token, the token stands; before it, it does not', async () => {
    expect((await verify(stamped, { crls: [crlOf(h.root, h.tsa.certPem, AFTER, 'keyCompromise', COMPROMISED_AFTER)] })).valid).toBe(true);
    expect(await verify(stamped, { crls: [crlOf(h.root, h.tsa.certPem, AFTER, 'keyCompromise', COMPROMISED_BEFORE)] })).toMatchObject({ valid: false, reason: 'LICENCE_TIMESTAMP_INVALID' });
  });

  it('an operator\'s invalidity date: ISO 8601 with a zone, not in the future, keyCompromise only, cut to the second', () => {
    expect(readInvalidityDate('2026-04-15T08:00:00.750+08:00', 'keyCompromise', CHECKED, 'd')).toEqual(new Date('2026-04-15T00:00:00Z'));
    for (const [value, reason] of [['2026-04-15', 'keyCompromise'], ['yesterday', 'keyCompromise'], ['2026-07-01T00:00:00Z', 'keyCompromise'], ['2026-04-15T00:00:00Z', 'superseded']] as const) {
      expect(() => readInvalidityDate(value, reason, CHECKED, 'd')).toThrow(expect.objectContaining({ code: 'BAD_INPUT', details: { field: 'd' } }));
    }
  });
});

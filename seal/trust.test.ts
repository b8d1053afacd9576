/**
 * seal.trust: splitting trust bundles and describing certificates the way the revocation
 * callback sees them.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { describeCertificate, readTrustBundle } from './index.ts';
import { HANGZHOU_SAMR, makeHierarchy, type Hierarchy } from './testing/hierarchy.ts';

let h: Hierarchy;
beforeAll(() => {
  h = makeHierarchy(new Date('2026-01-01T00:00:00Z'));
});

describe('seal.trust bundle', () => {
  it('splits a bundle into certificates, ignoring text around them and CRLF line ends', () => {
    const bundle = `# national root\nsubject=CN=root\n${h.root.certPem}\n# province\r\n${h.ca.certPem.replace(/\n/g, '\r\n')}`;
    const certs = readTrustBundle(bundle);
    expect(certs).toHaveLength(2);
    expect(certs[0]).toBe(h.root.certPem);
    expect(certs[1]).toBe(h.ca.certPem);
    expect(readTrustBundle('no certificates here')).toEqual([]);
  });

  it('a CERTIFICATE block that does not parse is CONFIG_INVALID', () => {
    expect(() => readTrustBundle('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('seal.trust describe', () => {
  it('describes a seal certificate: serial, names, agency code, validity', () => {
    const d = describeCertificate(h.seal.certPem);
    expect(d.serialHex).toMatch(/^[0-9A-F]{32}$/);
    expect(d.subject).toBe(`C=CN, O=${HANGZHOU_SAMR.name}, organizationIdentifier=${HANGZHOU_SAMR.code}, CN=${HANGZHOU_SAMR.name}电子证照专用章`);
    expect(d.issuer).toBe(describeCertificate(h.ca.certPem).subject);
    expect(d.organizationIdentifier).toBe(HANGZHOU_SAMR.code);
    expect(d.isCa).toBe(false);
    expect(describeCertificate(h.ca.certPem).isCa).toBe(true);
    expect(() => describeCertificate('nope')).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
  });
});

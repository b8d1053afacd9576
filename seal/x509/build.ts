/**
 * Builds one X.509 v3 certificate: node-forge assembles the ASN.1, node:crypto signs it. This
 * folder is the only place in seal/ that imports node-forge (docs/style.md); everything outside
 * it sees PEM strings and node:crypto KeyObjects.
 *
 * Rules applied here:
 * - Signing is node:crypto's, never forge's cert.sign() (which defaults to SHA-1 and does RSA
 *   in JavaScript): the signature algorithm is set explicitly (sha256WithRSAEncryption unless a
 *   test asks otherwise), the TBSCertificate DER is signed with crypto.sign, and the issuer's
 *   private key never leaves its KeyObject (so an HSM-backed signer can take its place).
 * - Name attributes are UTF8String (RFC 5280 §4.1.2.4), so Chinese agency names survive; the
 *   issuer name is re-encoded from the issuer certificate's own attributes (same order, same
 *   string types) so it equals the issuer's subject and names chain exactly.
 * - The serial number is given by the caller (random, positive: RFC 5280 §4.1.2.2).
 * - Subject and authority key identifiers (RFC 5280 §4.2.1.1-2) let path builders match keys.
 */
import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { OID_EXT_KEY_USAGE } from '../lib/oids.ts';

const { pki, asn1, util } = forge;

/** PKCS #1 signature algorithm OIDs (RFC 8017 appendix A.2.4). */
const RSA_SIGNATURE_OIDS = {
  sha256: '1.2.840.113549.1.1.11',
  sha384: '1.2.840.113549.1.1.12',
  sha512: '1.2.840.113549.1.1.13',
  sha1: '1.2.840.113549.1.1.5',
} as const;

export interface NameSpec {
  commonName: string;
  organization?: string | undefined;
  /** ISO 3166 country code; defaults to CN. */
  country?: string | undefined;
  /** organizationIdentifier (2.5.4.97). */
  organizationIdentifier?: string | undefined;
  /** Administrative region code (GB/T 2260), put in the stateOrProvinceName attribute. */
  regionCode?: string | undefined;
}

export interface CertificateSpec {
  subject: NameSpec;
  /** Public key the certificate binds (node:crypto; a private key stands for its public half). */
  publicKey: KeyObject;
  /** Hex serial number, positive and DER-minimal (first byte 0x01..0x7f). */
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  /** Issuer certificate PEM; omitted for a self-signed root. */
  issuerCertPem?: string | undefined;
  /** Key that signs this certificate (the issuer's, or the subject's own for a root). */
  signingKey: KeyObject;
  /** basicConstraints (always critical); null leaves the extension out. */
  basicConstraints: { cA: boolean; pathLen?: number | undefined } | null;
  /** keyUsage bits (always critical, RFC 5280 §4.2.1.3); null leaves the extension out. */
  keyUsage: KeyUsageName[] | null;
  /** extKeyUsage purpose OIDs (non-critical); null leaves the extension out. */
  extKeyUsage: string[] | null;
  /** Mark extKeyUsage critical (RFC 3161 §2.3 requires it for a TSA). */
  extKeyUsageCritical?: boolean | undefined;
  /**
   * Signature digest. SHA-256 unless said otherwise; 'sha1' exists only so tests can prove the
   * verifier refuses SHA-1 chains.
   */
  digest?: 'sha256' | 'sha384' | 'sha512' | 'sha1' | undefined;
  /** cRLDistributionPoints (RFC 5280 §4.2.1.13, non-critical): the URL where the issuer publishes its CRL. */
  crlDistributionPoint?: string | undefined;
  /** SHA-256 of the seal image (印章图像), bound into the seal certificate (OID_SEAL_IMAGE_SHA256). */
  sealImageSha256?: Buffer | undefined;
}

/**
 * The seal-image digest extension (non-critical): an OCTET STRING of the SHA-256 of the seal's
 * image, so the picture a page or PDF shows is provably the one certified with the seal (review
 * gap F). A UUID-based OID (ITU-T X.667, arc 2.25): no registry entry needed, no clash possible.
 */
export const OID_SEAL_IMAGE_SHA256 = '2.25.329777854261928697236059426075504276085';

/**
 * DER contents of an OID whose arcs may exceed 32 bits (forge's oidToDer refuses them): base 128,
 * high bit set on every byte but the last of each arc (X.690 §8.19).
 */
export function oidDerBytes(oid: string): Buffer {
  const arcs = oid.split('.').map((a) => BigInt(a));
  const values = [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)];
  const out: number[] = [];
  for (const v of values) {
    const groups: number[] = [];
    let x = v;
    do {
      groups.unshift(Number(x & 0x7fn));
      x >>= 7n;
    } while (x > 0n);
    groups.forEach((g, i) => out.push(i < groups.length - 1 ? g | 0x80 : g));
  }
  return Buffer.from(out);
}

/** RFC 5280 §4.2.1.13 id-ce-cRLDistributionPoints. */
export const OID_CRL_DISTRIBUTION_POINTS = '2.5.29.31';

export type KeyUsageName = 'digitalSignature' | 'nonRepudiation' | 'keyEncipherment' | 'keyCertSign' | 'cRLSign';

interface ForgeAttribute {
  type: string;
  value: string;
  valueTagClass: number;
}

/** The subject Name as forge attributes (also a certificate request's subject, ./csr.ts). */
export function nameAttributes(n: NameSpec): ForgeAttribute[] {
  const utf8 = asn1.Type.UTF8;
  const printable = asn1.Type.PRINTABLESTRING;
  const attrs: ForgeAttribute[] = [{ type: '2.5.4.6', value: n.country ?? 'CN', valueTagClass: printable }];
  if (n.regionCode) attrs.push({ type: '2.5.4.8', value: n.regionCode, valueTagClass: utf8 });
  if (n.organization) attrs.push({ type: '2.5.4.10', value: n.organization, valueTagClass: utf8 });
  if (n.organizationIdentifier) attrs.push({ type: '2.5.4.97', value: n.organizationIdentifier, valueTagClass: utf8 });
  attrs.push({ type: '2.5.4.3', value: n.commonName, valueTagClass: utf8 });
  return attrs;
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING contents. */
function keyIdentifier(cert: forge.pki.Certificate): string {
  return cert.generateSubjectKeyIdentifier().getBytes();
}

export function toForgePublicKey(key: KeyObject): forge.pki.rsa.PublicKey {
  if (key.asymmetricKeyType !== 'rsa') throw new Error('node-forge certificates carry RSA keys only');
  return pki.publicKeyFromPem((key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'pem' }).toString()) as forge.pki.rsa.PublicKey;
}

/** Build, sign (SHA-256 by default) and return the certificate as PEM. */
export function buildCertificate(spec: CertificateSpec): string {
  const cert = pki.createCertificate();
  cert.publicKey = toForgePublicKey(spec.publicKey);
  cert.serialNumber = spec.serialHex;
  cert.validity.notBefore = spec.notBefore;
  cert.validity.notAfter = spec.notAfter;
  cert.setSubject(nameAttributes(spec.subject));

  let authorityKeyId: string;
  if (spec.issuerCertPem) {
    const issuer = pki.certificateFromPem(spec.issuerCertPem);
    // Reuse the parsed attributes with their original string types so the encoded issuer name
    // equals the issuer's subject name byte for byte. forge parses UTF8String values as raw
    // bytes but encodes them again on output, so decode them first (else they are encoded twice).
    // (@types/node-forge types valueTagClass as a Class; it holds the universal Type tag.)
    cert.setIssuer(issuer.subject.attributes.map((a) => (
      (a.valueTagClass as unknown as number) === asn1.Type.UTF8 ? { ...a, value: util.decodeUtf8(String(a.value)) } : a
    )));
    authorityKeyId = keyIdentifier(issuer);
  } else {
    cert.setIssuer(nameAttributes(spec.subject));
    authorityKeyId = keyIdentifier(cert);
  }

  const extensions: object[] = [];
  if (spec.basicConstraints) {
    const bc: Record<string, unknown> = { name: 'basicConstraints', critical: true, cA: spec.basicConstraints.cA };
    if (spec.basicConstraints.pathLen !== undefined) bc.pathLenConstraint = spec.basicConstraints.pathLen;
    extensions.push(bc);
  }
  if (spec.keyUsage) {
    extensions.push({ name: 'keyUsage', critical: true, ...Object.fromEntries(spec.keyUsage.map((u) => [u, true])) });
  }
  if (spec.extKeyUsage) {
    // Encoded here: forge's own extKeyUsage writer mistakes OIDs it knows by name (e.g.
    // emailProtection) for names and fails.
    const purposes = spec.extKeyUsage.map((oid) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(oid).getBytes()));
    extensions.push({ id: OID_EXT_KEY_USAGE, critical: spec.extKeyUsageCritical === true, value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, purposes) });
  }
  if (spec.crlDistributionPoint) {
    // SEQUENCE OF DistributionPoint { distributionPoint [0] { fullName [0] { URI [6] } } }.
    const ctx = (tag: number, constructed: boolean, v: forge.asn1.Asn1[] | string) => asn1.create(asn1.Class.CONTEXT_SPECIFIC, tag, constructed, v);
    const uri = ctx(6, false, spec.crlDistributionPoint);
    const point = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [ctx(0, true, [ctx(0, true, [uri])])]);
    extensions.push({ id: OID_CRL_DISTRIBUTION_POINTS, critical: false, value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [point]) });
  }
  extensions.push(
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: authorityKeyId },
  );
  cert.setExtensions(extensions);

  // Sign the DER TBSCertificate with node:crypto (RSASSA-PKCS1-v1_5) and let forge wrap it.
  if (spec.signingKey.type !== 'private' || spec.signingKey.asymmetricKeyType !== 'rsa') {
    throw new Error('certificates are signed with an RSA private key');
  }
  const digest = spec.digest ?? 'sha256';
  cert.signatureOid = cert.siginfo.algorithmOid = RSA_SIGNATURE_OIDS[digest];
  // getTBSCertificate is public forge API that @types/node-forge leaves out.
  const { getTBSCertificate } = pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 };
  cert.tbsCertificate = getTBSCertificate(cert);
  if (spec.sealImageSha256) {
    if (spec.sealImageSha256.length !== 32) throw new Error('sealImageSha256 must be 32 bytes');
    // Appended to the encoded extensions here: forge cannot encode the UUID-based OID itself.
    const digest = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, spec.sealImageSha256.toString('binary'));
    const ext = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, oidDerBytes(OID_SEAL_IMAGE_SHA256).toString('binary')),
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, asn1.toDer(digest).getBytes()),
    ]);
    const wrapper = (cert.tbsCertificate.value as forge.asn1.Asn1[]).find((n) => n.tagClass === asn1.Class.CONTEXT_SPECIFIC && n.type === 3);
    ((wrapper!.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[]).push(ext);
  }
  const tbsDer = Buffer.from(asn1.toDer(cert.tbsCertificate).getBytes(), 'binary');
  cert.signature = sign(digest, tbsDer, spec.signingKey).toString('binary');
  return pki.certificateToPem(cert).replace(/\r\n/g, '\n');
}


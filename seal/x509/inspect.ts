/**
 * Reads the parts of a DER certificate that node:crypto's X509Certificate does not expose:
 * basicConstraints (cA, pathLenConstraint), keyUsage bits, extended key usage OIDs, the
 * critical extensions, the signature algorithm and the subject's organizationIdentifier and
 * organizationName.
 *
 * Walks the ASN.1 itself (RFC 5280 §4.1) with forge's strict DER reader instead of
 * forge.pki.certificateFromAsn1, which refuses non-RSA keys: a chain with an EC certificate must
 * still be inspected (and then judged), not crash the verifier. No signature is checked here.
 */
import { OID_SEAL_IMAGE_SHA256, oidDerBytes } from './build.ts';
import forge from 'node-forge';
import {
  OID_BASIC_CONSTRAINTS, OID_EXT_KEY_USAGE, OID_KEY_USAGE, OID_ORGANIZATION_IDENTIFIER, OID_ORGANIZATION_NAME,
} from '../lib/oids.ts';

const { asn1, util } = forge;
type Node = forge.asn1.Asn1;

export type KeyUsageBit =
  | 'digitalSignature' | 'nonRepudiation' | 'keyEncipherment' | 'dataEncipherment'
  | 'keyAgreement' | 'keyCertSign' | 'cRLSign' | 'encipherOnly' | 'decipherOnly';

/** RFC 5280 §4.2.1.3 bit order. */
const KEY_USAGE_BITS: readonly KeyUsageBit[] = [
  'digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment',
  'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly',
];

export interface CertificateProfile {
  /** Outer signatureAlgorithm OID. */
  signatureAlgorithm: string;
  /** True when tbsCertificate.signature equals the outer algorithm (RFC 5280 §4.1.1.2). */
  signatureAlgorithmsMatch: boolean;
  /** Null when the extension is absent. */
  basicConstraints: { cA: boolean; pathLen: number | null } | null;
  /** Null when the extension is absent. */
  keyUsage: ReadonlySet<KeyUsageBit> | null;
  /** Null when the extension is absent. */
  extKeyUsage: readonly string[] | null;
  /** OIDs of every extension marked critical. */
  criticalExtensions: readonly string[];
  /** True when an extension appears twice (RFC 5280 §4.2 forbids it). */
  duplicateExtensions: boolean;
  /** Subject organizationIdentifier (2.5.4.97), or null. */
  organizationIdentifier: string | null;
  /** Subject organizationName (2.5.4.10), or null. */
  organization: string | null;
  /** URIs of the cRLDistributionPoints extension (RFC 5280 §4.2.1.13); empty when absent. */
  crlDistributionPoints: readonly string[];
  /** Lower-case hex SHA-256 of the seal image bound into a seal certificate, or null. */
  sealImageSha256: string | null;
}

/** DER contents of OID_SEAL_IMAGE_SHA256 (x509/build.ts), compared as bytes: its 128-bit arc is beyond forge's derToOid. */
const SEAL_IMAGE_OID_DER = Buffer.from(oidDerBytes(OID_SEAL_IMAGE_SHA256)).toString('binary');

function readSealImageSha256(value: string): string {
  const digest = bytes(parseDer(value), 'sealImageSha256');
  if (digest.length !== 32) throw new CertificateSyntaxError('sealImageSha256: expected 32 bytes');
  return util.bytesToHex(digest);
}

const OID_CRL_DISTRIBUTION_POINTS = '2.5.29.31';

/** The http(s) fullName URIs of each DistributionPoint (other name forms are ignored). */
function readCrlDistributionPoints(value: string): string[] {
  const out: string[] = [];
  for (const point of children(parseDer(value), 'cRLDistributionPoints')) {
    for (const field of children(point, 'DistributionPoint')) {
      if (field.tagClass !== asn1.Class.CONTEXT_SPECIFIC || field.type !== 0) continue;
      for (const name of children(field, 'distributionPoint')) {
        if (name.tagClass !== asn1.Class.CONTEXT_SPECIFIC || name.type !== 0) continue;
        for (const g of children(name, 'fullName')) {
          if (g.tagClass === asn1.Class.CONTEXT_SPECIFIC && g.type === 6) out.push(bytes(g, 'URI'));
        }
      }
    }
  }
  return out;
}

/** Thrown for DER that is not a certificate; callers map it to their own error. */
export class CertificateSyntaxError extends Error {
  override name = 'CertificateSyntaxError';
}

function children(n: Node | undefined, what: string): Node[] {
  if (!n || !Array.isArray(n.value)) throw new CertificateSyntaxError(`${what}: expected a constructed value`);
  return n.value;
}

function bytes(n: Node | undefined, what: string): string {
  if (!n || typeof n.value !== 'string') throw new CertificateSyntaxError(`${what}: expected a primitive value`);
  return n.value;
}

function oidOf(n: Node | undefined, what: string): string {
  if (!n || n.type !== asn1.Type.OID) throw new CertificateSyntaxError(`${what}: expected an OID`);
  return asn1.derToOid(bytes(n, what));
}

function parseDer(der: string): Node {
  // strict: definite lengths only; parseAllBytes: no trailing garbage; bit strings left raw.
  const fromDer = asn1.fromDer as unknown as (b: string, o: object) => Node;
  return fromDer(der, { strict: true, parseAllBytes: true, decodeBitStrings: false });
}

function smallInteger(raw: string): number {
  if (raw.length === 0 || raw.length > 4 || (raw.charCodeAt(0) & 0x80)) throw new CertificateSyntaxError('pathLenConstraint out of range');
  let v = 0;
  for (let i = 0; i < raw.length; i++) v = v * 256 + raw.charCodeAt(i);
  return v;
}

function readBasicConstraints(value: string): CertificateProfile['basicConstraints'] {
  const seq = children(parseDer(value), 'basicConstraints');
  let cA = false;
  let pathLen: number | null = null;
  for (const item of seq) {
    if (item.type === asn1.Type.BOOLEAN) cA = bytes(item, 'cA').charCodeAt(0) !== 0;
    else if (item.type === asn1.Type.INTEGER) pathLen = smallInteger(bytes(item, 'pathLen'));
    else throw new CertificateSyntaxError('basicConstraints: unexpected element');
  }
  return { cA, pathLen };
}

function readKeyUsage(value: string): Set<KeyUsageBit> {
  const raw = bytes(parseDer(value), 'keyUsage');
  const set = new Set<KeyUsageBit>();
  // raw[0] is the count of unused bits; the flags start at raw[1] (most significant bit first).
  KEY_USAGE_BITS.forEach((name, bit) => {
    const byte = raw.charCodeAt(1 + (bit >> 3));
    if (!Number.isNaN(byte) && byte & (0x80 >> (bit & 7))) set.add(name);
  });
  return set;
}

function readExtKeyUsage(value: string): string[] {
  return children(parseDer(value), 'extKeyUsage').map((n) => oidOf(n, 'extKeyUsage'));
}

function attributeValue(n: Node): string {
  const raw = bytes(n, 'attribute value');
  return n.type === asn1.Type.UTF8 ? util.decodeUtf8(raw) : raw;
}

function readNameAttribute(name: Node, oid: string): string | null {
  for (const rdn of children(name, 'subject')) {
    for (const atv of children(rdn, 'RDN')) {
      const [type, value] = children(atv, 'AttributeTypeAndValue');
      if (oidOf(type, 'attribute type') === oid && value) return attributeValue(value);
    }
  }
  return null;
}

/** Inspect a DER-encoded certificate. Throws CertificateSyntaxError on malformed input. */
export function inspectCertificate(der: Uint8Array): CertificateProfile {
  try {
    return inspect(Buffer.from(der).toString('binary'));
  } catch (e) {
    if (e instanceof CertificateSyntaxError) throw e;
    throw new CertificateSyntaxError(e instanceof Error ? e.message : String(e));
  }
}

function inspect(der: string): CertificateProfile {
  const [tbs, outerAlg] = children(parseDer(der), 'Certificate');
  const tbsFields = children(tbs, 'tbsCertificate');
  // [0] EXPLICIT version is optional (v1 certificates omit it).
  const first = tbsFields[0];
  const offset = first && first.tagClass === asn1.Class.CONTEXT_SPECIFIC && first.type === 0 ? 1 : 0;
  const tbsAlg = tbsFields[offset + 1];
  const subject = tbsFields[offset + 4];
  const signatureAlgorithm = oidOf(children(outerAlg, 'signatureAlgorithm')[0], 'signatureAlgorithm');
  const innerAlgorithm = oidOf(children(tbsAlg, 'signature')[0], 'signature');

  const profile: CertificateProfile = {
    signatureAlgorithm,
    signatureAlgorithmsMatch: signatureAlgorithm === innerAlgorithm,
    basicConstraints: null,
    keyUsage: null,
    extKeyUsage: null,
    criticalExtensions: [],
    duplicateExtensions: false,
    organizationIdentifier: readNameAttribute(subject as Node, OID_ORGANIZATION_IDENTIFIER),
    organization: readNameAttribute(subject as Node, OID_ORGANIZATION_NAME),
    crlDistributionPoints: [],
    sealImageSha256: null,
  };

  const extsWrapper = tbsFields.find((n) => n.tagClass === asn1.Class.CONTEXT_SPECIFIC && n.type === 3);
  if (!extsWrapper) return profile;
  const seen = new Set<string>();
  const critical: string[] = [];
  for (const ext of children(children(extsWrapper, 'extensions')[0], 'Extensions')) {
    const parts = children(ext, 'Extension');
    const id = parts[0]?.type === asn1.Type.OID && parts[0].value === SEAL_IMAGE_OID_DER ? OID_SEAL_IMAGE_SHA256 : oidOf(parts[0], 'extnID');
    const hasCritical = parts[1]?.type === asn1.Type.BOOLEAN;
    const isCritical = hasCritical && bytes(parts[1], 'critical').charCodeAt(0) !== 0;
    const value = bytes(parts[hasCritical ? 2 : 1], 'extnValue');
    if (seen.has(id)) profile.duplicateExtensions = true;
    seen.add(id);
    if (isCritical) critical.push(id);
    if (id === OID_BASIC_CONSTRAINTS) profile.basicConstraints = readBasicConstraints(value);
    else if (id === OID_KEY_USAGE) profile.keyUsage = readKeyUsage(value);
    else if (id === OID_EXT_KEY_USAGE) profile.extKeyUsage = readExtKeyUsage(value);
    else if (id === OID_CRL_DISTRIBUTION_POINTS) profile.crlDistributionPoints = readCrlDistributionPoints(value);
    else if (id === OID_SEAL_IMAGE_SHA256) profile.sealImageSha256 = readSealImageSha256(value);
  }
  profile.criticalExtensions = critical;
  return profile;
}

/**
 * X.509 v2 certificate revocation lists (RFC 5280 §5), built and read with forge's DER codec;
 * signing and signature checks are node:crypto's (this folder never verifies anything itself:
 * the caller does, with the bytes `parseCrl` returns).
 *
 * Built: version v2, sha256WithRSAEncryption, issuer = the CA's subject (its DER copied byte for
 * byte so it names the CA exactly), thisUpdate/nextUpdate, one entry per revoked serial with its
 * revocationDate, reasonCode (§5.3.1) and, when known, invalidityDate (§5.3.2: when the key was
 * compromised, or is suspected to have been), extensions authorityKeyIdentifier and cRLNumber
 * (§5.2.1, §5.2.3: both MUST be present).
 *
 * Read: besides the entries, the issuer Name as DER (to match it to a CA's subject, §6.3.3 (b)),
 * the cRLNumber as a bigint (up to 20 octets, §5.2.3) and every extension marked critical, of
 * the CRL or of an entry (§5.2, §5.3: a CRL with a critical extension the reader does not
 * process must not be used to decide revocation).
 */
import { sign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { OID_AUTHORITY_KEY_IDENTIFIER, OID_CRL_NUMBER, OID_CRL_REASON, OID_INVALIDITY_DATE } from '../lib/oids.ts';

const { asn1, pki, util } = forge;
type Node = forge.asn1.Asn1;
const SHA256_RSA = '1.2.840.113549.1.1.11';

/** RFC 5280 §5.3.1 CRLReason values by name. */
export const CRL_REASONS = {
  unspecified: 0, keyCompromise: 1, cACompromise: 2, affiliationChanged: 3, superseded: 4, cessationOfOperation: 5, certificateHold: 6,
} as const;
export type CrlReason = keyof typeof CRL_REASONS;

export interface CrlEntry {
  serialHex: string; revokedAt: Date; reason: CrlReason;
  /** RFC 5280 §5.3.2: since when the key is known or suspected to be compromised (whole seconds). */
  invalidityDate?: Date | null | undefined;
}

/** One entry as read: reasonCode as its number (null when absent), invalidityDate when present. */
export interface ParsedCrlEntry { revokedAt: Date; reason: number | null; invalidityDate: Date | null }

export interface ParsedCrl {
  /** DER of tbsCertList: what the signature covers. */
  tbs: Buffer;
  signatureAlgorithm: string;
  signature: Buffer;
  /** DER of the issuer Name. */
  issuer: Buffer;
  thisUpdate: Date;
  nextUpdate: Date | null;
  crlNumber: bigint | null;
  /** OIDs of the critical extensions, of the CRL and of its entries. */
  criticalExtensions: string[];
  /** Upper-case hex serials, no leading zero octet. */
  revoked: Map<string, ParsedCrlEntry>;
}

const seq = (v: Node[]): Node => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, v);
const oid = (o: string): Node => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(o).getBytes());
const int = (bytes: string): Node => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, bytes);
const time = (d: Date): Node => (d.getUTCFullYear() < 2050
  ? asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(d))
  : asn1.create(asn1.Class.UNIVERSAL, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(d)));
const ext = (id: string, value: Node): Node => seq([oid(id), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, asn1.toDer(value).getBytes())]);
/** invalidityDate is always a GeneralizedTime (RFC 5280 §5.3.2). */
const generalizedTime = (d: Date): Node => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(d));

function positiveInt(hex: string): string {
  const bytes = util.hexToBytes(hex.length % 2 ? `0${hex}` : hex);
  return bytes.charCodeAt(0) & 0x80 ? `\x00${bytes}` : bytes;
}

function smallInt(n: number): string {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return positiveInt(hex);
}

function parseDer(bytes: string): Node {
  const fromDer = asn1.fromDer as unknown as (b: string, o: object) => Node;
  return fromDer(bytes, { strict: true, parseAllBytes: true, decodeBitStrings: false });
}

/** The subject Name of a certificate, exactly as encoded there. */
function subjectNode(certDer: Buffer): Node {
  const tbs = (parseDer(certDer.toString('binary')).value as Node[])[0]!;
  const fields = tbs.value as Node[];
  const offset = fields[0]?.tagClass === asn1.Class.CONTEXT_SPECIFIC ? 1 : 0;
  return fields[offset + 4]!;
}

/** DER of a certificate's subject Name: what a CRL it signs names as its issuer (RFC 5280 §5.1.2.3). */
export function subjectDer(certDer: Buffer): Buffer {
  return Buffer.from(asn1.toDer(subjectNode(certDer)).getBytes(), 'binary');
}

const NAME_LABELS: Record<string, string> = {
  '2.5.4.6': 'C', '2.5.4.8': 'ST', '2.5.4.7': 'L', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.3': 'CN', '2.5.4.97': 'organizationIdentifier',
};

/** A Name (DER) on one line, "C=CN, O=…, CN=…", for messages; unparsable input gives "?". */
export function nameText(der: Buffer): string {
  try {
    return (parseDer(der.toString('binary')).value as Node[]).flatMap((rdn) => (rdn.value as Node[]).map((atv) => {
      const [type, value] = atv.value as Node[];
      const id = asn1.derToOid(type!.value as string);
      const raw = value!.value as string;
      return `${NAME_LABELS[id] ?? id}=${value!.type === asn1.Type.UTF8 ? util.decodeUtf8(raw) : raw}`;
    })).join(', ');
  } catch {
    return '?';
  }
}

export function buildCrl(o: {
  issuerCertPem: string; issuerKey: KeyObject; thisUpdate: Date; nextUpdate: Date; crlNumber: number; entries: readonly CrlEntry[];
}): string {
  const issuerCert = pki.certificateFromPem(o.issuerCertPem);
  const certDer = Buffer.from(asn1.toDer(pki.certificateToAsn1(issuerCert)).getBytes(), 'binary');
  const alg = seq([oid(SHA256_RSA), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '')]);
  const tbsFields: Node[] = [int('\x01'), alg, subjectNode(certDer), time(o.thisUpdate), time(o.nextUpdate)];
  if (o.entries.length) {
    tbsFields.push(seq(o.entries.map((e) => seq([
      int(positiveInt(e.serialHex)), time(e.revokedAt),
      seq([
        ext(OID_CRL_REASON, asn1.create(asn1.Class.UNIVERSAL, asn1.Type.ENUMERATED, false, String.fromCharCode(CRL_REASONS[e.reason]))),
        ...(e.invalidityDate ? [ext(OID_INVALIDITY_DATE, generalizedTime(e.invalidityDate))] : []),
      ]),
    ]))));
  }
  const aki = seq([asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, issuerCert.generateSubjectKeyIdentifier().getBytes())]);
  tbsFields.push(asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [seq([ext(OID_AUTHORITY_KEY_IDENTIFIER, aki), ext(OID_CRL_NUMBER, int(smallInt(o.crlNumber)))])]));
  const tbs = seq(tbsFields);
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), 'binary');
  const signature = sign('sha256', tbsDer, o.issuerKey);
  const crl = seq([tbs, alg, asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, `\x00${signature.toString('binary')}`)]);
  const der = Buffer.from(asn1.toDer(crl).getBytes(), 'binary');
  return `-----BEGIN X509 CRL-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END X509 CRL-----\n`;
}

function readTime(n: Node | undefined): Date | null {
  if (!n) return null;
  if (n.type === asn1.Type.UTCTIME) return asn1.utcTimeToDate(n.value as string);
  if (n.type === asn1.Type.GENERALIZEDTIME) return asn1.generalizedTimeToDate(n.value as string);
  return null;
}

const hexOf = (bytes: string): string => util.bytesToHex(bytes.replace(/^\x00+(?=[\s\S])/, '')).toUpperCase();

/** An Extension's id, criticality and the DER inside its extnValue. */
function readExtension(e: Node): { id: string; critical: boolean; value: string } {
  const parts = e.value as Node[];
  const critical = parts.length === 3 && parts[1]!.type === asn1.Type.BOOLEAN && (parts[1]!.value as string).charCodeAt(0) !== 0;
  return { id: asn1.derToOid(parts[0]!.value as string), critical, value: parts[parts.length - 1]!.value as string };
}

/** True when the bytes are PEM text (after any leading whitespace), not DER (which starts with 0x30). */
const isPemBytes = (b: Buffer): boolean => /^\s*-----BEGIN /.test(b.subarray(0, 64).toString('latin1'));

/**
 * Parse a CRL: PEM text (a string, or the bytes of a PEM file) or DER bytes — a file or an HTTP
 * answer is read the same whichever form it is in. Throws (any Error) when it is not a CRL.
 */
export function parseCrl(input: string | Buffer): ParsedCrl {
  let der: Buffer;
  if (typeof input !== 'string' && isPemBytes(input)) input = input.toString('latin1');
  if (typeof input === 'string') {
    const m = /-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/.exec(input);
    if (!m) throw new Error('not a PEM CRL');
    der = Buffer.from(m[1]!.replace(/\s/g, ''), 'base64');
  } else der = input;
  const [tbs, algNode, sigNode] = parseDer(der.toString('binary')).value as Node[];
  if (!tbs || !algNode || !sigNode) throw new Error('not a CRL');
  const fields = tbs.value as Node[];
  const offset = fields[0]?.type === asn1.Type.INTEGER ? 1 : 0;
  const algorithmOf = (n: Node | undefined) => asn1.derToOid(((n!.value as Node[])[0]!).value as string);
  const signatureAlgorithm = algorithmOf(algNode);
  if (algorithmOf(fields[offset]) !== signatureAlgorithm) throw new Error('CRL signature algorithms differ (RFC 5280 §5.1.1.2)');
  const issuerNode = fields[offset + 1];
  if (!issuerNode || issuerNode.type !== asn1.Type.SEQUENCE) throw new Error('CRL without issuer');
  const thisUpdate = readTime(fields[offset + 2]);
  if (!thisUpdate) throw new Error('CRL without thisUpdate');
  let i = offset + 3;
  const nextUpdate = readTime(fields[i]);
  if (nextUpdate) i++;
  const revoked = new Map<string, ParsedCrlEntry>();
  const criticalExtensions: string[] = [];
  let crlNumber: bigint | null = null;
  for (; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.tagClass === asn1.Class.UNIVERSAL && f.type === asn1.Type.SEQUENCE) {
      for (const entry of f.value as Node[]) {
        const [serial, date, exts] = entry.value as Node[];
        let reason: number | null = null;
        let invalidityDate: Date | null = null;
        for (const e of (exts?.value as Node[] | undefined) ?? []) {
          const x = readExtension(e);
          if (x.critical) criticalExtensions.push(x.id);
          if (x.id === OID_CRL_REASON) reason = (parseDer(x.value).value as string).charCodeAt(0);
          else if (x.id === OID_INVALIDITY_DATE) invalidityDate = readTime(parseDer(x.value));
        }
        revoked.set(hexOf(serial!.value as string), { revokedAt: readTime(date) ?? thisUpdate, reason, invalidityDate });
      }
    } else if (f.tagClass === asn1.Class.CONTEXT_SPECIFIC && f.type === 0) {
      for (const e of ((f.value as Node[])[0]!.value as Node[])) {
        const x = readExtension(e);
        if (x.critical) criticalExtensions.push(x.id);
        if (x.id === OID_CRL_NUMBER) {
          const n = parseDer(x.value).value as string;
          if (n.length === 0 || n.length > 21 || n.charCodeAt(0) & 0x80) throw new Error('cRLNumber out of range (RFC 5280 §5.2.3)');
          crlNumber = BigInt(`0x${util.bytesToHex(n)}`);
        }
      }
    }
  }
  const sigBytes = sigNode.value as string;
  return {
    tbs: Buffer.from(asn1.toDer(tbs).getBytes(), 'binary'),
    signatureAlgorithm,
    signature: Buffer.from(sigBytes.slice(1), 'binary'),
    issuer: Buffer.from(asn1.toDer(issuerNode).getBytes(), 'binary'),
    thisUpdate, nextUpdate, crlNumber, criticalExtensions, revoked,
  };
}

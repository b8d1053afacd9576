/**
 * X.509 v2 certificate revocation lists (RFC 5280 §5), built and read with forge's DER codec;
 * signing and signature checks are node:crypto's (this folder never verifies anything itself:
 * the caller does, with the bytes `parseCrl` returns).
 *
 * Built: version v2, sha256WithRSAEncryption, issuer = the CA's subject (its DER copied byte for
 * byte so it names the CA exactly), thisUpdate/nextUpdate, one entry per revoked serial with its
 * revocationDate and reasonCode (§5.3.1), extensions authorityKeyIdentifier and cRLNumber
 * (§5.2.1, §5.2.3: both MUST be present).
 */
import { sign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { OID_AUTHORITY_KEY_IDENTIFIER, OID_CRL_NUMBER, OID_CRL_REASON } from '../lib/oids.ts';

const { asn1, pki, util } = forge;
type Node = forge.asn1.Asn1;
const SHA256_RSA = '1.2.840.113549.1.1.11';

/** RFC 5280 §5.3.1 CRLReason values by name. */
export const CRL_REASONS = {
  unspecified: 0, keyCompromise: 1, cACompromise: 2, affiliationChanged: 3, superseded: 4, cessationOfOperation: 5, certificateHold: 6,
} as const;
export type CrlReason = keyof typeof CRL_REASONS;

export interface CrlEntry { serialHex: string; revokedAt: Date; reason: CrlReason }

export interface ParsedCrl {
  /** DER of tbsCertList: what the signature covers. */
  tbs: Buffer;
  signatureAlgorithm: string;
  signature: Buffer;
  thisUpdate: Date;
  nextUpdate: Date | null;
  crlNumber: number | null;
  /** Upper-case hex serials, no leading zero octet. */
  revoked: Map<string, { revokedAt: Date; reason: number | null }>;
}

const seq = (v: Node[]): Node => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, v);
const oid = (o: string): Node => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(o).getBytes());
const int = (bytes: string): Node => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, bytes);
const time = (d: Date): Node => (d.getUTCFullYear() < 2050
  ? asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(d))
  : asn1.create(asn1.Class.UNIVERSAL, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(d)));
const ext = (id: string, value: Node): Node => seq([oid(id), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, asn1.toDer(value).getBytes())]);

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
      seq([ext(OID_CRL_REASON, asn1.create(asn1.Class.UNIVERSAL, asn1.Type.ENUMERATED, false, String.fromCharCode(CRL_REASONS[e.reason])))]),
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

/** Parse a PEM or DER CRL; throws (any Error) when it is not one. */
export function parseCrl(input: string | Buffer): ParsedCrl {
  let der: Buffer;
  if (typeof input === 'string') {
    const m = /-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/.exec(input);
    if (!m) throw new Error('not a PEM CRL');
    der = Buffer.from(m[1]!.replace(/\s/g, ''), 'base64');
  } else der = input;
  const [tbs, algNode, sigNode] = parseDer(der.toString('binary')).value as Node[];
  if (!tbs || !algNode || !sigNode) throw new Error('not a CRL');
  const fields = tbs.value as Node[];
  const offset = fields[0]?.type === asn1.Type.INTEGER ? 1 : 0;
  const thisUpdate = readTime(fields[offset + 2]);
  if (!thisUpdate) throw new Error('CRL without thisUpdate');
  let i = offset + 3;
  const nextUpdate = readTime(fields[i]);
  if (nextUpdate) i++;
  const revoked = new Map<string, { revokedAt: Date; reason: number | null }>();
  let crlNumber: number | null = null;
  for (; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.tagClass === asn1.Class.UNIVERSAL && f.type === asn1.Type.SEQUENCE) {
      for (const entry of f.value as Node[]) {
        const [serial, date, exts] = entry.value as Node[];
        let reason: number | null = null;
        for (const e of (exts?.value as Node[] | undefined) ?? []) {
          const [id, val] = e.value as Node[];
          if (asn1.derToOid(id!.value as string) === OID_CRL_REASON) reason = (parseDer(val!.value as string).value as string).charCodeAt(0);
        }
        revoked.set(hexOf(serial!.value as string), { revokedAt: readTime(date) ?? thisUpdate, reason });
      }
    } else if (f.tagClass === asn1.Class.CONTEXT_SPECIFIC && f.type === 0) {
      for (const e of ((f.value as Node[])[0]!.value as Node[])) {
        const parts = e.value as Node[];
        if (asn1.derToOid(parts[0]!.value as string) === OID_CRL_NUMBER) {
          crlNumber = parseInt(util.bytesToHex(parseDer(parts[parts.length - 1]!.value as string).value as string), 16);
        }
      }
    }
  }
  const sigBytes = sigNode.value as string;
  return {
    tbs: Buffer.from(asn1.toDer(tbs).getBytes(), 'binary'),
    signatureAlgorithm: asn1.derToOid(((algNode.value as Node[])[0]!).value as string),
    signature: Buffer.from(sigBytes.slice(1), 'binary'),
    thisUpdate, nextUpdate, crlNumber, revoked,
  };
}

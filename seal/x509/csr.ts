/**
 * PKCS #10 certificate requests (RFC 2986): how the licence service asks an offline CA for a
 * seal or TSA certificate without the private key ever leaving its key store. The service
 * makes the key pair and the request; the CA (`yiwang seal issue-seal --csr`) reads the request,
 * checks its self-signature (proof that the requester holds the key) and certifies the public
 * key in it.
 *
 * As for certificates (./build.ts), node-forge only assembles and parses the ASN.1; the
 * signature is made and checked with node:crypto (SHA-256 with RSA), never forge's own RSA.
 */
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { OID_ORGANIZATION_IDENTIFIER } from '../lib/oids.ts';
import { nameAttributes, toForgePublicKey, type NameSpec } from './build.ts';

const { pki, asn1, util } = forge;

const SHA256_RSA = '1.2.840.113549.1.1.11';
const DIGESTS: Record<string, string> = {
  [SHA256_RSA]: 'sha256', '1.2.840.113549.1.1.12': 'sha384', '1.2.840.113549.1.1.13': 'sha512',
};

/** Thrown for text that is not a PKCS #10 request this profile accepts; callers map it to their own code. */
export class CsrSyntaxError extends Error {
  override name = 'CsrSyntaxError';
}

export interface CertificateRequest {
  /** The key to certify (node:crypto). */
  publicKey: KeyObject;
  subject: { commonName: string | null; organization: string | null; organizationIdentifier: string | null };
  /** RSA modulus length in bits. */
  modulusLength: number;
}

/** Build and sign (SHA-256) a request for `privateKey`'s public half; returns PEM. */
export function buildCsr(o: { subject: NameSpec; privateKey: KeyObject }): string {
  if (o.privateKey.type !== 'private' || o.privateKey.asymmetricKeyType !== 'rsa') throw new Error('a certificate request is signed with an RSA private key');
  const csr = pki.createCertificationRequest();
  csr.publicKey = toForgePublicKey(o.privateKey);
  csr.setSubject(nameAttributes(o.subject));
  const { getCertificationRequestInfo } = pki as unknown as { getCertificationRequestInfo(c: forge.pki.CertificateSigningRequest): forge.asn1.Asn1 };
  const cri = getCertificationRequestInfo(csr);
  const withInfo = csr as unknown as { certificationRequestInfo: forge.asn1.Asn1; signatureOid: string; signature: string };
  withInfo.certificationRequestInfo = cri;
  withInfo.signatureOid = SHA256_RSA;
  withInfo.signature = sign('sha256', Buffer.from(asn1.toDer(cri).getBytes(), 'binary'), o.privateKey).toString('binary');
  return pki.certificationRequestToPem(csr).replace(/\r\n/g, '\n');
}

function attribute(csr: forge.pki.CertificateSigningRequest, oid: string): string | null {
  const a = csr.subject.attributes.find((x) => x.type === oid);
  if (!a || typeof a.value !== 'string') return null;
  return (a.valueTagClass as unknown as number) === asn1.Type.UTF8 ? util.decodeUtf8(a.value) : a.value;
}

/**
 * Parse a PEM request and check its self-signature with node:crypto. Throws CsrSyntaxError for
 * anything else: not PEM, not PKCS #10, a non-RSA key, a refused algorithm, a bad signature.
 */
export function readCsr(pem: string): CertificateRequest {
  let csr: forge.pki.CertificateSigningRequest;
  try {
    csr = pki.certificationRequestFromPem(pem);
  } catch (e) {
    throw new CsrSyntaxError(`not a PKCS #10 RSA certificate request (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }
  const raw = csr as unknown as { certificationRequestInfo: forge.asn1.Asn1; signatureOid: string; signature: string };
  const digest = DIGESTS[raw.signatureOid];
  if (!digest) throw new CsrSyntaxError(`refused signature algorithm ${raw.signatureOid}`);
  const publicKey = createPublicKey(pki.publicKeyToPem(csr.publicKey as forge.pki.rsa.PublicKey));
  const criDer = Buffer.from(asn1.toDer(raw.certificationRequestInfo).getBytes(), 'binary');
  if (!verify(digest, criDer, publicKey, Buffer.from(raw.signature, 'binary'))) {
    throw new CsrSyntaxError('the request\'s signature does not verify with its own key');
  }
  return {
    publicKey,
    subject: {
      commonName: attribute(csr, '2.5.4.3'), organization: attribute(csr, '2.5.4.10'), organizationIdentifier: attribute(csr, OID_ORGANIZATION_IDENTIFIER),
    },
    modulusLength: publicKey.asymmetricKeyDetails?.modulusLength ?? 0,
  };
}

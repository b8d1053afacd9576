/**
 * Validating a certificate chain that secures no licence: an end-entity certificate someone
 * presents to prove who they are (an enterprise certificate, R-ID-4). The same path rules as a
 * seal chain (./path.ts: accepted signature algorithms, each certificate in its role, each
 * issued by the next, ending at a configured anchor), with the end certificate's extended key
 * usage chosen by the caller; then every certificate valid at `at` (./validity.ts) and none
 * listed in the CRLs given (./revocation.ts).
 *
 * Like verifyLicence it never throws for a bad chain: the answer names the first failed check
 * with its reason (the LICENCE_* vocabulary of lib/rejection.ts; callers map it to their own
 * codes). It throws for faults on the verifier's side (no or unparsable anchors or CRLs).
 */
import type { X509Certificate } from 'node:crypto';
import { loadAnchors } from '../trust/bundle.ts';
import { loadCrls } from '../trust/crl.ts';
import { reject, Rejection, type LicenceReason } from '../lib/rejection.ts';
import { buildPath } from './path.ts';
import { checkNotRevoked } from './revocation.ts';
import { checkValidAt } from './validity.ts';

const BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

export type CertificateChainResult =
  | {
    valid: true;
    /** The end certificate (node:crypto), e.g. for its public key. */
    certificate: X509Certificate;
    /** Its subject's organizationIdentifier (2.5.4.97), or null. */
    organizationIdentifier: string | null;
    /** The anchor the path ended at. */
    anchor: X509Certificate;
  }
  | { valid: false; reason: LicenceReason; message: string };

export interface CertificateChainOptions {
  /** PEM certificates trusted as chain ends. */
  trustAnchorsPem: readonly string[];
  /** Extended key usage the end certificate must carry (e.g. id-kp-clientAuth). */
  purpose: string;
  /** When every certificate must be valid (normally now). */
  at: Date;
  /** CRLs (PEM or DER) of the CAs of the path. */
  crls?: readonly (string | Buffer)[] | undefined;
}

/** `chainPem`: the end certificate first, then any CA certificates above it, as PEM blocks. */
export async function verifyCertificateChain(chainPem: string, o: CertificateChainOptions): Promise<CertificateChainResult> {
  const anchors = loadAnchors(o.trustAnchorsPem);
  const crls = o.crls?.length ? loadCrls(o.crls) : [];
  try {
    const x5c = [...String(chainPem).matchAll(BLOCK)].map((m) => m[1]!.replace(/\s+/g, ''));
    if (x5c.length === 0) reject('LICENCE_BROKEN_CHAIN', '未找到 PEM 格式的证书 / no PEM certificate found');
    const path = buildPath(x5c, anchors, o.purpose);
    checkValidAt(path, o.at);
    await checkNotRevoked(path, undefined, crls);
    const leaf = path[0]!;
    return { valid: true, certificate: leaf.cert, organizationIdentifier: leaf.profile.organizationIdentifier, anchor: path[path.length - 1]!.cert };
  } catch (e) {
    if (e instanceof Rejection) return { valid: false, reason: e.reason, message: e.message };
    throw e;
  }
}

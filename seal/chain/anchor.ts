/**
 * Where the chain must end: at a configured trust anchor (the national root, or any CA the
 * verifier chose to trust). Either an x5c certificate is an anchor (same SHA-256
 * fingerprint; the copy in x5c is replaced by the configured one) or an anchor issued it (names
 * chain and the anchor's key verifies its signature). Otherwise LICENCE_UNKNOWN_ISSUER.
 * Matching by name alone would let anyone mint a look-alike root.
 */
import { reject } from '../lib/rejection.ts';
import type { ChainCertificate } from './certificate.ts';
import { issuedBy } from './links.ts';

/** The full path, seal certificate first, ending with the anchor. */
export function anchorPath(chain: readonly ChainCertificate[], anchors: readonly ChainCertificate[]): ChainCertificate[] {
  // The first certificate that is itself an anchor ends the path; what x5c adds above it
  // (typically the root behind a trusted provincial CA) is not needed.
  for (let i = 0; i < chain.length; i++) {
    const same = anchors.find((a) => a.cert.fingerprint256 === chain[i]!.cert.fingerprint256);
    if (same) return [...chain.slice(0, i), same];
  }
  const last = chain[chain.length - 1]!;
  const issuer = anchors.find((a) => issuedBy(last, a));
  if (issuer) return [...chain, issuer];
  return reject('LICENCE_UNKNOWN_ISSUER', '证书链未终止于受信任的根证书 / the certificate chain does not end at a trusted root');
}

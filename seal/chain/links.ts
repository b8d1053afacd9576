/**
 * Each certificate of x5c must be issued by the next one: the names chain and the issuer's
 * key verifies the signature (RFC 5280 §6.1.3 (a)). Both checks are node:crypto's:
 * checkIssued compares the names (and key identifiers when present), verify(publicKey) checks
 * the signature. Runs after the role checks, so a CA without keyCertSign has already been
 * reported as LICENCE_WRONG_KEY_USAGE rather than here (OpenSSL's checkIssued also refuses it).
 */
import { reject } from '../lib/rejection.ts';
import type { ChainCertificate } from './certificate.ts';

/** True when `issuer` issued `child`: names chain and issuer's key verifies the signature. */
export function issuedBy(child: ChainCertificate, issuer: ChainCertificate): boolean {
  return child.cert.checkIssued(issuer.cert) && child.cert.verify(issuer.cert.publicKey);
}

export function checkLinks(chain: readonly ChainCertificate[]): void {
  for (let i = 0; i + 1 < chain.length; i++) {
    const child = chain[i]!;
    const issuer = chain[i + 1]!;
    if (!child.cert.checkIssued(issuer.cert)) {
      reject('LICENCE_BROKEN_CHAIN', `x5c[${i}] 的签发者不是 x5c[${i + 1}]（名称不衔接）/ x5c[${i}] does not name x5c[${i + 1}] as its issuer`);
    }
    if (!child.cert.verify(issuer.cert.publicKey)) {
      reject('LICENCE_BROKEN_CHAIN', `x5c[${i}] 的签名不能用 x5c[${i + 1}] 的公钥验证 / x5c[${i}] is not signed by x5c[${i + 1}]`);
    }
  }
}

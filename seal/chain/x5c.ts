/**
 * The x5c header (RFC 7515 §4.1.6): the seal certificate first, then each certificate that
 * certifies the one before it, as standard base64 DER. Anything missing, unreadable, signed
 * with a refused algorithm or carrying a repeated extension is LICENCE_BROKEN_CHAIN.
 */
import { ACCEPTED_SIGNATURE_ALGORITHMS } from '../lib/oids.ts';
import { decodeBase64 } from '../lib/base64.ts';
import { reject } from '../lib/rejection.ts';
import { loadCertificate, type ChainCertificate } from './certificate.ts';

/** Root, provincial CA, seal, with room for one more level; longer chains are refused. */
const MAX_CHAIN = 6;

export function readX5c(x5c: unknown): ChainCertificate[] {
  if (!Array.isArray(x5c) || x5c.length === 0) reject('LICENCE_BROKEN_CHAIN', '证照未附证书链（x5c）/ the licence carries no certificate chain (x5c)');
  if (x5c.length > MAX_CHAIN) reject('LICENCE_BROKEN_CHAIN', `证书链过长（>${MAX_CHAIN}）/ the certificate chain is too long (>${MAX_CHAIN})`);
  return x5c.map((entry: unknown, i) => {
    const der = typeof entry === 'string' ? decodeBase64(entry) : null;
    if (!der || der.length === 0) reject('LICENCE_BROKEN_CHAIN', `x5c[${i}] 不是 base64 / x5c[${i}] is not base64`);
    let c: ChainCertificate;
    try {
      c = loadCertificate(der);
    } catch {
      return reject('LICENCE_BROKEN_CHAIN', `x5c[${i}] 不是可解析的证书 / x5c[${i}] is not a parsable certificate`);
    }
    if (!ACCEPTED_SIGNATURE_ALGORITHMS.has(c.profile.signatureAlgorithm) || !c.profile.signatureAlgorithmsMatch) {
      reject('LICENCE_BROKEN_CHAIN', `x5c[${i}] 的签名算法不被接受（${c.profile.signatureAlgorithm}）/ x5c[${i}] is signed with a refused algorithm (${c.profile.signatureAlgorithm})`);
    }
    if (c.profile.duplicateExtensions) reject('LICENCE_BROKEN_CHAIN', `x5c[${i}] 含重复扩展 / x5c[${i}] repeats an extension`);
    return c;
  });
}

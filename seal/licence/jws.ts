/**
 * Producing the compact JWS of anything the platform seals (licences, status lists, timestamp
 * tokens): the chain in x5c (RFC 7515 §4.1.6), the algorithm from the key, signed by
 * node:crypto through jose. Checks that the key belongs to the first certificate.
 */
import type { KeyObject } from 'node:crypto';
import { CompactSign } from 'jose';
import { AppError } from '../../kernel/errors.ts';
import { samePublicKey } from '../chain/accept.ts';
import { loadCertificate, type ChainCertificate } from '../chain/certificate.ts';
import type { LicenceAlgorithm } from './compact.ts';

export interface Signer {
  privateKey: KeyObject;
  /** End certificate first, then each issuer. */
  chainPem: string[];
}

export function algorithmFor(key: KeyObject): LicenceAlgorithm {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new AppError('BAD_INPUT', '印章密钥须为 RSA 或 P-256 / the seal key must be RSA or P-256');
}

/** Checked chains by key and chain array: a signer that keeps both (the licence service does) is parsed once. */
const checked = new WeakMap<KeyObject, WeakMap<string[], ChainCertificate[]>>();

/** Parse the chain and check the key is the first certificate's; BAD_INPUT otherwise. */
export function loadSignerChain(s: Signer): ChainCertificate[] {
  const known = checked.get(s.privateKey)?.get(s.chainPem);
  if (known) return known;
  const chain = parseSignerChain(s);
  const byChain = checked.get(s.privateKey) ?? new WeakMap<string[], ChainCertificate[]>();
  byChain.set(s.chainPem, chain);
  checked.set(s.privateKey, byChain);
  return chain;
}

function parseSignerChain(s: Signer): ChainCertificate[] {
  if (s.privateKey.type !== 'private') throw new AppError('BAD_INPUT', '需要印章私钥 / the seal private key is required');
  if (!s.chainPem.length) throw new AppError('BAD_INPUT', '需要印章证书链 / the seal certificate chain is required');
  let chain: ChainCertificate[];
  try {
    chain = s.chainPem.map((pem) => loadCertificate(pem));
  } catch {
    throw new AppError('BAD_INPUT', '印章证书链无法解析 / the seal certificate chain cannot be parsed');
  }
  if (!samePublicKey(s.privateKey, chain[0]!.cert.publicKey)) {
    throw new AppError('BAD_INPUT', '私钥与印章证书不匹配 / the private key does not belong to the seal certificate');
  }
  return chain;
}

export async function signJws(payload: Uint8Array, s: Signer, chain: readonly ChainCertificate[], header: Record<string, unknown>): Promise<string> {
  return new CompactSign(payload)
    .setProtectedHeader({ alg: algorithmFor(s.privateKey), ...header, x5c: chain.map((c) => c.cert.raw.toString('base64')) })
    .sign(s.privateKey);
}

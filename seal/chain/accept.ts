/**
 * Accepting a certificate an outside CA issued for a key we hold: the licence service installs
 * the chain an offline CA (`yiwang seal issue-seal --csr`) returned for its pending request.
 * The same path rules as for a licence (./path.ts), judged now, plus what ties the certificate
 * to the request. Each refusal has its own code (kernel/errors.ts), checked in this order:
 *
 *  1. PEM with at least one certificate, each parsable           SEAL_CHAIN_INVALID
 *  2. the first certificate certifies the pending public key     SEAL_KEY_MISMATCH
 *  3. it is a seal certificate (or a TSA one, as requested):
 *     not a CA, keyUsage, the one extKeyUsage                     SEAL_USAGE_INVALID
 *  4. each certificate issued by the next, CA constraints, and
 *     the chain ends at a configured trust anchor                 SEAL_CHAIN_INVALID (details.reason)
 *  5. every certificate of the path valid now                    SEAL_CHAIN_INVALID
 *  6. no certificate of the path listed in the CRL of the CA
 *     that issued it (`crls`, the CA's CRLs at hand)              SEAL_CHAIN_INVALID (LICENCE_CERT_REVOKED)
 *  7. a seal names the agency: organizationIdentifier = its
 *     credit code and O = its name                                SEAL_AGENCY_MISMATCH
 *
 * acceptCertifiedCa does the same for a platform's own seal CA certified by the national root
 * (LICENCE_SEAL_MODE=subordinate, R-LI-3): step 3 is "a CA" (cA, keyCertSign, a pathLen that
 * leaves room for the seals below it), step 7 does not apply.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { AppError } from '../../kernel/errors.ts';
import { OID_KP_DOCUMENT_SIGNING, OID_KP_TIME_STAMPING } from '../lib/oids.ts';
import { Rejection } from '../lib/rejection.ts';
import { listedIn } from '../trust/crl.ts';
import type { ParsedCrl } from '../x509/index.ts';
import { loadCertificate, oneLineName, type ChainCertificate } from './certificate.ts';
import { anchorPath } from './anchor.ts';
import { checkRole } from './constraints.ts';
import { checkLinks } from './links.ts';
import { buildPath } from './path.ts';
import { checkValidAt } from './validity.ts';

const BLOCK = /-----BEGIN CERTIFICATE-----\r?\n[\s\S]*?-----END CERTIFICATE-----/g;

export type CertifiedRole = 'seal' | 'tsa';

export interface AcceptedChain {
  /** The chain as given, end certificate first, one PEM each (what x5c will carry). */
  chainPem: string[];
  /** The validated path: the chain, ending with the anchor. */
  path: ChainCertificate[];
}

const spki = (key: KeyObject): Buffer => (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' });

/** True when two keys (either may be private) have the same public half. */
export function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  return spki(a).equals(spki(b));
}

function asAppError(e: unknown, code: 'SEAL_CHAIN_INVALID' | 'SEAL_USAGE_INVALID'): never {
  if (e instanceof Rejection) throw new AppError(code, `证书链不被接受：${e.message}`, { reason: e.reason });
  throw e;
}

/** Steps 1 and 2: the PEM blocks and their certificates, the first certifying `publicKey`. */
function readOffered(pem: string, publicKey: KeyObject): { blocks: string[]; chain: ChainCertificate[] } {
  const blocks = (pem.match(BLOCK) ?? []).map((b) => `${b.replace(/\r\n/g, '\n')}\n`);
  if (blocks.length === 0) throw new AppError('SEAL_CHAIN_INVALID', '没有证书（需要 PEM 格式的证书链）/ no certificate: a PEM certificate chain is required', { reason: 'LICENCE_BROKEN_CHAIN' });
  const chain = blocks.map((b, i) => {
    try {
      return loadCertificate(b);
    } catch {
      throw new AppError('SEAL_CHAIN_INVALID', `第 ${i + 1} 个证书无法解析 / certificate ${i + 1} cannot be parsed`, { reason: 'LICENCE_BROKEN_CHAIN' });
    }
  });
  if (!samePublicKey(chain[0]!.cert.publicKey, publicKey)) {
    throw new AppError('SEAL_KEY_MISMATCH', '证书所含公钥不是本次申请的密钥 / the certificate does not certify the key of this request');
  }
  return { blocks, chain };
}

/** Step 6: no certificate of the path listed in the CRL of its issuer. */
function checkNotListed(path: readonly ChainCertificate[], crls: readonly ParsedCrl[]): void {
  for (let i = 0; i + 1 < path.length; i++) {
    const entry = listedIn(crls, path[i]!.cert, path[i + 1]!.cert);
    if (entry) {
      const who = oneLineName(path[i]!.cert.subject);
      throw new AppError('SEAL_CHAIN_INVALID', `证书已被其CA吊销：${who}（${entry.revokedAt.toISOString()}）/ certificate revoked by its CA: ${who}`, { reason: 'LICENCE_CERT_REVOKED' });
    }
  }
}

export function acceptCertifiedChain(o: {
  pem: string; anchorsPem: readonly string[]; role: CertifiedRole; publicKey: KeyObject; now: Date;
  agency?: { code: string; name: string } | undefined;
  /** CRLs of the CAs (the licence service's imported ones): a certificate they list is refused. */
  crls?: readonly ParsedCrl[] | undefined;
}): AcceptedChain {
  const { blocks, chain } = readOffered(o.pem, o.publicKey);
  const leaf = chain[0]!;
  const purpose = o.role === 'seal' ? OID_KP_DOCUMENT_SIGNING : OID_KP_TIME_STAMPING;
  try {
    checkRole(leaf, 0, purpose);
  } catch (e) {
    asAppError(e, 'SEAL_USAGE_INVALID');
  }
  let path: ChainCertificate[];
  try {
    path = buildPath(chain.map((c) => c.cert.raw.toString('base64')), o.anchorsPem.map((p) => loadCertificate(p)), purpose);
    checkValidAt(path, o.now);
  } catch (e) {
    return asAppError(e, 'SEAL_CHAIN_INVALID');
  }
  checkNotListed(path, o.crls ?? []);
  if (o.agency) {
    const { organizationIdentifier: code, organization: name } = leaf.profile;
    if (code !== o.agency.code || name !== o.agency.name) {
      throw new AppError('SEAL_AGENCY_MISMATCH',
        `印章证书所属机构（${name ?? '无'}，${code ?? '无'}）不是 ${o.agency.name}（${o.agency.code}）/ the seal certificate names another agency: ${oneLineName(leaf.cert.subject)}`,
        { expected: o.agency.code, found: code });
    }
  }
  return { chainPem: blocks, path };
}

/** A platform's seal CA (its own key, certified by a superior CA): the chain, CA first, and its path to an anchor. */
export function acceptCertifiedCa(o: {
  pem: string; anchorsPem: readonly string[]; publicKey: KeyObject; now: Date; crls?: readonly ParsedCrl[] | undefined;
}): AcceptedChain {
  const { blocks, chain } = readOffered(o.pem, o.publicKey);
  try {
    // The offered CA must still be able to certify one level of seals below it.
    chain.forEach((c, i) => checkRole(c, i + 1));
  } catch (e) {
    asAppError(e, 'SEAL_USAGE_INVALID');
  }
  let path: ChainCertificate[];
  try {
    checkLinks(chain);
    path = anchorPath(chain, o.anchorsPem.map((p) => loadCertificate(p)));
    if (path.length === 1) throw new AppError('SEAL_CHAIN_INVALID', '提交的是信任根本身，不是其签发的CA / that is the trust anchor itself, not a CA it certified', { reason: 'LICENCE_UNKNOWN_ISSUER' });
    for (let i = chain.length; i < path.length; i++) checkRole(path[i]!, i + 1);
    checkValidAt(path, o.now);
  } catch (e) {
    return asAppError(e, 'SEAL_CHAIN_INVALID');
  }
  checkNotListed(path, o.crls ?? []);
  return { chainPem: blocks, path };
}

/**
 * Trust bundles: a PEM file with the certificates a verifier trusts (normally the national
 * root; a verifier may add a provincial CA). Text outside the CERTIFICATE blocks (comments,
 * "subject=" lines written by openssl) is ignored; a block that is not a certificate is a
 * configuration error, not something to skip quietly.
 */
import { AppError } from '../../kernel/errors.ts';
import { loadCertificate, type ChainCertificate } from '../chain/certificate.ts';

const BLOCK = /-----BEGIN CERTIFICATE-----\r?\n[\s\S]*?-----END CERTIFICATE-----/g;

/** Split a PEM bundle into one PEM string per certificate; throws CONFIG_INVALID on a bad block. */
export function readTrustBundle(pem: string): string[] {
  const blocks = (pem.match(BLOCK) ?? []).map((b) => `${b.replace(/\r\n/g, '\n')}\n`);
  blocks.forEach((b, i) => {
    try {
      loadCertificate(b);
    } catch {
      throw new AppError('CONFIG_INVALID', `信任证书包第 ${i + 1} 个证书无法解析 / certificate ${i + 1} of the trust bundle cannot be parsed`);
    }
  });
  return blocks;
}

/** Parse configured anchors; an empty or unparsable list is a configuration error. */
export function loadAnchors(pems: readonly string[]): ChainCertificate[] {
  if (pems.length === 0) throw new AppError('CONFIG_INVALID', '未配置信任根证书 / no trust anchor configured');
  return pems.map((pem, i) => {
    try {
      return loadCertificate(pem);
    } catch {
      throw new AppError('CONFIG_INVALID', `第 ${i + 1} 个信任根证书无法解析 / trust anchor ${i + 1} cannot be parsed`);
    }
  });
}

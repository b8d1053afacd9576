/**
 * Linking an enterprise certificate (R-ID-4, G 5.1.2(1)② 关联注册: 已使用企业CA认证的用户): the
 * company proves it holds an X.509 enterprise certificate by signing a challenge of ours with
 * the certificate's key. Rules, in order:
 *
 * 1. The challenge (`yiwang-enterprise-cert:<issuer>:<random>`) was issued by this IdP to this
 *    account, less than IDP_CERT_CHALLENGE_TTL_SECONDS ago, and is used once — by the first
 *    attempt, whatever its outcome (one DEL wins) — else CHALLENGE_INVALID.
 * 2. The chain (PEM: the certificate, then any CA certificates above it) ends at a trusted
 *    enterprise CA (IDP_ENTERPRISE_CA_BUNDLE) under the seal library's path rules (node-forge
 *    reads the extensions, node:crypto checks every signature): ENTERPRISE_CERT_INVALID (chain
 *    broken or unparsable), ENTERPRISE_CERT_UNTRUSTED, ENTERPRISE_CERT_KEY_USAGE (an end entity
 *    with keyUsage digitalSignature or nonRepudiation and extKeyUsage id-kp-clientAuth; CAs with
 *    CA constraints); every certificate valid now (ENTERPRISE_CERT_EXPIRED) and not listed in
 *    the CAs' CRLs (IDP_ENTERPRISE_CRLS, ENTERPRISE_CERT_REVOKED).
 * 3. The subject's organizationIdentifier (2.5.4.97) is a valid unified social credit code
 *    (plain, or ETSI EN 319 412-1 form `NTRCN-<code>`), else ENTERPRISE_CERT_CREDIT_CODE; the
 *    company name is the subject's O (else CN).
 * 4. The signature (base64 of what `openssl dgst -sha256 -sign key.pem` writes: RSA PKCS #1
 *    v1.5 or ECDSA with SHA-256; Ed25519 signs the text itself) verifies over the challenge's
 *    UTF-8 bytes with the certificate's public key (node:crypto), else ENTERPRISE_SIGNATURE_INVALID.
 *
 * Level L5 ("certificate"). Whether the person is the company's legal representative is the
 * business registry's word (idp/company/companies.ts).
 */
import { createHash, randomBytes, verify, type X509Certificate } from 'node:crypto';
import type { Cache } from '../../kernel/cache.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Config } from '../../kernel/config.ts';
import { AppError, type ErrorCode } from '../../kernel/errors.ts';
import { isValidCreditCode } from '../../kernel/ids.ts';
import { OID_KP_CLIENT_AUTH, readTrustBundle, verifyCertificateChain } from '../../seal/index.ts';
import type { AccountRecord } from '../accounts/store.ts';
import type { CompanyProof } from './companies.ts';
import { notConfigured, readFileList, readPemSetting } from './trust.ts';

type CertConfig = Pick<Config, 'IDP_ENTERPRISE_CA_BUNDLE' | 'IDP_ENTERPRISE_CRLS' | 'IDP_CERT_CHALLENGE_TTL_SECONDS' | 'IDP_ISSUER'>;

/** The seal library's path verdicts, in this route's words. */
const REASONS: Record<string, { code: ErrorCode; message: string }> = {
  LICENCE_BROKEN_CHAIN: { code: 'ENTERPRISE_CERT_INVALID', message: '证书或证书链无法解析或不衔接 / the certificate or its chain is unparsable or does not link up' },
  LICENCE_UNKNOWN_ISSUER: { code: 'ENTERPRISE_CERT_UNTRUSTED', message: '该证书不是由受信任的企业数字证书认证机构签发 / the certificate was not issued by a trusted enterprise CA' },
  LICENCE_WRONG_KEY_USAGE: { code: 'ENTERPRISE_CERT_KEY_USAGE', message: '该证书不是用于身份认证的企业签名证书（密钥用途） / the certificate is not an enterprise signing certificate for authentication (key usage)' },
  LICENCE_CERT_NOT_VALID_AT_SIGNING: { code: 'ENTERPRISE_CERT_EXPIRED', message: '证书（或其上级证书）不在有效期内 / the certificate (or a CA above it) is not valid now' },
  LICENCE_CERT_REVOKED: { code: 'ENTERPRISE_CERT_REVOKED', message: '证书已被吊销 / the certificate has been revoked' },
};

const str = (v: unknown, max: number) => (typeof v === 'string' && v.length <= max ? v.trim() : '');

function companyName(cert: X509Certificate): string {
  const subject = cert.toLegacyObject().subject as Record<string, string | string[] | undefined>;
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  return (first(subject.O) ?? first(subject.CN) ?? '').trim();
}

export function createCertificateProof(d: { cache: Cache; clock: Clock; config: CertConfig }) {
  const { cache, clock, config } = d;
  const ttl = config.IDP_CERT_CHALLENGE_TTL_SECONDS;
  const key = (challenge: string) => `company:cert-challenge:${createHash('sha256').update(challenge).digest('base64url')}`;
  const badChallenge = () => new AppError('CHALLENGE_INVALID', '挑战码无效、已过期或已使用，请重新获取 / the challenge is unknown, expired or used; ask for a new one');

  return {
    /** A fresh challenge for this account to sign. */
    async challenge(accountId: string): Promise<{ challenge: string; expiresIn: number }> {
      const challenge = `yiwang-enterprise-cert:${config.IDP_ISSUER}:${randomBytes(24).toString('base64url')}`;
      await cache.set(key(challenge), JSON.stringify({ accountId, exp: clock.now().getTime() + ttl * 1000 }), { ttlSeconds: ttl });
      return { challenge, expiresIn: ttl };
    },

    async prove(rep: AccountRecord, body: unknown): Promise<CompanyProof> {
      const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
      const challenge = str(b.challenge, 300);
      const chainPem = str(b.certificate, 32 * 1024);
      const signature = str(b.signature, 4096).replace(/\s+/g, '');
      const missing = (['challenge', 'certificate', 'signature'] as const).filter((k) => !{ challenge, certificate: chainPem, signature }[k]);
      if (missing.length) throw new AppError('BAD_INPUT', `请填写：${missing.join('、')} / required: ${missing.join(', ')}`, { fields: missing });

      // 1. Ours, for this account, in time, once.
      const raw = await cache.get(key(challenge));
      const issued = raw ? JSON.parse(raw) as { accountId: string; exp: number } : undefined;
      if (!issued || issued.accountId !== rep.id || issued.exp <= clock.now().getTime()) throw badChallenge();
      if (await cache.del(key(challenge)) !== 1) throw badChallenge();

      // 2. The chain.
      const pem = readPemSetting('IDP_ENTERPRISE_CA_BUNDLE', config.IDP_ENTERPRISE_CA_BUNDLE);
      const anchors = pem ? readTrustBundle(pem) : [];
      if (!anchors.length) throw notConfigured('受信任的企业数字证书认证机构 / a trusted enterprise CA');
      const r = await verifyCertificateChain(chainPem, {
        trustAnchorsPem: anchors, purpose: OID_KP_CLIENT_AUTH, at: clock.now(), crls: readFileList('IDP_ENTERPRISE_CRLS', config.IDP_ENTERPRISE_CRLS),
      });
      if (!r.valid) {
        const m = REASONS[r.reason] ?? REASONS.LICENCE_BROKEN_CHAIN!;
        throw new AppError(m.code, m.message);
      }

      // 3. Whose it is.
      const code = (r.organizationIdentifier ?? '').replace(/^NTRCN-/, '').toUpperCase();
      const name = companyName(r.certificate);
      if (!isValidCreditCode(code) || !name) {
        throw new AppError('ENTERPRISE_CERT_CREDIT_CODE', '证书主体未载明有效的统一社会信用代码 / the certificate\'s subject carries no valid unified social credit code');
      }

      // 4. Possession of its key.
      // Node's base64 decoder takes the URL-safe alphabet too.
      const sig = Buffer.from(signature, 'base64');
      const alg = r.certificate.publicKey.asymmetricKeyType === 'ed25519' ? null : 'sha256';
      let ok = false;
      try {
        ok = sig.length > 0 && verify(alg, Buffer.from(challenge, 'utf8'), r.certificate.publicKey, sig);
      } catch {
        ok = false;
      }
      if (!ok) throw new AppError('ENTERPRISE_SIGNATURE_INVALID', '签名无法用该证书的公钥验证（请对挑战码原文签名） / the signature does not verify with the certificate\'s public key (sign the challenge text exactly)');

      const c = r.certificate;
      const certificate = {
        fingerprint: c.fingerprint256, serial: c.serialNumber.toUpperCase(), issuer: c.issuer.split('\n').join(', '),
        subject: c.subject.split('\n').join(', '), notAfter: c.validToDate.toISOString(),
      };
      return { route: 'certificate', creditCode: code, name, level: 5, evidence: { certificate: certificate.fingerprint, serial: certificate.serial, issuer: certificate.issuer }, certificate };
    },
  };
}
export type CertificateProof = ReturnType<typeof createCertificateProof>;

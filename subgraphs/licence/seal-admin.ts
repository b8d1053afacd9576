/**
 * Seal administration (R-LI-3 "one trusted seal service", R-LI-4 "the seal service is
 * supervised"): the proper PKI flow for seals from an outside CA, and the service's revocation of
 * its own seal and TSA certificates. Every act is authorised and recorded (./seal-audit.ts) in
 * the transaction that does it; a refused act stores nothing.
 *
 * Who: an agency's seal — deciders of that agency (the agency answers for what its seal signs,
 * as for revoking its licences); the platform TSA — deciders of LICENCE_OPERATOR_AGENCY.
 *
 * 1. request: the service makes an RSA 2048 key pair, keeps the private key in its key store
 *    (encrypted under KEY_PASSPHRASE, or the KeyStore), and returns a PKCS #10 request naming
 *    the seal (CN), the agency (O) and its credit code (organizationIdentifier).
 * 2. the offline CA certifies it: `npx yiwang seal issue-seal --csr req.pem … --out chain.pem`.
 * 3. install: the chain must certify the pending key, be a seal (or TSA) certificate of that
 *    agency, chain to a configured trust anchor and be valid now (seal/chain/accept.ts, each
 *    refusal with its SEAL_* code); a seal image, if given, must be the one it certifies. The
 *    newest installed valid certificate then signs the agency's licences and status lists.
 * 4. revoke (keyCompromise — with an optional invalidity date, since when the key is known or
 *    suspected to be compromised —, affiliationChanged = agency renamed, superseded,
 *    cessationOfOperation, unspecified): the certificate is no longer used; the service's CRL
 *    lists it at once when the service issued it (an outside CA publishes its own CRL: revoke it
 *    there too, `yiwang seal revoke`); the agency's cached status lists are dropped so they are
 *    sealed again by the next seal; in platform mode the next issuance gets a fresh seal
 *    certificate. Licences sealed earlier keep the verifier's rule (seal/chain/revocation.ts):
 *    valid only when their platform timestamp proves them older than the revocation (a
 *    non-compromise reason) or than the invalidity date (keyCompromise).
 * The outside CA's own revocations arrive with its CRL (./crl-import.ts), which marks the
 * certificates it lists the same way (markRevoked).
 */
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import type { Clock } from '../../kernel/clock.ts';
import type { Db, Queryable } from '../../kernel/db.ts';
import { AppError } from '../../kernel/errors.ts';
import { isValidCreditCode } from '../../kernel/ids.ts';
import { ORGANIZATION_NAME, requireName } from '../../kernel/names.ts';
import { requireStaffRole, type Caller } from '../../kernel/internal-auth.ts';
import { acceptCertifiedChain, buildCsr, describeCertificate, loadCertificate, readCsr, readInvalidityDate, type CrlReason } from '../../seal/index.ts';
import { LICENCE_SCHEMA as S } from './migrations.ts';
import { isJpeg, isPng } from './qr.ts';
import { recordSealAct, type SealActor, type SealRole } from './seal-audit.ts';
import { SEAL_PURPOSE } from './seal-image.ts';
import { CRL_IMPORT_LOCK, crlUrl, sealLock, TSA_NAME, TSA_USE_LOCK, type CertRow, type TrustStore } from './trust.ts';
import type { CrlImports } from './imported-crls.ts';

export interface SealAdmin {
  db: Db; trust: TrustStore; clock: Clock;
  /** The service's trust anchors: an installed chain must end at one. */
  anchorsPem: readonly string[];
  /** The outside CA's CRLs imported into the service: an installed chain must not be listed there. */
  crls: CrlImports;
  /** LICENCE_OPERATOR_AGENCY. */
  operatorAgency: string | undefined;
  /** LICENCE_PUBLIC_URL, for the CRL URL of what the service issued. */
  publicBase: string;
}

/** Reasons the service revokes its own certificates with (RFC 5280 §5.3.1; no hold, no CA reasons). */
export const SEAL_REVOCATION_REASONS: readonly CrlReason[] = ['unspecified', 'keyCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation'];

const MAX_NAME = 100;
const MAX_NOTE = 500;
const MAX_IMAGE = 1024 * 1024;

/** A decider of the agency operating the service (LICENCE_OPERATOR_AGENCY): the TSA, the outside CA's CRLs. */
export function operatorActor(a: SealAdmin, caller: Caller): SealActor {
  if (!a.operatorAgency) throw new AppError('FORBIDDEN', '未配置平台运营机构（LICENCE_OPERATOR_AGENCY）/ no operating agency configured (LICENCE_OPERATOR_AGENCY)');
  const s = requireStaffRole(caller, a.operatorAgency, 'decider');
  return { id: s.sub, name: s.name, agency: s.agency };
}

/** The decider allowed to act on this role's certificates (of this agency); throws ROLE_REQUIRED / FORBIDDEN. */
export function sealActor(a: SealAdmin, caller: Caller, role: SealRole, agencyCode: string | null): SealActor {
  if (role === 'tsa') return operatorActor(a, caller);
  const s = requireStaffRole(caller, agencyCode ?? '', 'decider');
  return { id: s.sub, name: s.name, agency: s.agency };
}

function text(v: string | null | undefined, field: string, max: number): string {
  const t = (v ?? '').trim();
  if (!t || t.length > max) throw new AppError('BAD_INPUT', `${field} 不能为空且不超过 ${max} 字 / ${field} is required (at most ${max} characters)`, { field });
  return t;
}

export interface RequestRow {
  id: string; role: SealRole; agency_code: string | null; agency_name: string | null; seal_name: string | null; subject_name: string;
  csr_pem: string; key_pem: string; state: 'pending' | 'installed'; requested_at: Date | string; requested_by: string; certificate_id: string | null;
}

/** Step 1: a key pair kept in the key store and the PKCS #10 request for it. */
export async function requestCertificate(
  a: SealAdmin, caller: Caller, r: { role: SealRole; agencyCode?: string | null; agencyName?: string | null; name?: string | null },
): Promise<RequestRow> {
  const agencyCode = r.role === 'seal' ? text(r.agencyCode, 'agencyCode', 18) : null;
  const actor = sealActor(a, caller, r.role, agencyCode);
  if (agencyCode !== null && !isValidCreditCode(agencyCode)) throw new AppError('CREDIT_CODE_INVALID', '统一社会信用代码格式错误 / malformed unified social credit code', { field: 'agencyCode' });
  // The names go into the certificate's subject, and from there onto every licence it seals: no invisible characters.
  const agencyName = r.role === 'seal' ? requireName(r.agencyName, { ...ORGANIZATION_NAME, max: MAX_NAME }, 'agencyName') : null;
  const name = r.name?.trim() ? requireName(r.name, { min: 1, max: MAX_NAME, label: ['名称', 'the name'] }, 'name') : r.role === 'seal' ? `${agencyName}${SEAL_PURPOSE}` : TSA_NAME;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const csr = buildCsr({
    subject: r.role === 'seal' ? { commonName: name, organization: agencyName!, organizationIdentifier: agencyCode! } : { commonName: name },
    privateKey,
  });
  const id = randomUUID();
  const now = a.clock.now();
  return a.db.tx(async (q) => {
    const keyPem = await a.trust.storeKey(id, privateKey);
    const { rows } = await q.query<RequestRow>(
      `insert into ${S}.seal_requests (id, role, agency_code, agency_name, seal_name, subject_name, csr_pem, key_pem, requested_at, requested_by)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning *`,
      [id, r.role, agencyCode, agencyName, r.role === 'seal' ? name : null, name, csr, keyPem, now, actor.name]);
    await recordSealAct(q, actor, { action: 'request', role: r.role, agencyCode, requestId: id, details: { subject: name } }, now);
    return rows[0]!;
  });
}

function sealImage(b64: string | null | undefined, certPem: string): Buffer | null {
  if (b64 === null || b64 === undefined || b64 === '') return null;
  const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(b64.trim()) ? Buffer.from(b64.trim(), 'base64') : null;
  if (!bytes || !(isPng(bytes) || isJpeg(bytes)) || bytes.length > MAX_IMAGE) {
    throw new AppError('BAD_INPUT', '印章图像须为 1 MB 以内的 PNG 或 JPEG（base64）/ the seal image must be a PNG or JPEG of at most 1 MB, in base64', { field: 'sealImage' });
  }
  const bound = loadCertificate(certPem).profile.sealImageSha256;
  if (bound !== createHash('sha256').update(bytes).digest('hex')) {
    throw new AppError('BAD_INPUT', '印章图像不是证书所绑定的图像 / the seal image is not the one the certificate binds', { field: 'sealImage' });
  }
  return bytes;
}

async function pendingRequest(q: Queryable, id: string): Promise<RequestRow> {
  const { rows } = /^[0-9a-f-]{36}$/i.test(id)
    ? await q.query<RequestRow>(`select * from ${S}.seal_requests where id = $1 for update`, [id]) : { rows: [] };
  if (!rows[0]) throw new AppError('NOT_FOUND', '没有该证书申请 / no such certificate request');
  return rows[0];
}

/** Step 3: install the outside CA's chain for a pending request. */
export async function installCertificate(
  a: SealAdmin, caller: Caller, r: { requestId: string; chain: string; sealImage?: string | null },
): Promise<CertRow> {
  return a.db.tx(async (q) => {
    const req = await pendingRequest(q, r.requestId);
    const actor = sealActor(a, caller, req.role, req.agency_code);
    if (req.state !== 'pending') throw new AppError('CONFLICT', '该申请已安装证书 / a certificate was already installed for this request');
    // Shared with other installations, exclusive for a CRL import: no chain it lists slips in meanwhile.
    await q.query('select pg_advisory_xact_lock_shared(hashtext($1))', [CRL_IMPORT_LOCK]);
    const now = a.clock.now();
    const accepted = acceptCertifiedChain({
      pem: r.chain, anchorsPem: a.anchorsPem, role: req.role, publicKey: readCsr(req.csr_pem).publicKey, now, crls: await a.crls.current(q),
      agency: req.role === 'seal' ? { code: req.agency_code!, name: req.agency_name! } : undefined,
    });
    const [leafPem, ...issuers] = accepted.chainPem as [string, ...string[]];
    const image = sealImage(r.sealImage, leafPem);
    const d = describeCertificate(leafPem);
    const { rows: dup } = await q.query(`select 1 from ${S}.certificates where serial_hex = $1 and issuer_dn = $2`, [d.serialHex, d.issuer]);
    if (dup.length) throw new AppError('CONFLICT', '该证书已安装 / this certificate is already installed');
    const id = randomUUID();
    const { rows } = await q.query<CertRow>(
      `insert into ${S}.certificates (id, role, agency_code, issuer_id, serial_hex, subject, issuer_dn, cert_pem, key_pem, not_before, not_after,
         created_at, source, chain_pem, seal_image)
       values ($1, $2, $3, null, $4, $5, $6, $7, $8, $9, $10, $11, 'external', $12, $13) returning *`,
      [id, req.role, req.agency_code, d.serialHex, d.subject, d.issuer, leafPem, req.key_pem,
        new Date(d.notBefore.getTime()), new Date(d.notAfter.getTime()), now, issuers.join(''), image]);
    await q.query(`update ${S}.seal_requests set state = 'installed', certificate_id = $2 where id = $1`, [req.id, id]);
    await recordSealAct(q, actor, {
      action: 'install', role: req.role, agencyCode: req.agency_code, certificateId: id, requestId: req.id,
      details: { serialHex: d.serialHex, issuer: d.issuer, notAfter: d.notAfter.toISOString(), anchor: accepted.path.at(-1)!.cert.subject.split('\n').join(', ') },
    }, now);
    return rows[0]!;
  });
}

export interface Revocation {
  revokedAt: Date; reason: CrlReason; invalidityDate: Date | null;
  /** The imported CRL that listed it (./crl-import.ts); absent when the service revokes it itself. */
  crlId?: string | undefined;
}

/**
 * Record an active certificate as revoked, in the caller's transaction (which holds the agency's
 * seal lock, or the TSA's): it signs nothing more, and the agency's status lists, sealed with it,
 * are dropped so the next seal seals them again. Null when it was no longer active.
 */
export async function markRevoked(q: Queryable, id: string, r: Revocation): Promise<CertRow | null> {
  const { rows } = await q.query<CertRow>(
    `update ${S}.certificates set status = 'revoked', revoked_at = $2, revocation_reason = $3, invalidity_date = $4, revoked_by_crl = $5
     where id = $1 and status = 'active' returning *`, [id, r.revokedAt, r.reason, r.invalidityDate, r.crlId ?? null]);
  const cert = rows[0];
  if (cert?.role === 'seal') {
    await q.query(`update ${S}.status_lists set signed = null, signed_version = null, signed_valid_until = null where agency_code = $1`, [cert.agency_code]);
  }
  return cert ?? null;
}

/** Step 4: revoke one of the service's seal or TSA certificates. */
export async function revokeCertificate(
  a: SealAdmin, caller: Caller, r: { id: string; reason: CrlReason; note: string; invalidityDate?: string | null },
): Promise<CertRow> {
  if (!SEAL_REVOCATION_REASONS.includes(r.reason)) throw new AppError('BAD_INPUT', '吊销原因无效 / invalid revocation reason', { field: 'reason' });
  return a.db.tx(async (q) => {
    const { rows } = /^[0-9a-f-]{36}$/i.test(r.id)
      ? await q.query<CertRow>(`select * from ${S}.certificates where id = $1 and role in ('seal', 'tsa')`, [r.id]) : { rows: [] };
    const cert = rows[0];
    if (!cert) throw new AppError('NOT_FOUND', '没有该印章或时间戳证书 / no such seal or TSA certificate');
    const role = cert.role as SealRole;
    const actor = sealActor(a, caller, role, cert.agency_code);
    const note = text(r.note, 'note', MAX_NOTE);
    const invalidityDate = r.invalidityDate ? readInvalidityDate(r.invalidityDate, r.reason, a.clock.now(), 'invalidityDate') : null;
    const conflict = () => new AppError('CONFLICT', '该证书已吊销 / the certificate is already revoked');
    if (cert.status === 'revoked') throw conflict();
    // Wait for licences being sealed or timestamped with it right now (./trust.ts takes the same
    // locks), so everything it signed was signed before the revocation date. The lock comes
    // before the row's (markRevoked), as in issuance and in a CRL import.
    await q.query('select pg_advisory_xact_lock(hashtext($1))', [role === 'seal' ? sealLock(cert.agency_code!) : TSA_USE_LOCK]);
    const now = a.clock.now();
    // The CRL's revocationDate has whole seconds (RFC 5280 §5.1.2.6): rounded up, so a licence
    // sealed earlier in this second is before it for every verifier, as it is for this service.
    const revokedAt = new Date(Math.ceil(now.getTime() / 1000) * 1000);
    const updated = await markRevoked(q, cert.id, { revokedAt, reason: r.reason, invalidityDate });
    if (!updated) throw conflict();
    await recordSealAct(q, actor, {
      action: 'revoke', role, agencyCode: cert.agency_code, certificateId: cert.id,
      details: { reason: r.reason, note, serialHex: cert.serial_hex, crl: crlOf(a, updated), ...(invalidityDate ? { invalidityDate: invalidityDate.toISOString() } : {}) },
    }, now);
    return updated;
  });
}

/** Where the revocation is published: the service's CRL for what it issued; null for an outside CA's certificate. */
export function crlOf(a: SealAdmin, c: CertRow): string | null {
  return c.source === 'platform' && c.issuer_id ? crlUrl(a.publicBase, c.issuer_id) : null;
}

export async function findCertificate(q: Queryable, id: string): Promise<CertRow | null> {
  const { rows } = await q.query<CertRow>(`select * from ${S}.certificates where id = $1`, [id]);
  return rows[0] ?? null;
}

/** An agency's seal certificates (agencyCode), or the TSA certificates (null), newest first. */
export async function listCertificates(q: Queryable, role: SealRole, agencyCode: string | null): Promise<CertRow[]> {
  const { rows } = await q.query<CertRow>(
    `select * from ${S}.certificates where role = $1 and agency_code is not distinct from $2 order by created_at desc`, [role, agencyCode]);
  return rows;
}

export async function listRequests(q: Queryable, role: SealRole, agencyCode: string | null): Promise<RequestRow[]> {
  const { rows } = await q.query<RequestRow>(
    `select * from ${S}.seal_requests where role = $1 and agency_code is not distinct from $2 order by requested_at desc`, [role, agencyCode]);
  return rows;
}

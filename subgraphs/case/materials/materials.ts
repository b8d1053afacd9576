/**
 * Materials of a case (R-CA-1, R-LI-2). The applicant adds them while the case
 * is submitted or waiting for a supplement (R-CA-4), either
 * - as an upload: GraphQL `requestMaterialUpload` gives a signed address valid 10 minutes, the
 *   client PUTs the bytes there (no size limit of a GraphQL body; the case service's own limit
 *   CASE_MATERIAL_MAX_BYTES); the type is judged by content; the SHA-256 is stored and checked on
 *   every read; or
 * - as a licence the applicant holds, checked by the licence service (pre-fill, R-LI-2).
 * Rows are append-only; the latest row for a name is the material.
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { Db, Queryable } from '../../../kernel/db.ts';
import type { Clock } from '../../../kernel/clock.ts';
import { AppError } from '../../../kernel/errors.ts';
import { requirePerson, type Caller } from '../../../kernel/internal-auth.ts';
import { CASE_SCHEMA as S } from '../migrations.ts';
import { findCase, findItem, type CaseRecord, type ReplicaMaterial } from '../repository.ts';
import type { LicenceChecker } from './licence-checker.ts';
import { sha256Hex, type MaterialStorage } from './storage.ts';
import { ACCEPTED_TYPES, sniff } from './sniff.ts';
import { spendToken, tokenUnused, underMaterialCap } from './upload-limits.ts';

export interface MaterialsEnv {
  storage: MaterialStorage;
  checker: LicenceChecker;
  maxBytes: number;
  key: KeyObject;
  /** CASE_PUBLIC_URL: upload and download addresses are built on it. */
  publicUrl: string;
  clock: Clock;
}

export interface MaterialRecord {
  /** The item material's code when a licence replaced it (migration 103); null for uploads. */
  materialCode?: string | null;
  name: string; source: 'UPLOAD' | 'LICENCE'; sha256: string | null; size: number | null; mediaType: string | null;
  licenceId: string | null; licenceIdentifier: string | null; addedBy: string; at: string;
}

const TOKEN_TTL_S = 600;
const OPEN_STATES = ['SUBMITTED', 'SUPPLEMENT_REQUESTED'];
const MAX_NAME = 100;

function checkName(name: string): string {
  const n = name.trim();
  if (n === '' || n.length > MAX_NAME) throw new AppError('BAD_INPUT', '材料名称无效 / invalid material name', { name: `1 to ${MAX_NAME} characters` });
  return n;
}

/** The applicant's own case, open for materials; anyone else learns nothing. */
async function openCase(q: Queryable, caller: Caller, caseId: string, forUpdate = false): Promise<CaseRecord> {
  const person = requirePerson(caller);
  const c = await findCase(q, caseId, { forUpdate });
  if (!c || c.applicantId !== person.sub) throw new AppError('CASE_NOT_FOUND', '办件不存在 / no such case');
  if (!OPEN_STATES.includes(c.status)) {
    throw new AppError('MATERIAL_NOT_ALLOWED', `办件当前状态（${c.status}）不能提交材料 / materials cannot be added in status ${c.status}`);
  }
  return c;
}

async function sign(env: MaterialsEnv, claims: Record<string, string>): Promise<{ token: string; expiresAt: string }> {
  const iat = Math.floor(env.clock.now().getTime() / 1000);
  const token = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'yiwang-material+jwt' })
    .setIssuedAt(iat).setExpirationTime(iat + TOKEN_TTL_S).sign(env.key);
  return { token, expiresAt: new Date((iat + TOKEN_TTL_S) * 1000).toISOString() };
}

async function verify(env: MaterialsEnv, token: string, purpose: string): Promise<Record<string, string>> {
  try {
    const { payload } = await jwtVerify(token, env.key, { algorithms: ['HS256'], typ: 'yiwang-material+jwt', currentDate: env.clock.now() });
    if (payload.purpose !== purpose) throw new Error('purpose');
    return payload as unknown as Record<string, string>;
  } catch {
    throw new AppError('UPLOAD_TOKEN_INVALID', '地址无效或已过期 / the address is invalid or expired');
  }
}

async function insertMaterial(q: Queryable, caseId: string, m: Omit<MaterialRecord, 'at'>, now: Date): Promise<MaterialRecord> {
  await q.query(
    `insert into ${S}.case_materials (case_id, name, source, sha256, size, media_type, licence_id, licence_identifier, added_by, at, material_code)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [caseId, m.name, m.source, m.sha256, m.size, m.mediaType, m.licenceId, m.licenceIdentifier, m.addedBy, now, m.materialCode ?? null]);
  return { ...m, at: now.toISOString() };
}

export async function requestUpload(db: Db, env: MaterialsEnv, caller: Caller, caseId: string, name: string) {
  const n = checkName(name);
  const c = await openCase(db, caller, caseId);
  await underMaterialCap(db, c.id);
  // jti: the address works once (./upload-limits.ts).
  const { token, expiresAt } = await sign(env, { purpose: 'upload', caseId: c.id, name: n, by: c.applicantId, jti: randomUUID() });
  return { url: `${env.publicUrl.replace(/\/$/, '')}/materials/upload/${token}`, expiresAt, maxBytes: env.maxBytes, acceptedTypes: [...ACCEPTED_TYPES] };
}

/** PUT body of an upload address: limits, type by content, checksum, then the row. */
export async function receiveUpload(db: Db, env: MaterialsEnv, token: string, bytes: Buffer): Promise<MaterialRecord> {
  const t = await verify(env, token, 'upload');
  await tokenUnused(db, t.jti);
  if (bytes.length > env.maxBytes) throw new AppError('MATERIAL_TOO_LARGE', `材料不能超过${env.maxBytes}字节 / at most ${env.maxBytes} bytes`);
  if (bytes.length === 0) throw new AppError('BAD_INPUT', '材料为空 / empty upload', { body: 'empty' });
  const mediaType = sniff(bytes);
  if (!mediaType) throw new AppError('MATERIAL_TYPE_REFUSED', `仅接受 PDF、JPEG、PNG、OFD / accepted: ${ACCEPTED_TYPES.join(', ')}`);
  const sha256 = sha256Hex(bytes);
  await env.storage.put(sha256, bytes); // content-addressed: a failed transaction leaves only an unreferenced copy
  return db.tx(async (q) => {
    const c = await openCase(q, { kind: 'person', sub: t.by!, name: '' }, t.caseId!, true);
    await spendToken(q, t.jti, c.id, env.clock.now());
    await underMaterialCap(q, c.id);
    return insertMaterial(q, c.id, {
      name: t.name!, source: 'UPLOAD', sha256, size: bytes.length, mediaType, licenceId: null, licenceIdentifier: null, addedBy: t.by!,
    }, env.clock.now());
  });
}

export interface LicenceRef { licenceId?: string | null; identifier?: string | null }

/**
 * Which of the case's item materials the licence replaces, and the licence type it must be
 * (R-LI-2): the item catalogue decides (`replaceableByLicenceType`, carried to the
 * replica by `item.upserted`), never the applicant.
 */
async function replaceableMaterial(q: Queryable, c: CaseRecord, materialCode: string): Promise<ReplicaMaterial & { replaceableByLicenceType: string }> {
  const code = materialCode.trim();
  if (!code) throw new AppError('BAD_INPUT', '缺少材料编码 / materialCode is required', { materialCode: 'the item material\'s code' });
  const item = await findItem(q, c.itemId);
  const m = item?.materials?.find((x) => x.code === code);
  if (!item?.materials) {
    throw new AppError('MATERIAL_NOT_REPLACEABLE', '暂无该事项的材料清单，不能以证照代替 / the item\'s materials are not known here; no licence can replace them');
  }
  if (!m) throw new AppError('BAD_INPUT', `事项没有编码为 ${code} 的材料 / the item has no material ${code}`, { materialCode: 'no such material on this item' });
  if (!m.replaceableByLicenceType) {
    throw new AppError('MATERIAL_NOT_REPLACEABLE', `材料“${m.name}”不能以电子证照代替 / material ${m.code} cannot be replaced by a licence`, { materialCode: m.code });
  }
  return { ...m, replaceableByLicenceType: m.replaceableByLicenceType };
}

/** R-LI-2: a licence the applicant holds instead of an upload; checked before the transaction. */
export async function useLicence(db: Db, env: MaterialsEnv, caller: Caller, caseId: string, materialCode: string, ref: LicenceRef): Promise<MaterialRecord> {
  const c = await openCase(db, caller, caseId);
  if (!ref.licenceId === !ref.identifier) throw new AppError('BAD_INPUT', '请给出证照ID或证照标识之一 / give licenceId or identifier', { licence: 'exactly one of licenceId, identifier' });
  const material = await replaceableMaterial(db, c, materialCode);
  const typeCode = material.replaceableByLicenceType;
  const answer = await env.checker.check({
    holderId: c.applicantId, ...(ref.licenceId ? { licenceId: ref.licenceId } : { identifier: ref.identifier! }), typeCode,
  });
  // The type is checked here as well: a licence service that ignored typeCode must not let any
  // licence replace any material.
  if (answer.ok && answer.licence && answer.licence.typeCode !== typeCode) {
    throw new AppError('LICENCE_NOT_ACCEPTED', `证照类型不符（需要 ${typeCode}）/ another licence type (${typeCode} required)`, { reason: 'LICENCE_CHECK_FAILED' });
  }
  if (!answer.ok || !answer.licence) {
    throw new AppError('LICENCE_NOT_ACCEPTED', `该证照不能代替材料：${answer.message ?? answer.reason} / this licence cannot replace the material`, { reason: answer.reason });
  }
  const l = answer.licence;
  return db.tx(async (q) => {
    const locked = await openCase(q, caller, caseId, true);
    await underMaterialCap(q, locked.id);
    return insertMaterial(q, locked.id, {
      name: material.name, source: 'LICENCE', sha256: null, size: null, mediaType: null, licenceId: l.id, licenceIdentifier: l.identifier,
      addedBy: c.applicantId, materialCode: material.code,
    }, env.clock.now());
  });
}

/** The current material per name (latest row), in name order. */
export async function listMaterials(q: Queryable, caseId: string): Promise<MaterialRecord[]> {
  const { rows } = await q.query<{
    name: string; source: 'UPLOAD' | 'LICENCE'; sha256: string | null; size: number | null; media_type: string | null;
    licence_id: string | null; licence_identifier: string | null; added_by: string; at: Date; material_code: string | null;
  }>(`select distinct on (name) name, source, sha256, size, media_type, licence_id, licence_identifier, added_by, at, material_code
      from ${S}.case_materials where case_id = $1 order by name, id desc`, [caseId]);
  return rows.map((r) => ({
    name: r.name, source: r.source, sha256: r.sha256, size: r.size, mediaType: r.media_type, licenceId: r.licence_id,
    licenceIdentifier: r.licence_identifier, addedBy: r.added_by, at: new Date(r.at).toISOString(), materialCode: r.material_code,
  }));
}

/** A 10-minute address to read an uploaded material (for callers who can see the case). */
export async function downloadUrl(env: MaterialsEnv, caseId: string, m: MaterialRecord): Promise<string | null> {
  if (!m.sha256) return null;
  const { token } = await sign(env, { purpose: 'download', caseId, sha256: m.sha256, mediaType: m.mediaType ?? 'application/octet-stream' });
  return `${env.publicUrl.replace(/\/$/, '')}/materials/download/${token}`;
}

export async function readDownload(env: MaterialsEnv, token: string): Promise<{ bytes: Buffer; mediaType: string }> {
  const t = await verify(env, token, 'download');
  const bytes = await env.storage.get(t.sha256!);
  if (!bytes) throw new AppError('NOT_FOUND', '材料不存在 / no such material');
  return { bytes, mediaType: t.mediaType ?? 'application/octet-stream' };
}

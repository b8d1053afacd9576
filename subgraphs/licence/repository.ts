/**
 * SQL for issued licences and their serial counters. Functions take a Queryable so the issuer
 * writes the licence, its serial and its event in one transaction.
 */
import type { Queryable } from '../../kernel/db.ts';
import { maskIdNumber } from '../../kernel/ids.ts';
import { LICENCE_SCHEMA as S } from './migrations.ts';

/** What the graph shows of a licence; the full holder code stays inside the signed credential. */
export interface LicenceRecord {
  id: string;
  identifier: string;
  typeCode: string;
  typeName: string;
  number: string;
  holderId: string;
  holderName: string;
  holderCodeMasked: string;
  issuerName: string;
  issuerCode: string;
  jurisdiction: string;
  issuedAt: string;
  validFrom: string;
  validUntil: string | null;
  caseId: string;
  credential: string;
}

export interface NewLicence {
  id: string; identifier: string; typeCode: string; typeName: string; number: string;
  holderId: string; holderName: string; holderCode: string; issuerName: string; issuerCode: string; jurisdiction: string;
  caseId: string; sealCertificateId: string; issuedAt: Date; validFrom: Date; validUntil: Date | null; credential: string;
}

interface Row {
  id: string; identifier: string; type_code: string; type_name: string; number: string; holder_id: string; holder_name: string;
  holder_code: string; issuer_name: string; issuer_code: string; jurisdiction: string; case_id: string;
  issued_at: Date | string; valid_from: Date | string; valid_until: Date | string | null; credential: string;
}

const iso = (d: Date | string) => new Date(d).toISOString();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toRecord(r: Row): LicenceRecord {
  return {
    id: r.id, identifier: r.identifier, typeCode: r.type_code, typeName: r.type_name, number: r.number,
    holderId: r.holder_id, holderName: r.holder_name, holderCodeMasked: maskIdNumber(r.holder_code),
    issuerName: r.issuer_name, issuerCode: r.issuer_code, jurisdiction: r.jurisdiction,
    issuedAt: iso(r.issued_at), validFrom: iso(r.valid_from), validUntil: r.valid_until === null ? null : iso(r.valid_until),
    caseId: r.case_id, credential: r.credential,
  };
}

export async function findLicence(q: Queryable, id: string): Promise<LicenceRecord | null> {
  if (!UUID.test(id)) return null;
  const { rows } = await q.query<Row>(`select * from ${S}.licences where id = $1`, [id]);
  return rows[0] ? toRecord(rows[0]) : null;
}

export async function listByHolder(q: Queryable, holderId: string): Promise<LicenceRecord[]> {
  const { rows } = await q.query<Row>(`select * from ${S}.licences where holder_id = $1 order by issued_at desc, number desc`, [holderId]);
  return rows.map(toRecord);
}

export async function listByCase(q: Queryable, caseId: string): Promise<LicenceRecord[]> {
  const { rows } = await q.query<Row>(`select * from ${S}.licences where case_id = $1 order by issued_at, number`, [caseId]);
  return rows.map(toRecord);
}

export async function existsForCase(q: Queryable, caseId: string, typeCode: string): Promise<boolean> {
  const { rows } = await q.query(`select 1 from ${S}.licences where case_id = $1 and type_code = $2`, [caseId, typeCode]);
  return rows.length > 0;
}

/** Next serial for an agency and licence type (GB/T 36904: the issuer numbers its own licences). */
export async function nextSerial(q: Queryable, agencyCode: string, typeCode: string): Promise<number> {
  const { rows } = await q.query<{ last_value: number }>(
    `insert into ${S}.licence_serials (agency_code, type_code, last_value) values ($1, $2, 1)
     on conflict (agency_code, type_code) do update set last_value = licence_serials.last_value + 1 returning last_value`,
    [agencyCode, typeCode]);
  return Number(rows[0]!.last_value);
}

/** Insert; false when a licence of this type already exists for the case (a replay). */
export async function insertLicence(q: Queryable, l: NewLicence): Promise<boolean> {
  const { rows } = await q.query(
    `insert into ${S}.licences (id, identifier, type_code, type_name, number, holder_id, holder_name, holder_code, issuer_name, issuer_code,
       jurisdiction, case_id, seal_certificate_id, issued_at, valid_from, valid_until, credential)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
     on conflict (case_id, type_code) do nothing returning id`,
    [l.id, l.identifier, l.typeCode, l.typeName, l.number, l.holderId, l.holderName, l.holderCode, l.issuerName, l.issuerCode,
      l.jurisdiction, l.caseId, l.sealCertificateId, l.issuedAt, l.validFrom, l.validUntil, l.credential]);
  return rows.length === 1;
}

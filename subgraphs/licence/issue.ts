/**
 * Issue the electronic licence for an approved case (R-LI-2), from a `case.approved` event:
 *
 * 1. a replay (same case and licence type already issued) does nothing;
 * 2. the holder's legal name and ID number come from the IdP (AccountDirectory), looked up with
 *    no transaction open (./outside-tx.ts); when the IdP cannot answer, the handler throws, the
 *    transaction rolls back and the event stays pending to be claimed again later;
 * 3. identifier per GB/T 36904 (kernel/ids.ts formatLicenceId): type code, issuing agency's
 *    credit code, the agency's serial for that type, version 001, MOD 37,36 check character;
 * 4. the credential (seal/ buildLicenceCredential) is sealed with the agency's seal certificate,
 *    the chain (seal, provincial CA, root) in x5c, so anyone holding the root verifies it (R-LI-4);
 * 5. stored (unique per case and type) and announced as `licence.issued` in the same transaction.
 *
 * Status and time: the credential carries two status entries (revocation, suspension) at a random index
 * of the agency's status lists (./status.ts), and the platform TSA's timestamp token binds its
 * signing time (seal/timestamp/token.ts), so it verifies after the seal certificate expires.
 *
 * Validity (our choice): validFrom is the approval time (the decision is what confers the
 * right); validUntil is five years later. The items that produce licences are licensing items (事项类型 01), and five years is the term the
 * food business licensing rules set (食品经营许可管理办法: 有效期为5年); types with other terms
 * (e.g. a business licence's 长期) would need a per-type table, which the catalogue does not carry yet.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../kernel/db.ts';
import { enqueueEvent, type DomainEvent } from '../../kernel/events.ts';
import { formatLicenceId, isValidCreditCode, isValidIdNumber } from '../../kernel/ids.ts';
import { identityTextProblem, isValidName, normaliseName, ORGANIZATION_NAME, PERSON_NAME } from '../../kernel/names.ts';
import type { Logger } from '../../kernel/log.ts';
import { buildLicenceCredential, signLicence } from '../../seal/index.ts';
import type { AccountDirectory, HolderAccount } from './directory.ts';
import { LICENCE_SCHEMA } from './migrations.ts';
import { existsForCase, insertLicence, nextSerial } from './repository.ts';
import type { TrustStore } from './trust.ts';
import { reserveStatus } from './status.ts';

export const LICENCES_STREAM = 'licences';
export const VALIDITY_YEARS = 5;
/** GB/T 36904 leaves the serial's form to the issuer; 8 digits, growing beyond if ever needed. */
const SERIAL_DIGITS = 8;
const VERSION = '001';

export interface CaseApproved {
  caseId: string; caseNumber: string; itemId: string; itemName: string; agencyCode: string; agencyName: string;
  applicantId: string; applicantName: string; licenceType: { code: string; name: string }; approvedAt: string;
}

export interface LicenceIssued { licenceId: string; identifier: string; caseId: string; holderId: string; issuedAt: string }

/** Parse the payload; null for one that can never be issued (logged and skipped, not retried forever). */
export function parseCaseApproved(p: Record<string, unknown>): CaseApproved | null {
  const s = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : null);
  const lt = (p.licenceType ?? null) as { code?: unknown; name?: unknown } | null;
  const out = {
    caseId: s(p.caseId), caseNumber: s(p.caseNumber) ?? '', itemId: s(p.itemId) ?? '', itemName: s(p.itemName) ?? '',
    agencyCode: s(p.agencyCode), agencyName: s(p.agencyName), applicantId: s(p.applicantId), applicantName: s(p.applicantName) ?? '',
    licenceType: { code: lt ? s(lt.code) : null, name: lt ? s(lt.name) : null }, approvedAt: s(p.approvedAt),
  };
  if (!out.caseId || !out.agencyCode || !isValidCreditCode(out.agencyCode) || !out.agencyName || !out.applicantId || !out.approvedAt
    || !out.licenceType.code || !/^[0-9A-Z]+$/.test(out.licenceType.code) || !out.licenceType.name || identityTextProblem(out.licenceType.name)) return null;
  return out as CaseApproved;
}

/** China Standard Time calendar date (UTC+8), YYYY-MM-DD. */
export function chinaDay(d: Date): string {
  return new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}

export function addYears(d: Date, years: number): Date {
  const out = new Date(d);
  out.setUTCFullYear(out.getUTCFullYear() + years);
  return out;
}

export interface IssuerDeps {
  trust: TrustStore;
  log: Logger;
  /** LICENCE_PUBLIC_URL: status-list URLs are built on it. */
  statusBase: string;
}

/**
 * Before the transaction (the consumer's `prepare`): the holder's name and ID number from the
 * IdP. Null for events that issue nothing. A failed lookup throws: the event stays pending.
 */
export async function prepareCaseEvent(e: DomainEvent, directory: AccountDirectory): Promise<HolderAccount | null> {
  if (e.type !== 'case.approved') return null;
  const c = parseCaseApproved(e.payload);
  return c ? directory.get(c.applicantId) : null;
}

/** The `cases` stream handler; runs inside the consumer's transaction (kernel/events.ts). */
export async function handleCaseEvent(e: DomainEvent, q: Queryable, now: Date, d: IssuerDeps, holder: HolderAccount | null): Promise<LicenceIssued | null> {
  if (e.type !== 'case.approved') return null;
  const c = parseCaseApproved(e.payload);
  if (!c || !holder) {
    d.log.error({ eventId: e.id }, 'case.approved payload cannot produce a licence; skipped');
    return null;
  }
  if (await existsForCase(q, c.caseId, c.licenceType.code)) return null;
  // A name with invisible or control characters is never sealed (it would render as another name).
  if (!isValidName(normaliseName(holder.name), isValidIdNumber(holder.idNumber) ? PERSON_NAME : ORGANIZATION_NAME)) {
    d.log.error({ eventId: e.id, holderId: c.applicantId }, 'the holder\'s name in the IdP is not a valid name (kernel/names.ts); no licence issued');
    return null;
  }

  const id = randomUUID();
  const seal = await d.trust.sealFor(q, { code: c.agencyCode, name: c.agencyName });
  // The issuer's name is the seal certificate's (its subject O): a verifier checks the two agree.
  const issuerName = seal.agencyName;
  const status = await reserveStatus(q, id, { code: c.agencyCode, name: issuerName }, d.statusBase);
  // Last before signing: the serial counter's row stays locked until this transaction ends, so
  // issuances of one agency and type overlap everywhere but from here to the commit.
  const serial = String(await nextSerial(q, c.agencyCode, c.licenceType.code)).padStart(SERIAL_DIGITS, '0');
  const identifier = formatLicenceId({ typeCode: c.licenceType.code, agencyCode: c.agencyCode, serial, version: VERSION });
  const jurisdiction = c.agencyCode.slice(2, 8);
  // 证照编号: region, year of issue, serial: unique per issuer and type.
  const number = `${jurisdiction}${chinaDay(now).slice(0, 4)}${serial}`;
  const approved = new Date(c.approvedAt);
  const validFrom = Number.isNaN(approved.getTime()) || approved > now ? now : approved;
  const validUntil = addYears(validFrom, VALIDITY_YEARS);

  const credential = buildLicenceCredential({
    identifier, typeCode: c.licenceType.code, typeName: c.licenceType.name, number,
    holderId: c.applicantId, holderName: holder.name, holderCode: holder.idNumber,
    issuerName, issuerCode: c.agencyCode, issueDate: chinaDay(now),
    validFrom: validFrom.toISOString(), validUntil: validUntil.toISOString(), jurisdiction,
  }, status.entries);
  const jws = await signLicence(credential, { privateKey: seal.privateKey, chainPem: seal.chainPem }, now, { timestamper: await d.trust.timestamper(q) });

  const inserted = await insertLicence(q, {
    id, identifier, typeCode: c.licenceType.code, typeName: c.licenceType.name, number, holderId: c.applicantId,
    holderName: credential.credentialSubject.licence.holderName, holderCode: holder.idNumber, issuerName, issuerCode: c.agencyCode, jurisdiction,
    caseId: c.caseId, sealCertificateId: seal.certificateId, issuedAt: now, validFrom, validUntil, credential: jws,
  });
  if (!inserted) { // a concurrent replay won: give the reserved index back
    await q.query(`delete from ${LICENCE_SCHEMA}.licence_status where licence_id = $1`, [id]);
    return null;
  }
  const issued: LicenceIssued = { licenceId: id, identifier, caseId: c.caseId, holderId: c.applicantId, issuedAt: now.toISOString() };
  await enqueueEvent(q, LICENCE_SCHEMA, LICENCES_STREAM, 'licence.issued', { ...issued }, now);
  d.log.info({ licenceId: id, caseId: c.caseId, identifier }, 'licence issued');
  return issued;
}

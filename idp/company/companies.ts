/**
 * Legal persons (R-ID-4, G 5.1.2(1)② 法人用户注册): a company is registered by its unified social
 * credit code (GB 32100 check character, CREDIT_CODE_INVALID) and bound to its legal
 * representative's natural-person account, by one of four routes:
 *
 * - `registry`: the legal representative, logged in, declares code and name; the business
 *   registry (the verifier, idp/verify) must confirm the company with this person as its legal
 *   representative (COMPANY_UNVERIFIED otherwise); the agreement is accepted online. Level L3,
 *   and never above the representative's own account level.
 * - `counter`: staff check the documents in person and register it; the legal representative may
 *   send a delegate, who must carry the representative's power of attorney
 *   (POWER_OF_ATTORNEY_REQUIRED; its number is recorded) and have an account. Level L5.
 * - `licence`: the logged-in legal representative presents the electronic business licence
 *   (idp/company/licence.ts proves code, name and that they are its legal representative);
 *   the same remote comparison in another form (法人远程比对注册 … 或用户上传电子营业执照): L3,
 *   never above the representative's own level.
 * - `certificate`: the company's enterprise certificate signs a challenge
 *   (idp/company/certificate.ts proves code and name), and the business registry confirms the
 *   logged-in person as its legal representative: L5 (certificate). A company registered
 *   already with this legal representative links the certificate instead (its level rises to
 *   L5); the certificate is recorded in `idp.company_certificates`.
 *
 * Online routes need the agreement accepted and the representative's own person account at L3
 * or higher. A code registered already (to someone else) is COMPANY_EXISTS; everything is
 * checked before the INSERT, so a refusal stores nothing.
 */
import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../../kernel/db.ts';
import { pgCode } from '../../kernel/db.ts';
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import { isValidCreditCode, isValidIdNumber, normaliseIdNumber } from '../../kernel/ids.ts';
import { isValidName, nameError, normaliseName, ORGANIZATION_NAME, requireName } from '../../kernel/names.ts';
import { AGREEMENT, type AccountRecord, type AccountStore, type Platform } from '../accounts/store.ts';
import type { Verifier } from '../verify/verifier.ts';
import type { Level } from '../accounts/assurance.ts';

export type CompanyRoute = 'registry' | 'counter' | 'licence' | 'certificate';

/** What the licence or certificate route proved (idp/company/licence.ts, certificate.ts). */
export interface CompanyProof {
  route: 'licence' | 'certificate';
  creditCode: string;
  name: string;
  level: Level;
  /** Kept with the company: what proved it (licence identifier, certificate fingerprint, …). */
  evidence: Record<string, unknown>;
  certificate?: { fingerprint: string; serial: string; issuer: string; subject: string; notAfter: string };
}

export interface Company {
  id: string;
  creditCode: string;
  name: string;
  legalRepAccountId: string;
  route: CompanyRoute;
  delegateAccountId: string | null;
  assuranceLevel: Level;
  registeredPlatform: string | null;
  registeredTier: string | null;
  createdAt: string;
  evidence: Record<string, unknown>;
}

interface Row {
  id: string; credit_code: string; name: string; legal_rep_account_id: string; route: CompanyRoute; delegate_account_id: string | null;
  assurance_level: number; registered_platform: string | null; registered_tier: string | null; created_at: Date | string;
  evidence: Record<string, unknown> | string | null;
}
const toCompany = (r: Row): Company => ({
  id: r.id, creditCode: r.credit_code, name: r.name, legalRepAccountId: r.legal_rep_account_id, route: r.route,
  delegateAccountId: r.delegate_account_id, assuranceLevel: r.assurance_level as Level,
  registeredPlatform: r.registered_platform, registeredTier: r.registered_tier, createdAt: new Date(r.created_at).toISOString(),
  evidence: (typeof r.evidence === 'string' ? JSON.parse(r.evidence) : r.evidence) ?? {},
});

const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

function companyInput(body: unknown): { creditCode: string; name: string } {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const creditCode = str(b.creditCode).toUpperCase();
  const name = normaliseName(str(b.name));
  const missing = (['creditCode', 'name'] as const).filter((k) => !{ creditCode, name }[k]);
  if (missing.length) throw new AppError('BAD_INPUT', `请填写：${missing.join('、')} / required: ${missing.join(', ')}`, { fields: missing });
  if (!isValidCreditCode(creditCode)) throw new AppError('CREDIT_CODE_INVALID', '统一社会信用代码格式或校验码不正确 / the unified social credit code is malformed or its check character is wrong');
  if (!isValidName(name, ORGANIZATION_NAME)) throw nameError(name, ORGANIZATION_NAME);
  return { creditCode, name };
}

export interface CompanyStore {
  /** Route `registry`: the logged-in legal representative registers their company online. */
  registerOnline(rep: AccountRecord, body: unknown): Promise<Company>;
  /** Route `counter`: staff register a company for its legal representative (or a delegate with a power of attorney). */
  /** `within` runs in the insert's transaction (the counter act's audit entry). */
  registerAtCounter(staffId: string, body: unknown, within?: (q: Queryable, company: Company) => Promise<void>): Promise<Company>;
  /**
   * Routes `licence` and `certificate`: agreement and representative checked first, then
   * `prove()` (the licence or certificate verification), then the registry (certificate route)
   * and uniqueness. `linked` is true when a certificate was linked to the representative's
   * company registered before.
   */
  registerWithProof(rep: AccountRecord, body: unknown, prove: () => Promise<CompanyProof>): Promise<{ company: Company; linked: boolean }>;
  /** Companies whose legal representative is this account. */
  ofLegalRep(accountId: string): Promise<Company[]>;
  findByCreditCode(code: string): Promise<Company | undefined>;
}

export function createCompanyStore(d: { db: Db; clock: Clock; accounts: AccountStore; verifier: Verifier; platform: Platform }): CompanyStore {
  const { db, clock, accounts, verifier, platform } = d;

  async function insert(c: {
    creditCode: string; name: string; legalRep: string; route: CompanyRoute; delegate?: string; poa?: string; by?: string; level: Level;
    evidence?: Record<string, unknown>;
  }, within?: (q: Queryable, company: Company) => Promise<void>): Promise<Company> {
    c = { ...c, name: requireName(c.name, ORGANIZATION_NAME) }; // every route: typed, from a certificate or a licence
    const id = randomUUID();
    const now = clock.now().toISOString();
    try {
      // `within` runs in the same transaction (the audit entry of a counter act, R-ID-9).
      return await db.tx(async (q) => {
      const { rows } = await q.query<Row>(
        `insert into idp.companies (id, credit_code, name, legal_rep_account_id, route, delegate_account_id, power_of_attorney, registered_by,
           assurance_level, agreement_version, agreement_accepted_at, registered_platform, registered_tier, created_at, evidence)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $11, $14) returning *`,
        [id, c.creditCode, c.name, c.legalRep, c.route, c.delegate ?? null, c.poa ?? null, c.by ?? null, c.level, AGREEMENT.version, now, platform.id, platform.tier,
          JSON.stringify(c.evidence ?? {})],
      );
      const company = toCompany(rows[0]!);
      await within?.(q, company);
      return company;
      });
    } catch (e) {
      if (pgCode(e) === '23505') throw companyExists();
      throw e;
    }
  }

  async function find(code: string): Promise<Company | undefined> {
    const { rows } = await db.query<Row>('select * from idp.companies where credit_code = $1', [code.toUpperCase()]);
    return rows[0] ? toCompany(rows[0]) : undefined;
  }

  const companyExists = () => new AppError('COMPANY_EXISTS', '该统一社会信用代码已注册 / a company with this unified social credit code is already registered');
  const taken = async (code: string) => {
    const { rows } = await db.query('select 1 from idp.companies where credit_code = $1', [code]);
    if (rows.length) throw companyExists();
  };

  /** An online route: the agreement accepted, by the legal representative's own verified person account; its ID number. */
  function onlineRep(rep: AccountRecord, body: unknown): string {
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    if (b.agreementVersion !== AGREEMENT.version) {
      throw new AppError('BAD_INPUT', '请阅读并同意用户服务协议 / please read and accept the service agreement', { fields: ['agreementVersion'], current: AGREEMENT.version });
    }
    if (rep.kind !== 'person' || !rep.idNumber) {
      throw new AppError('FORBIDDEN', '须由法定代表人本人（自然人账户）办理 / only the legal representative\'s own personal account can do this');
    }
    if (rep.assuranceLevel < 3) {
      throw new AppError('ASSURANCE_INSUFFICIENT', '账户尚未实名核验（须三级及以上） / the account is not verified (level 3 or higher is needed)');
    }
    return rep.idNumber;
  }

  async function registryConfirms(c: { creditCode: string; name: string }, rep: AccountRecord, idNumber: string): Promise<void> {
    const result = await verifier.company({ creditCode: c.creditCode, name: c.name, legalRepName: rep.name, legalRepIdNumber: idNumber });
    if (result !== 'match') {
      throw new AppError('COMPANY_UNVERIFIED', '工商登记信息比对未通过（代码、名称或法定代表人不符） / the business registry does not confirm this company with you as its legal representative', { result });
    }
  }

  return {
    async registerOnline(rep, body) {
      const { creditCode, name } = companyInput(body);
      const idNumber = onlineRep(rep, body);
      await taken(creditCode);
      await registryConfirms({ creditCode, name }, rep, idNumber);
      return insert({ creditCode, name, legalRep: rep.id, route: 'registry', level: Math.min(3, rep.assuranceLevel) as Level });
    },

    async registerWithProof(rep, body, prove) {
      const idNumber = onlineRep(rep, body);
      const proof = await prove();
      const existing = await find(proof.creditCode);
      if (proof.route === 'certificate' && proof.certificate) {
        const cert = proof.certificate;
        if (existing && existing.legalRepAccountId !== rep.id) throw companyExists();
        // The certificate names the company; the registry must name this person as its legal representative.
        if (!existing) await registryConfirms(proof, rep, idNumber);
        const record = async (q: Queryable, c: Company) => {
          await q.query(
            `insert into idp.company_certificates (fingerprint, credit_code, serial, issuer, subject, not_after, linked_by, linked_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8)
             on conflict (fingerprint) do nothing`,
            [cert.fingerprint, c.creditCode, cert.serial, cert.issuer, cert.subject, cert.notAfter, rep.id, clock.now().toISOString()],
          );
        };
        if (existing) {
          const company = await db.tx(async (q) => {
            await record(q, existing);
            const { rows } = await q.query<Row>('update idp.companies set assurance_level = greatest(assurance_level, $2) where id = $1 returning *', [existing.id, proof.level]);
            return toCompany(rows[0]!);
          });
          return { company, linked: true };
        }
        return { company: await insert({ ...proof, legalRep: rep.id }, record), linked: false };
      }
      if (existing) throw companyExists();
      return { company: await insert({ ...proof, legalRep: rep.id }), linked: false };
    },

    async registerAtCounter(staffId, body, within) {
      const { creditCode, name } = companyInput(body);
      const b = body as Record<string, unknown>;
      const repId = normaliseIdNumber(str(b.legalRepIdNumber));
      if (!isValidIdNumber(repId)) throw new AppError('ID_NUMBER_INVALID', '法定代表人身份证号码不正确 / the legal representative\'s resident ID number is malformed');
      const rep = await accounts.findByLogin(repId);
      if (!rep || rep.kind !== 'person') throw new AppError('NOT_FOUND', '法定代表人须先注册个人账户 / the legal representative must first have a personal account');
      let delegate: AccountRecord | undefined;
      const delegateId = normaliseIdNumber(str(b.delegateIdNumber));
      const poa = str(b.powerOfAttorney);
      if (delegateId) {
        if (!isValidIdNumber(delegateId)) throw new AppError('ID_NUMBER_INVALID', '被委托人身份证号码不正确 / the delegate\'s resident ID number is malformed');
        if (!/^[0-9A-Za-z-]{4,40}$/.test(poa)) throw new AppError('POWER_OF_ATTORNEY_REQUIRED', '被委托人须携带法定代表人授权委托书（填写其编号） / a delegate must carry the legal representative\'s power of attorney (enter its number)');
        delegate = await accounts.findByLogin(delegateId);
        if (!delegate || delegate.kind !== 'person') throw new AppError('NOT_FOUND', '被委托人须先注册个人账户 / the delegate must first have a personal account');
      }
      await taken(creditCode);
      return insert({
        creditCode, name, legalRep: rep.id, route: 'counter', level: 5, by: staffId,
        ...(delegate ? { delegate: delegate.id, poa } : {}),
      }, within);
    },

    async ofLegalRep(accountId) {
      const { rows } = await db.query<Row>('select * from idp.companies where legal_rep_account_id = $1 order by created_at', [accountId]);
      return rows.map(toCompany);
    },

    findByCreditCode: find,
  };
}

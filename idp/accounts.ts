/**
 * Accounts in `idp.accounts`: natural persons (self-registered, R-ID-1 first slice) and agency
 * staff. Rules enforced here:
 *
 * - Registration (R-ID-1): name + resident ID number (GB 11643 check digit, ID_NUMBER_INVALID)
 *   + mobile (MOBILE_INVALID) + exactly one more factor from {social-security card, bank card,
 *   housing-fund account, driving-licence file} + a password meeting the policy (PASSWORD_WEAK)
 *   + acceptance of the current service agreement (G 5.1.2(1)②). Missing parts are BAD_INPUT;
 *   an ID number or mobile already registered is ACCOUNT_EXISTS. Everything is checked before
 *   the single INSERT, so a refusal stores nothing.
 * - Declared factors are recorded as unverified (verified=false): this slice does not yet check
 *   them against the registries, which is why such accounts get LoA 2 (see acrFor). Factor values
 *   are kept only as a keyed hash and their last four characters.
 * - Login (idp/interactions.ts) by ID number, mobile or staff username + password; a wrong name
 *   and a wrong password are the same LOGIN_FAILED and take the same time; ACCOUNT_DISABLED is
 *   only revealed to someone who knows the password.
 */
import { createHmac, randomUUID, type KeyObject } from 'node:crypto';
import type { Db } from '../kernel/db.ts';
import { pgCode } from '../kernel/db.ts';
import type { Clock } from '../kernel/clock.ts';
import { AppError } from '../kernel/errors.ts';
import { isValidIdNumber, isValidMobile, normaliseIdNumber } from '../kernel/ids.ts';
import type { StaffRole } from '../kernel/internal-auth.ts';
import { assertPasswordPolicy, dummyHash, hashPassword, verifyPassword } from './password.ts';

export type AccountKind = 'person' | 'staff';

/** The online service agreement users accept at registration (versioned: a new text is a new version). */
export const AGREEMENT = {
  version: '2026-01',
  title: { zh: '一网通办用户服务协议', en: 'Yiwang user service agreement' },
} as const;

export const FACTOR_TYPES = ['socialSecurityCard', 'bankCard', 'housingFund', 'drivingLicenceFile'] as const;
export type FactorType = (typeof FACTOR_TYPES)[number];

/** Levels of assurance (acr values): L2 = self-declared, unverified factors; L3 = staff, verified in person by their agency. */
export const ACR = { selfRegistered: 'urn:yiwang:loa:2', staff: 'urn:yiwang:loa:3' } as const;
export const ACR_VALUES: readonly string[] = [ACR.selfRegistered, ACR.staff];

export interface DeclaredFactor {
  type: FactorType | 'mobile';
  /** HMAC of the value (absent for the mobile number, which is stored in its own column). */
  hash?: string;
  last4: string;
  verified: boolean;
  at: string;
}

export interface AccountRecord {
  id: string;
  kind: AccountKind;
  name: string;
  idNumber: string | null;
  mobile: string | null;
  username: string | null;
  agencyCode: string | null;
  roles: StaffRole[];
  disabled: boolean;
  factors: DeclaredFactor[];
  agreementVersion: string | null;
}

interface Row {
  id: string; kind: AccountKind; name: string; id_number: string | null; mobile: string | null; username: string | null;
  agency_code: string | null; roles: StaffRole[]; disabled: boolean; factors: DeclaredFactor[] | string; agreement_version: string | null;
  password_hash: string | null;
}

const COLUMNS = 'id, kind, name, id_number, mobile, username, agency_code, roles, disabled, factors, agreement_version, password_hash';

function toRecord(r: Row): AccountRecord {
  return {
    id: r.id, kind: r.kind, name: r.name, idNumber: r.id_number, mobile: r.mobile, username: r.username,
    agencyCode: r.agency_code, roles: r.roles ?? [], disabled: r.disabled,
    factors: typeof r.factors === 'string' ? JSON.parse(r.factors) as DeclaredFactor[] : r.factors,
    agreementVersion: r.agreement_version,
  };
}

export function acrFor(a: Pick<AccountRecord, 'kind'>): string {
  return a.kind === 'staff' ? ACR.staff : ACR.selfRegistered;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FACTOR_VALUE = /^[0-9A-Za-z-]{4,32}$/;
const NAME = /^[^\p{Cc}<>]{1,50}$/u;

/** What a registration form or JSON body carries (field names are the form's input names). */
export interface RegistrationInput {
  name: string;
  idNumber: string;
  mobile: string;
  factorType: FactorType;
  factorValue: string;
  password: string;
  agreementVersion: string;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Validate in a fixed order so each refusal has one code; throws AppError. */
export function validateRegistration(body: unknown): RegistrationInput {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const name = str(b.name).trim();
  const idNumber = normaliseIdNumber(str(b.idNumber));
  const mobile = str(b.mobile).replace(/[\s-]/g, '');
  const password = str(b.password);
  const missing = (['name', 'idNumber', 'mobile', 'password'] as const).filter((k) => !{ name, idNumber, mobile, password }[k]);
  if (missing.length) throw new AppError('BAD_INPUT', `请填写：${missing.join('、')} / required: ${missing.join(', ')}`, { fields: missing });
  if (!NAME.test(name)) throw new AppError('BAD_INPUT', '姓名格式不正确 / the name is not valid', { fields: ['name'] });
  if (!isValidIdNumber(idNumber)) throw new AppError('ID_NUMBER_INVALID', '身份证号码格式或校验位不正确 / the resident ID number is malformed or its check digit is wrong');
  if (!isValidMobile(mobile)) throw new AppError('MOBILE_INVALID', '手机号码应为 11 位大陆手机号 / the mobile number must be an 11-digit mainland number');
  const factorType = str(b.factorType) as FactorType;
  const factorValue = str(b.factorValue).trim().toUpperCase();
  if (!FACTOR_TYPES.includes(factorType) || !factorValue) {
    throw new AppError('BAD_INPUT', '请再提供一项身份要素（社保卡、银行卡、公积金账号或驾驶证档案编号） / one more identity factor is required (social-security card, bank card, housing-fund account or driving-licence file number)', { fields: ['factorType', 'factorValue'] });
  }
  if (!FACTOR_VALUE.test(factorValue)) throw new AppError('BAD_INPUT', '身份要素号码格式不正确 / the factor number is not valid', { fields: ['factorValue'] });
  assertPasswordPolicy(password);
  const agreementVersion = str(b.agreementVersion);
  if (agreementVersion !== AGREEMENT.version) {
    throw new AppError('BAD_INPUT', '请阅读并同意用户服务协议 / please read and accept the service agreement', { fields: ['agreementVersion'], current: AGREEMENT.version });
  }
  return { name, idNumber, mobile, factorType, factorValue, password, agreementVersion };
}

export interface AccountStore {
  register(body: unknown): Promise<{ id: string }>;
  findById(id: string): Promise<AccountRecord | undefined>;
  /** LOGIN_FAILED / ACCOUNT_DISABLED, else the account. */
  authenticate(login: string, password: string): Promise<AccountRecord>;
  count(): Promise<number>;
  /** Insert or update a known account by id (seeding); the password is hashed only when none is stored. */
  upsert(a: Omit<AccountRecord, 'disabled' | 'factors' | 'agreementVersion'> & { password: string; factors?: DeclaredFactor[]; agreementVersion?: string | null }): Promise<void>;
  /** Keyed hash of a factor value (R-ID-1 factors are stored only as this and the last four characters). */
  factorHash(type: string, value: string): string;
}

export function createAccountStore(deps: { db: Db; clock: Clock; factorKey: KeyObject }): AccountStore {
  const { db, clock, factorKey } = deps;
  // Computed up front (off the event loop) so the first unknown login name is not slower either.
  const dummy = dummyHash();
  dummy.catch(() => undefined);
  const factorHash = (type: string, value: string) => createHmac('sha256', factorKey).update(`yiwang.idp.factor:${type}:${value}`).digest('base64url');

  async function findByLogin(login: string): Promise<Row | undefined> {
    const v = login.trim();
    let sql: string;
    let param: string;
    if (/^\d{17}[\dXx]$/.test(v)) { sql = 'id_number = $1'; param = normaliseIdNumber(v); }
    else if (/^\d{11}$/.test(v)) { sql = 'mobile = $1'; param = v; }
    else { sql = 'username = $1'; param = v; }
    const { rows } = await db.query<Row>(`select ${COLUMNS} from idp.accounts where ${sql}`, [param]);
    return rows[0];
  }

  return {
    factorHash,

    async register(body) {
      const input = validateRegistration(body);
      const at = clock.now().toISOString();
      const factors: DeclaredFactor[] = [
        { type: 'mobile', last4: input.mobile.slice(-4), verified: false, at },
        { type: input.factorType, hash: factorHash(input.factorType, input.factorValue), last4: input.factorValue.slice(-4), verified: false, at },
      ];
      const id = randomUUID();
      const hash = await hashPassword(input.password);
      try {
        await db.query(
          `insert into idp.accounts (id, kind, name, id_number, mobile, factors, agreement_version, agreement_accepted_at, password_hash, created_at)
           values ($1, 'person', $2, $3, $4, $5, $6, $7, $8, $7)`,
          [id, input.name, input.idNumber, input.mobile, JSON.stringify(factors), input.agreementVersion, at, hash],
        );
      } catch (e) {
        if (pgCode(e) === '23505') throw new AppError('ACCOUNT_EXISTS', '该身份证号码或手机号码已注册 / an account with this ID number or mobile number already exists');
        throw e;
      }
      return { id };
    },

    async findById(id) {
      if (!UUID.test(id)) return undefined;
      const { rows } = await db.query<Row>(`select ${COLUMNS} from idp.accounts where id = $1`, [id]);
      return rows[0] ? toRecord(rows[0]) : undefined;
    },

    async authenticate(login, password) {
      const row = login.trim() && password ? await findByLogin(login) : undefined;
      let ok = false;
      if (row?.password_hash) ok = await verifyPassword(password, row.password_hash);
      else await verifyPassword(password, await dummy);
      if (!row || !ok) throw new AppError('LOGIN_FAILED', '登录名或密码错误 / wrong login name or password');
      if (row.disabled) throw new AppError('ACCOUNT_DISABLED', '账户已停用 / this account is disabled');
      return toRecord(row);
    },

    async count() {
      const { rows } = await db.query<{ n: number }>('select count(*)::int as n from idp.accounts');
      return Number(rows[0]?.n ?? 0);
    },

    async upsert(a) {
      const { rows } = await db.query<{ password_hash: string | null }>('select password_hash from idp.accounts where id = $1', [a.id]);
      const hash = rows[0]?.password_hash ?? await hashPassword(a.password);
      const now = clock.now().toISOString();
      await db.query(
        `insert into idp.accounts (id, kind, name, id_number, mobile, username, agency_code, roles, factors, agreement_version, agreement_accepted_at, password_hash, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, case when $10::text is null then null else $11::timestamptz end, $12, $11)
         on conflict (id) do update set kind = excluded.kind, name = excluded.name, id_number = excluded.id_number, mobile = excluded.mobile,
           username = excluded.username, agency_code = excluded.agency_code, roles = excluded.roles,
           password_hash = coalesce(idp.accounts.password_hash, excluded.password_hash)`,
        [a.id, a.kind, a.name, a.idNumber, a.mobile, a.username, a.agencyCode, a.roles, JSON.stringify(a.factors ?? []), a.agreementVersion ?? null, now, hash],
      );
    },
  };
}

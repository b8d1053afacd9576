/**
 * Accounts in `idp.accounts`: natural persons (self-registered, R-ID-1 first slice) and agency
 * staff. Rules enforced here:
 *
 * - Registration (R-ID-1, G 5.1.2(1)② 线上自行注册): name + resident ID number (GB 11643 check
 *   digit, ID_NUMBER_INVALID) + mobile (MOBILE_INVALID, needed for SMS codes) + one or two more
 *   factors from {social-security card, bank card, housing-fund account, driving-licence file}
 *   + a password meeting the policy (PASSWORD_WEAK) + the current service agreement. Missing
 *   parts are BAD_INPUT; an ID number or mobile already registered is ACCOUNT_EXISTS.
 * - Verification (idp/verify): name + ID number must match the population registry and at least
 *   two of the declared factors must be confirmed by their registry, else FACTOR_UNVERIFIED
 *   (details name each factor's result). Every declared factor is recorded with whether it was
 *   verified, by which registry and when; values only as a keyed hash and their last four.
 *   Everything is checked before the single INSERT, so a refusal stores nothing.
 * - Assurance (idp/accounts/assurance.ts): online-verified accounts are L3, counter-registered L5
 *   (R-ID-2, in person); each account records the platform and tier it was registered on (R-ID-12).
 * - Login (idp/interactions/) by ID number, mobile or staff username + password; a wrong name
 *   and a wrong password are the same LOGIN_FAILED and take the same time; ACCOUNT_DISABLED is
 *   only revealed to someone who knows the password.
 */
import { createHmac, randomUUID, type KeyObject } from 'node:crypto';
import type { Db, Queryable } from '../../kernel/db.ts';
import { pgCode } from '../../kernel/db.ts';
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import { isValidIdNumber, isValidMobile, normaliseIdNumber } from '../../kernel/ids.ts';
import { isValidName, nameError, normaliseName } from '../../kernel/names.ts';
import type { StaffRole } from '../../kernel/internal-auth.ts';
import { assertPasswordPolicy, dummyHash, hashPassword, needsRehash, verifyPassword } from './password.ts';
import { FACTOR_SOURCE, type FactorKind, type Verifier, type VerifyResult } from '../verify/verifier.ts';
import { PROOFING_LEVEL, acrOf, type Level, type Proofing } from './assurance.ts';

export type AccountKind = 'person' | 'staff';

/** The online service agreement users accept at registration (versioned: a new text is a new version). */
export const AGREEMENT = {
  version: '2026-01',
  title: { zh: '一网通办用户服务协议', en: 'Yiwang user service agreement' },
} as const;

export const FACTOR_TYPES = ['socialSecurityCard', 'bankCard', 'housingFund', 'drivingLicenceFile'] as const;
export type FactorType = (typeof FACTOR_TYPES)[number];

/** The acr of a self-declared account and of a password login by staff (idp/accounts/assurance.ts has the full scale). */
export const ACR = { selfRegistered: acrOf(2), staff: acrOf(3) } as const;
export { ACR_VALUES } from './assurance.ts';

export type { Proofing } from './assurance.ts';

export interface DeclaredFactor {
  /** `idNumber`: name + resident ID number as a whole, recorded when a linked platform vouched for them (R-ID-3). */
  type: FactorType | 'mobile' | 'idNumber';
  /** HMAC of the value (absent for the mobile number, which is stored in its own column). */
  hash?: string;
  last4: string;
  verified: boolean;
  at: string;
  /** Registry that answered (carrier, bank, …), `sms` / `counter`, or `upstream:<platform>`; absent on accounts from before verification. */
  source?: string;
  /** The registry's answer when not verified (mismatch | unknown). */
  result?: VerifyResult;
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
  /** L2–L5 from how the account was proven. */
  assuranceLevel: Level;
  proofing: Proofing;
  /** R-ID-2: a counter registration waits for staff activation. */
  status: 'pending' | 'active';
  mustChangePassword: boolean;
  /** R-ID-12: where the account was registered. */
  registeredPlatform: string | null;
  registeredTier: string | null;
}

interface Row {
  id: string; kind: AccountKind; name: string; id_number: string | null; mobile: string | null; username: string | null;
  agency_code: string | null; roles: StaffRole[]; disabled: boolean; factors: DeclaredFactor[] | string; agreement_version: string | null;
  password_hash: string | null; assurance_level: number; proofing: Proofing; status: 'pending' | 'active'; must_change_password: boolean;
  registered_platform: string | null; registered_tier: string | null;
}

const COLUMNS = `id, kind, name, id_number, mobile, username, agency_code, roles, disabled, factors, agreement_version, password_hash,
  assurance_level, proofing, status, must_change_password, registered_platform, registered_tier`;

function toRecord(r: Row): AccountRecord {
  return {
    id: r.id, kind: r.kind, name: r.name, idNumber: r.id_number, mobile: r.mobile, username: r.username,
    agencyCode: r.agency_code, roles: r.roles ?? [], disabled: r.disabled,
    factors: typeof r.factors === 'string' ? JSON.parse(r.factors) as DeclaredFactor[] : r.factors,
    agreementVersion: r.agreement_version,
    assuranceLevel: Math.min(5, Math.max(2, Number(r.assurance_level))) as Level,
    proofing: r.proofing, status: r.status, mustChangePassword: r.must_change_password,
    registeredPlatform: r.registered_platform, registeredTier: r.registered_tier,
  };
}

/** The acr of a single-factor login (password or SMS code) by this account: its level, at most L3. */
export function acrFor(a: Pick<AccountRecord, 'assuranceLevel'>): string {
  return acrOf(Math.min(a.assuranceLevel ?? 2, 3) as Level);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FACTOR_VALUE = /^[0-9A-Za-z-]{4,32}$/;

/** What a registration form or JSON body carries (field names are the form's input names). */
export interface RegistrationInput {
  name: string;
  idNumber: string;
  mobile: string;
  /** The further factors declared (one or two; with the mobile that makes two or three). */
  factors: Array<{ type: FactorType; value: string }>;
  password: string;
  agreementVersion: string;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Validate in a fixed order so each refusal has one code; throws AppError. */
export function validateRegistration(body: unknown): RegistrationInput {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const name = normaliseName(str(b.name));
  const idNumber = normaliseIdNumber(str(b.idNumber));
  const mobile = str(b.mobile).replace(/[\s-]/g, '');
  const password = str(b.password);
  const missing = (['name', 'idNumber', 'mobile', 'password'] as const).filter((k) => !{ name, idNumber, mobile, password }[k]);
  if (missing.length) throw new AppError('BAD_INPUT', `请填写：${missing.join('、')} / required: ${missing.join(', ')}`, { fields: missing });
  if (!isValidName(name)) throw nameError(name);
  if (!isValidIdNumber(idNumber)) throw new AppError('ID_NUMBER_INVALID', '身份证号码格式或校验位不正确 / the resident ID number is malformed or its check digit is wrong');
  if (!isValidMobile(mobile)) throw new AppError('MOBILE_INVALID', '手机号码应为 11 位大陆手机号 / the mobile number must be an 11-digit mainland number');
  // The first further factor is required (factorType/factorValue); a second (factor2Type/factor2Value) is optional.
  const factors: Array<{ type: FactorType; value: string }> = [];
  for (const [tk, vk, required] of [['factorType', 'factorValue', true], ['factor2Type', 'factor2Value', false]] as const) {
    const type = str(b[tk]) as FactorType;
    const value = str(b[vk]).trim().toUpperCase();
    if (!required && !type && !value) continue;
    if (!required && type && !value) continue; // a form's select always has a value
    if (!FACTOR_TYPES.includes(type) || !value) {
      throw new AppError('BAD_INPUT', '请再提供一项身份要素（社保卡、银行卡、公积金账号或驾驶证档案编号） / one more identity factor is required (social-security card, bank card, housing-fund account or driving-licence file number)', { fields: [tk, vk] });
    }
    if (!FACTOR_VALUE.test(value)) throw new AppError('BAD_INPUT', '身份要素号码格式不正确 / the factor number is not valid', { fields: [vk] });
    if (factors.some((f) => f.type === type)) throw new AppError('BAD_INPUT', '两项身份要素不能是同一类 / the two factors must be of different kinds', { fields: [tk] });
    factors.push({ type, value });
  }
  assertPasswordPolicy(password);
  const agreementVersion = str(b.agreementVersion);
  if (agreementVersion !== AGREEMENT.version) {
    throw new AppError('BAD_INPUT', '请阅读并同意用户服务协议 / please read and accept the service agreement', { fields: ['agreementVersion'], current: AGREEMENT.version });
  }
  return { name, idNumber, mobile, factors, password, agreementVersion };
}

/** Where accounts registered on this IdP come from (R-ID-12). */
export interface Platform { id: string; tier: 'national' | 'provincial' | 'municipal' }

/**
 * R-ID-1 verification: the population registry must confirm name + ID number, and at least two
 * declared factors must be confirmed by their registries. Returns the factors to record; throws
 * FACTOR_UNVERIFIED (with each factor's answer, never its value) otherwise.
 */
export async function verifyRegistration(
  verifier: Verifier, input: Pick<RegistrationInput, 'name' | 'idNumber' | 'mobile' | 'factors'>, at: string, hash: (type: string, value: string) => string,
): Promise<DeclaredFactor[]> {
  const who = { name: input.name, idNumber: input.idNumber };
  const person = await verifier.person(who);
  if (person !== 'match') {
    throw new AppError('FACTOR_UNVERIFIED', '姓名与身份证号码未通过人口库核验 / the name and resident ID number could not be verified with the population registry', { person });
  }
  const declared: Array<{ type: FactorKind; value: string }> = [{ type: 'mobile', value: input.mobile }, ...input.factors];
  const results = await Promise.all(declared.map((f) => verifier.factor(who, f.type, f.value)));
  const recorded: DeclaredFactor[] = declared.map((f, i) => {
    const result = results[i]!;
    return {
      type: f.type, ...(f.type === 'mobile' ? {} : { hash: hash(f.type, f.value) }), last4: f.value.slice(-4),
      verified: result === 'match', at, source: FACTOR_SOURCE[f.type], ...(result === 'match' ? {} : { result }),
    };
  });
  if (recorded.filter((f) => f.verified).length < 2) {
    throw new AppError('FACTOR_UNVERIFIED', '至少两项身份要素须通过核验（请核对号码或再提供一项） / at least two identity factors must be verified (check the numbers or add one more)', {
      factors: recorded.map((f) => ({ type: f.type, verified: f.verified, ...(f.result ? { result: f.result } : {}) })),
    });
  }
  return recorded;
}

export interface AccountStore {
  /**
   * R-ID-1 online registration (verified through the verifier); L3. `proveMobile` checks the SMS
   * code sent to the mobile (possession, not only the carrier's word); it runs after the
   * registries confirmed the person, so a refused registration does not use up the code.
   */
  register(body: unknown, o: { proveMobile: (mobile: string) => Promise<void> }): Promise<{ id: string }>;
  findById(id: string): Promise<AccountRecord | undefined>;
  /** By ID number, mobile or staff username (whichever the string looks like). */
  findByLogin(login: string): Promise<AccountRecord | undefined>;
  /** LOGIN_FAILED / ACCOUNT_DISABLED / ACCOUNT_PENDING, else the account. */
  authenticate(login: string, password: string): Promise<AccountRecord>;
  count(): Promise<number>;
  /** Insert or update a known account by id (seeding); the password is hashed only when none is stored. */
  upsert(a: Pick<AccountRecord, 'id' | 'kind' | 'name' | 'idNumber' | 'mobile' | 'username' | 'agencyCode' | 'roles'> & {
    password: string; factors?: DeclaredFactor[]; agreementVersion?: string | null; proofing?: Proofing;
  }): Promise<void>;
  /** R-ID-2: a pending person account created at a counter by staff (random password, must change it). */
  createPending(a: { name: string; idNumber: string; mobile: string; registeredBy: string; factors: DeclaredFactor[] }, q?: Queryable): Promise<{ id: string }>;
  /**
   * R-ID-3: a person registered through a trusted real-name platform, with the factors it
   * vouched for (already checked by idp/link): no password (they log in through the platform,
   * or set one by SMS recovery), the agreement accepted now. ACCOUNT_EXISTS for a known ID number.
   * R-ID-12: a person recognised from their home platform (idp/link/homes.ts) accepted the
   * agreement there: `agreementVersion` null, nothing accepted here.
   */
  createLinked(a: { name: string; idNumber: string; mobile: string | null; level: Level; factors: DeclaredFactor[]; agreementVersion: string | null }, q?: Queryable): Promise<{ id: string }>;
  /** R-ID-2: staff activate a pending account with its random initial password, to be changed at first login (NOT_FOUND unless pending). */
  activate(id: string, by: string, initialPassword: string, factors: DeclaredFactor[], q?: Queryable): Promise<void>;
  /** Set a new password (policy checked); clears must-change, or sets it for a password handed over at a counter. */
  setPassword(id: string, password: string, o?: { mustChange?: boolean; q?: Queryable }): Promise<void>;
  /** R-ID-7: bind another mobile (ACCOUNT_EXISTS when another account has it). */
  setMobile(id: string, mobile: string, factor: DeclaredFactor): Promise<void>;
  /** Keyed hash of a factor value (R-ID-1 factors are stored only as this and the last four characters). */
  factorHash(type: string, value: string): string;
}

export interface AccountStoreDeps {
  db: Db;
  clock: Clock;
  factorKey: KeyObject;
  verifier?: Verifier;
  platform?: Platform;
}

const accountExists = () => new AppError('ACCOUNT_EXISTS', '该身份证号码或手机号码已注册 / an account with this ID number or mobile number already exists');
const exists = (e: unknown): never => {
  throw pgCode(e) === '23505' ? accountExists() : e;
};

export function createAccountStore(deps: AccountStoreDeps): AccountStore {
  const { db, clock, factorKey } = deps;
  const platform = deps.platform ?? { id: 'yiwang', tier: 'municipal' };
  // Computed up front (off the event loop) so the first unknown login name is not slower either.
  const dummy = dummyHash();
  dummy.catch(() => undefined);
  const factorHash = (type: string, value: string) => createHmac('sha256', factorKey).update(`yiwang.idp.factor:${type}:${value}`).digest('base64url');

  async function findRow(login: string): Promise<Row | undefined> {
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

    async register(body, o) {
      const input = validateRegistration(body);
      if (!deps.verifier) throw new Error('account store without a verifier cannot register');
      // Cheap uniqueness check first: no registry questions for a number already registered.
      const { rows: taken } = await db.query('select 1 from idp.accounts where id_number = $1 or mobile = $2', [input.idNumber, input.mobile]);
      if (taken.length) throw accountExists();
      const at = clock.now().toISOString();
      const factors = await verifyRegistration(deps.verifier, input, at, factorHash);
      // The mobile is released as phone_number_verified: the carrier's word is not enough, the
      // applicant proves possession with the SMS code too (R-ID-1).
      await o.proveMobile(input.mobile);
      const id = randomUUID();
      const hash = await hashPassword(input.password);
      await db.query(
        `insert into idp.accounts (id, kind, name, id_number, mobile, factors, agreement_version, agreement_accepted_at, password_hash, created_at,
           assurance_level, proofing, registered_platform, registered_tier)
         values ($1, 'person', $2, $3, $4, $5, $6, $7, $8, $7, $9, 'online-verified', $10, $11)`,
        [id, input.name, input.idNumber, input.mobile, JSON.stringify(factors), input.agreementVersion, at, hash,
          PROOFING_LEVEL['online-verified'], platform.id, platform.tier],
      ).catch(exists);
      return { id };
    },

    async findById(id) {
      if (!UUID.test(id)) return undefined;
      const { rows } = await db.query<Row>(`select ${COLUMNS} from idp.accounts where id = $1`, [id]);
      return rows[0] ? toRecord(rows[0]) : undefined;
    },

    async findByLogin(login) {
      const row = login.trim() ? await findRow(login) : undefined;
      return row ? toRecord(row) : undefined;
    },

    async authenticate(login, password) {
      const row = login.trim() && password ? await findRow(login) : undefined;
      let ok = false;
      if (row?.password_hash) ok = await verifyPassword(password, row.password_hash);
      else await verifyPassword(password, await dummy);
      if (!row || !ok) throw new AppError('LOGIN_FAILED', '登录名或密码错误 / wrong login name or password');
      // A hash below today's parameters (scrypt, weaker Argon2id) is replaced now that the password
      // is known. Compare-and-set: a password changed meanwhile is never overwritten.
      if (needsRehash(row.password_hash!)) {
        await db.query('update idp.accounts set password_hash = $2 where id = $1 and password_hash = $3',
          [row.id, await hashPassword(password), row.password_hash]);
      }
      if (row.disabled) throw new AppError('ACCOUNT_DISABLED', '账户已停用 / this account is disabled');
      if (row.status === 'pending') throw new AppError('ACCOUNT_PENDING', '账户尚待窗口工作人员激活 / this account is waiting for activation by counter staff');
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
      const proofing: Proofing = a.proofing ?? (a.kind === 'staff' ? 'staff' : 'self-declared');
      await db.query(
        `insert into idp.accounts (id, kind, name, id_number, mobile, username, agency_code, roles, factors, agreement_version, agreement_accepted_at, password_hash, created_at,
           assurance_level, proofing, registered_platform, registered_tier)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, case when $10::text is null then null else $11::timestamptz end, $12, $11, $13, $14, $15, $16)
         on conflict (id) do update set kind = excluded.kind, name = excluded.name, id_number = excluded.id_number, mobile = excluded.mobile,
           username = excluded.username, agency_code = excluded.agency_code, roles = excluded.roles, factors = excluded.factors,
           assurance_level = excluded.assurance_level, proofing = excluded.proofing,
           registered_platform = coalesce(idp.accounts.registered_platform, excluded.registered_platform),
           registered_tier = coalesce(idp.accounts.registered_tier, excluded.registered_tier),
           password_hash = coalesce(idp.accounts.password_hash, excluded.password_hash)`,
        [a.id, a.kind, a.name, a.idNumber, a.mobile, a.username, a.agencyCode, a.roles, JSON.stringify(a.factors ?? []), a.agreementVersion ?? null, now, hash,
          PROOFING_LEVEL[proofing], proofing, platform.id, platform.tier],
      );
    },

    async createPending(a, q = db) {
      const id = randomUUID();
      const now = clock.now().toISOString();
      // No usable password until activation (the initial one is generated then).
      const hash = null;
      await q.query(
        `insert into idp.accounts (id, kind, name, id_number, mobile, factors, password_hash, created_at, assurance_level, proofing,
           registered_platform, registered_tier, status, must_change_password, registered_by)
         values ($1, 'person', $2, $3, $4, $5, $6, $7, $8, 'counter', $9, $10, 'pending', true, $11)`,
        [id, a.name, a.idNumber, a.mobile, JSON.stringify(a.factors), hash, now, PROOFING_LEVEL.counter, platform.id, platform.tier, a.registeredBy],
      ).catch(exists);
      return { id };
    },

    async createLinked(a, q = db) {
      const id = randomUUID();
      const now = clock.now().toISOString();
      await q.query(
        `insert into idp.accounts (id, kind, name, id_number, mobile, factors, agreement_version, agreement_accepted_at, password_hash, created_at,
           assurance_level, proofing, registered_platform, registered_tier)
         values ($1, 'person', $2, $3, $4, $5, $6, $11, null, $7, $8, 'linked', $9, $10)`,
        [id, a.name, a.idNumber, a.mobile, JSON.stringify(a.factors), a.agreementVersion, now, a.level, platform.id, platform.tier, a.agreementVersion === null ? null : now],
      ).catch(exists);
      return { id };
    },

    async activate(id, by, initialPassword, factors, q = db) {
      const now = clock.now().toISOString();
      const hash = await hashPassword(initialPassword);
      // The counter agreement is signed on paper (G 5.1.2(1)② 线下窗口注册); its version is recorded at activation.
      const r = await q.query(
        `update idp.accounts set status = 'active', activated_by = $2, activated_at = $3, agreement_version = $4, agreement_accepted_at = $3,
           password_hash = $5, must_change_password = true, factors = $6
         where id = $1 and status = 'pending'`, [id, by, now, AGREEMENT.version, hash, JSON.stringify(factors)]);
      if (!r.rowCount) throw new AppError('NOT_FOUND', '没有待激活的该账户 / no pending account with that id');
    },

    async setPassword(id, password, o = {}) {
      assertPasswordPolicy(password);
      const hash = await hashPassword(password);
      const r = await (o.q ?? db).query('update idp.accounts set password_hash = $2, must_change_password = $3 where id = $1', [id, hash, o.mustChange ?? false]);
      if (!r.rowCount) throw new AppError('NOT_FOUND', '账户不存在 / no such account');
    },

    async setMobile(id, mobile, factor) {
      const { rows } = await db.query<Row>(`select ${COLUMNS} from idp.accounts where id = $1`, [id]);
      const row = rows[0];
      if (!row) throw new AppError('NOT_FOUND', '账户不存在 / no such account');
      const factors = toRecord(row).factors.filter((f) => f.type !== 'mobile');
      await db.query('update idp.accounts set mobile = $2, factors = $3 where id = $1', [id, mobile, JSON.stringify([factor, ...factors])]).catch(exists);
    },
  };
}

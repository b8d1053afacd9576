/**
 * The electronic licence as a W3C Verifiable Credential 2.0 (docs/standards.md: VC 2.0 secured
 * with JOSE, `typ: vc+jwt`). The licence data (GB/T 36902 metadata: identifier, type, number,
 * holder, issuing agency, issue date, jurisdiction) sits under credentialSubject.licence;
 * validFrom/validUntil are the licence's own period, not the signature's.
 */
import { AppError } from '../../kernel/errors.ts';
import { isValidCreditCode, isValidIdNumber, parseLicenceId } from '../../kernel/ids.ts';
import { identityTextProblem, nameError, normaliseName, ORGANIZATION_NAME, PERSON_NAME, isValidName, type NameRule } from '../../kernel/names.ts';

export const VC_CONTEXT_V2 = 'https://www.w3.org/ns/credentials/v2';
export const LICENCE_CREDENTIAL_TYPE = 'ElectronicLicence';

/** What the licence service knows about a licence when it issues it. */
export interface LicenceFields {
  /** GB/T 36904 licence identifier (1.2.156.3005.2....). */
  identifier: string;
  /** Licence type code (ministry credit code + 3 digits). */
  typeCode: string;
  typeName: string;
  /** The number printed on the licence (证照编号). */
  number: string;
  /** Account id of the holder in the IdP. */
  holderId: string;
  holderName: string;
  /** Holder's resident ID number or credit code. */
  holderCode: string;
  issuerName: string;
  /** Issuing agency's unified social credit code (GB 32100). */
  issuerCode: string;
  /** YYYY-MM-DD */
  issueDate: string;
  /** ISO 8601 date-time. */
  validFrom: string;
  /** ISO 8601 date-time; null or absent for a licence without end. */
  validUntil?: string | null;
  /** Administrative region code (GB/T 2260) where the licence applies. */
  jurisdiction: string;
  /**
   * A company's licence (the electronic business licence, 电子营业执照) names its legal
   * representative (法定代表人): name and resident ID number. Absent on a person's licence.
   */
  legalRepresentative?: LegalRepresentative | undefined;
}

export interface LegalRepresentative { name: string; idNumber: string }

export interface LicenceData {
  identifier: string;
  typeCode: string;
  typeName: string;
  number: string;
  holderName: string;
  holderCode: string;
  issuerName: string;
  issuerCode: string;
  issueDate: string;
  jurisdiction: string;
  /** Only on a company's licence (see LicenceFields). */
  legalRepresentative?: LegalRepresentative;
}

export type StatusPurpose = 'revocation' | 'suspension';

/** BitstringStatusListEntry (Bitstring Status List v1.0 §2.1). */
export interface StatusEntry {
  id: string;
  type: 'BitstringStatusListEntry';
  statusPurpose: StatusPurpose;
  /** Decimal string. */
  statusListIndex: string;
  /** URL of the status-list credential. */
  statusListCredential: string;
}

export interface LicenceCredential {
  '@context': string[];
  type: string[];
  /** urn:yiwang:licence:<identifier> */
  id: string;
  /** id = urn:uscc:<issuer credit code> */
  issuer: { id: string; name: string };
  validFrom: string;
  validUntil?: string;
  credentialSubject: { id: string; licence: LicenceData };
  /**
   * Bitstring Status List v1.0 entries (one per purpose: revocation, suspension) the licence
   * service adds before sealing; checked by verifyLicence when it is given status lists.
   */
  credentialStatus?: StatusEntry | StatusEntry[];
}

export const LICENCE_DATA_KEYS = [
  'identifier', 'typeCode', 'typeName', 'number', 'holderName', 'holderCode',
  'issuerName', 'issuerCode', 'issueDate', 'jurisdiction',
] as const satisfies ReadonlyArray<keyof LicenceData>;

export const credentialId = (identifier: string): string => `urn:yiwang:licence:${identifier}`;
export const issuerId = (creditCode: string): string => `urn:uscc:${creditCode}`;
export const holderSubjectId = (accountId: string): string => `urn:yiwang:account:${accountId}`;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** An ISO 8601 date-time with a time zone, as an ISO string; BAD_INPUT naming `field` otherwise. */
export function isoDateTime(field: string, value: string): string {
  const t = Date.parse(value);
  if (!DATE_TIME.test(value) || Number.isNaN(t)) {
    throw new AppError('BAD_INPUT', `${field} 须为带时区的 ISO 8601 时间 / ${field} must be an ISO 8601 date-time with a time zone`, { field });
  }
  return new Date(t).toISOString();
}

/**
 * Every text a verifier shows is free of invisible, format and control characters
 * (kernel/names.ts: Cf such as U+200B or the bidi overrides U+202A–U+202E, Cc, Zl, Zp, < >), so
 * what is displayed is what was sealed: each member of the licence data, issuer.name and the legal
 * representative's name. Returns the offending member and a bilingual message, or null.
 */
export function displayedTextProblem(l: Record<string, unknown>, issuerName: unknown): { field: string; message: string } | null {
  const texts: Array<[string, unknown]> = [
    ...LICENCE_DATA_KEYS.map((k) => [k, l[k]] as [string, unknown]), ['issuer.name', issuerName],
    ['legalRepresentative.name', (l.legalRepresentative as { name?: unknown } | undefined)?.name],
  ];
  for (const [field, v] of texts) {
    if (typeof v === 'string' && identityTextProblem(v)) {
      return { field, message: `${field} 含有不可见字符或控制字符 / ${field} contains an invisible, format or control character` };
    }
  }
  return null;
}

/**
 * The identifiers inside a licence must agree with each other:
 * - `identifier` is a GB/T 36904 identifier (prefix 1.2.156.3005.2, MOD 37,36 check character,
 *   kernel/ids.ts parseLicenceId);
 * - its type-code part is `typeCode` and its agency part is `issuerCode` (the identifier names
 *   the licence type and the issuing agency, GB/T 36904 §5);
 * - `holderCode` is a resident ID number (GB 11643) or a unified social credit code (GB 32100).
 * Returns the offending field and a bilingual message, or null. Building turns a problem into
 * BAD_INPUT; reading a licence (claims.ts) into LICENCE_MALFORMED.
 */
export function identifierProblem(l: Pick<LicenceData, 'identifier' | 'typeCode' | 'issuerCode' | 'holderCode'>): { field: string; message: string } | null {
  const parts = parseLicenceId(l.identifier);
  if (!parts) return { field: 'identifier', message: '证照标识不符合 GB/T 36904（前缀或校验位错误）/ the identifier is not a valid GB/T 36904 identifier (prefix or check character)' };
  if (parts.typeCode !== l.typeCode) return { field: 'typeCode', message: '证照标识中的类型代码与 typeCode 不符 / the identifier names another licence type than typeCode' };
  if (parts.agencyCode !== l.issuerCode) return { field: 'issuerCode', message: '证照标识中的发证机构代码与 issuerCode 不符 / the identifier names another issuing agency than issuerCode' };
  if (!isValidIdNumber(l.holderCode) && !isValidCreditCode(l.holderCode)) {
    return { field: 'holderCode', message: '持证主体代码须为有效的身份证号码或统一社会信用代码 / holderCode must be a valid resident ID number or credit code' };
  }
  return null;
}

/**
 * The legal representative, when a licence names one: only a company (holderCode a credit
 * code) has one, with a name and a valid resident ID number (GB 11643). Same use as
 * identifierProblem: BAD_INPUT when building, LICENCE_MALFORMED when reading.
 */
export function legalRepresentativeProblem(holderCode: string, rep: unknown): { field: string; message: string } | null {
  if (rep === undefined) return null;
  const r = (typeof rep === 'object' && rep !== null && !Array.isArray(rep) ? rep : {}) as Record<string, unknown>;
  const name = typeof r.name === 'string' ? r.name.trim() : '';
  const idNumber = typeof r.idNumber === 'string' ? r.idNumber : '';
  if (!name || name !== r.name || !isValidIdNumber(idNumber) || Object.keys(r).some((k) => k !== 'name' && k !== 'idNumber')) {
    return { field: 'legalRepresentative', message: '法定代表人须有姓名和有效的身份证号码 / the legal representative needs a name and a valid resident ID number' };
  }
  if (!isValidCreditCode(holderCode)) {
    return { field: 'legalRepresentative', message: '只有单位（统一社会信用代码）的证照载有法定代表人 / only a company\'s licence (credit code holder) names a legal representative' };
  }
  return null;
}

/**
 * Build the credential. Times are normalised to UTC ISO strings (VC 2.0 dateTimeStamp); every
 * text field must be non-empty; the issuer's credit code must carry a valid check character.
 */
export function buildLicenceCredential(f: LicenceFields, status?: StatusEntry[]): LicenceCredential {
  const required = [...LICENCE_DATA_KEYS, 'holderId', 'validFrom'] as const;
  for (const k of required) {
    const v = f[k];
    if (typeof v !== 'string' || !v.trim()) throw new AppError('BAD_INPUT', `缺少证照字段 ${k} / licence field ${k} is required`, { field: k });
  }
  if (!isValidCreditCode(f.issuerCode)) {
    throw new AppError('CREDIT_CODE_INVALID', '发证机关统一社会信用代码错误 / invalid issuer credit code', { field: 'issuerCode' });
  }
  const problem = identifierProblem(f) ?? legalRepresentativeProblem(f.holderCode, f.legalRepresentative);
  if (problem) throw new AppError('BAD_INPUT', problem.message, { field: problem.field });
  // Names as kept (NFC), checked like at registration; the other shown texts free of invisible characters.
  const named = (field: 'holderName' | 'issuerName' | 'legalRepresentative.name', value: string, rule: NameRule): string => {
    const n = normaliseName(value);
    if (!isValidName(n, rule)) throw nameError(n, rule, field);
    return n;
  };
  const holderName = named('holderName', f.holderName, isValidIdNumber(f.holderCode) ? PERSON_NAME : ORGANIZATION_NAME);
  const issuerName = named('issuerName', f.issuerName, ORGANIZATION_NAME);
  const repName = f.legalRepresentative ? named('legalRepresentative.name', f.legalRepresentative.name, PERSON_NAME) : undefined;
  const shown = displayedTextProblem({ ...f, holderName, issuerName }, issuerName);
  if (shown) throw new AppError('BAD_INPUT', shown.message, { field: shown.field });
  if (!DATE.test(f.issueDate) || Number.isNaN(Date.parse(f.issueDate))) {
    throw new AppError('BAD_INPUT', 'issueDate 须为 YYYY-MM-DD / issueDate must be YYYY-MM-DD', { field: 'issueDate' });
  }
  const validFrom = isoDateTime('validFrom', f.validFrom);
  const validUntil = f.validUntil ? isoDateTime('validUntil', f.validUntil) : undefined;
  if (validUntil && validUntil <= validFrom) {
    throw new AppError('BAD_INPUT', '有效期截止须晚于起始 / validUntil must be after validFrom', { field: 'validUntil' });
  }
  const licence = { ...Object.fromEntries(LICENCE_DATA_KEYS.map((k) => [k, f[k]])), holderName, issuerName } as unknown as LicenceData;
  if (f.legalRepresentative) licence.legalRepresentative = { name: repName!, idNumber: f.legalRepresentative.idNumber };
  return {
    '@context': [VC_CONTEXT_V2],
    type: ['VerifiableCredential', LICENCE_CREDENTIAL_TYPE],
    id: credentialId(f.identifier),
    issuer: { id: issuerId(f.issuerCode), name: issuerName },
    validFrom,
    ...(validUntil ? { validUntil } : {}),
    credentialSubject: { id: holderSubjectId(f.holderId), licence },
    ...(status?.length ? { credentialStatus: status } : {}),
  };
}

/**
 * Levels of assurance (acr, `urn:yiwang:loa:<n>`), as in provincial practice
 * (../shared/docs/requirements.md, after R-ID-12):
 *
 *   L2  self-declared (factors not verified)
 *   L3  name + ID number and two factors checked against the registries (R-ID-1 online)
 *   L4  live person + document
 *   L5  certificate or in person (R-ID-2 counter registration; staff, proven by their agency)
 *   linked (R-ID-3): the level a trusted real-name platform vouches for, at most the one it is
 *       trusted for (idp/link/identity.ts); at least L3
 *
 * The level of a *login* is the account's level capped by how the login was made (`amr`, RFC
 * 8176): one factor (password `pwd`, SMS code `sms`, or a QR code approved on the app `qr`)
 * reaches at most L3; two (password and SMS code, "SMS code and password strengthen each other",
 * R-ID-5) reach the account's own level. A QR login never exceeds the approving app session.
 */
export type Level = 2 | 3 | 4 | 5;
export const LEVELS: readonly Level[] = [2, 3, 4, 5];
const PREFIX = 'urn:yiwang:loa:';

export const acrOf = (level: Level): string => `${PREFIX}${level}`;
export const ACR_VALUES: readonly string[] = LEVELS.map(acrOf);

export function levelOf(acr: unknown): Level | undefined {
  if (typeof acr !== 'string' || !acr.startsWith(PREFIX)) return undefined;
  const n = Number(acr.slice(PREFIX.length));
  return (LEVELS as readonly number[]).includes(n) ? n as Level : undefined;
}

export type Proofing = 'self-declared' | 'online-verified' | 'counter' | 'staff' | 'linked';

export const PROOFING_LEVEL: Record<Proofing, Level> = {
  'self-declared': 2,
  'online-verified': 3,
  counter: 5,
  staff: 5,
  // The usual case; the level actually recorded is the platform's (idp/link/identity.ts).
  linked: 3,
};

/** How many independent factors a login used: `pwd` + `sms` are two. */
export function factorCount(amr: readonly string[]): number {
  return new Set(amr.filter((m) => m === 'pwd' || m === 'sms' || m === 'qr')).size;
}

/**
 * The level a login reaches: the account's level, capped at L3 for a single factor; a QR login at
 * most the app session's; a login through a linked platform the level of that platform's login.
 */
export function loginLevel(accountLevel: Level, amr: readonly string[], appSessionLevel?: Level, upstreamLevel?: Level): Level {
  if (amr.includes('fed')) return Math.min(accountLevel, upstreamLevel ?? 2) as Level;
  let level = factorCount(amr) >= 2 ? accountLevel : Math.min(accountLevel, 3) as Level;
  if (amr.includes('qr') && appSessionLevel !== undefined) level = Math.min(level, appSessionLevel) as Level;
  return level;
}

/** The highest level a login of this account can reach: two factors (password + SMS code) need a bound mobile. */
export function reachableLevel(a: { assuranceLevel: Level; mobile: string | null }): Level {
  return loginLevel(a.assuranceLevel, a.mobile ? ['pwd', 'sms'] : ['pwd']);
}

/**
 * The level the missing second factor would bring this login to, or undefined when it cannot be
 * stepped up: a QR login (never above the app's session), two factors already, or a password
 * login of an account with no bound mobile for the SMS code.
 */
export function stepUpReach(a: { assuranceLevel: Level; mobile: string | null }, amr: readonly string[]): Level | undefined {
  if (factorCount(amr) !== 1 || amr.includes('qr')) return undefined;
  if (amr.includes('pwd') && !a.mobile) return undefined;
  return loginLevel(a.assuranceLevel, ['pwd', 'sms']);
}

// ----- what a request asks of the level (OIDC Core §3.1.2.1 acr_values, §5.5.1.1 the acr claim) -----

const ACR_MEMBERS = new Set(['essential', 'value', 'values']);

/**
 * Why a `claims.id_token.acr` request is malformed, or undefined when it is fine (null, or an
 * object with only `essential` (boolean), `value` (string) or `values` (non-empty array of
 * strings), and when essential, naming only our levels). Stricter than OIDC Core §5.5.1, which
 * says unknown members are ignored: a misspelt `essential` would silently turn a demand into a
 * wish, so it is refused instead.
 */
export function acrClaimProblem(acr: unknown): string | undefined {
  if (acr === undefined || acr === null) return undefined;
  if (typeof acr !== 'object' || Array.isArray(acr)) return 'claims.id_token.acr must be null or an object';
  const r = acr as Record<string, unknown>;
  if (Object.keys(r).some((k) => !ACR_MEMBERS.has(k))) return 'claims.id_token.acr may only have the members essential, value and values';
  if (r.essential !== undefined && typeof r.essential !== 'boolean') return 'claims.id_token.acr.essential must be true or false';
  if (r.value !== undefined && typeof r.value !== 'string') return 'claims.id_token.acr.value must be a string';
  if (r.values !== undefined && (!Array.isArray(r.values) || r.values.length === 0 || !r.values.every((v) => typeof v === 'string'))) {
    return 'claims.id_token.acr.values must be a non-empty array of strings';
  }
  if (r.value !== undefined && r.values !== undefined) return 'claims.id_token.acr must have value or values, not both';
  if (r.essential === true && namedValues(r).some((v) => levelOf(v) === undefined)) {
    return `an essential claims.id_token.acr may only name the levels in acr_values_supported (${ACR_VALUES.join(' ')})`;
  }
  return undefined;
}

const namedValues = (acr: Record<string, unknown>): unknown[] => [
  ...(acr.value === undefined ? [] : [acr.value]), ...(Array.isArray(acr.values) ? acr.values : []),
];

/** The `claims.id_token.acr` member of a claims parameter (already checked by acrClaimProblem). */
function acrClaim(claims: unknown): Record<string, unknown> | undefined {
  try {
    const c = typeof claims === 'string' ? JSON.parse(claims) as unknown : claims;
    const acr = (c as { id_token?: { acr?: unknown } } | undefined)?.id_token?.acr;
    return typeof acr === 'object' && acr !== null ? acr as Record<string, unknown> : undefined;
  } catch {
    return undefined; // oidc-provider refuses a malformed claims parameter itself
  }
}

/** The lowest of our levels named (any of them is acceptable), ignoring values that are not ours. */
function lowestNamed(values: readonly unknown[]): Level | undefined {
  const levels = values.map(levelOf).filter((l): l is Level => l !== undefined);
  return levels.length ? Math.min(...levels) as Level : undefined;
}

const highest = (...levels: Array<Level | undefined>): Level | undefined => {
  const defined = levels.filter((l): l is Level => l !== undefined);
  return defined.length ? Math.max(...defined) as Level : undefined;
};

/**
 * What an authorization request asks of the login's level. Levels are ordered: a login at a
 * higher level meets a lower demand, and the ID token's acr says the level actually reached.
 */
export interface AcrDemand {
  /** Voluntary (acr_values, a client's default_acr_values, a non-essential acr claim): stepped up to when the login can reach it, else the login goes on at the level it reached. */
  voluntary?: Level;
  /** Essential (an essential acr claim, the client's access policy): stepped up to, or the request fails with unmet_authentication_requirements. */
  essential?: Level;
  /** The essential level is the client's access policy's minimum (idp/admin/policies.ts). */
  byPolicy?: boolean;
}

export function acrDemand(params: { acr_values?: unknown; claims?: unknown }, policyMinimum?: Level): AcrDemand {
  const fromValues = typeof params.acr_values === 'string' ? lowestNamed(params.acr_values.split(' ')) : undefined;
  const claim = acrClaim(params.claims);
  const fromClaim = claim ? lowestNamed(namedValues(claim)) : undefined;
  const claimEssential = claim?.essential === true ? fromClaim : undefined;
  const essential = highest(claimEssential, policyMinimum);
  const voluntary = highest(fromValues, claim?.essential === true ? undefined : fromClaim);
  return {
    ...(voluntary !== undefined ? { voluntary } : {}),
    ...(essential !== undefined ? { essential } : {}),
    ...(policyMinimum !== undefined && policyMinimum === essential && (claimEssential ?? 0) < policyMinimum ? { byPolicy: true } : {}),
  };
}

export type LevelStep = { step: 'done' } | { step: 'stepup'; level: Level } | { step: 'unmet'; level: Level };

/**
 * What a login at `current` does about `demand`, when a second factor would bring it to
 * `reach` (undefined: it cannot be stepped up): go on (`done`), ask for the second factor up to
 * `level` (the voluntary level when reachable, else the essential one), or fail because the
 * essential level cannot be reached (`unmet`).
 */
export function nextStep(demand: AcrDemand, current: Level, reach: Level | undefined): LevelStep {
  const wanted = highest(demand.voluntary, demand.essential);
  for (const target of [wanted, demand.essential]) {
    if (target === undefined || current >= target) return { step: 'done' };
    if (reach !== undefined && reach >= target) return { step: 'stepup', level: target };
  }
  return demand.essential !== undefined ? { step: 'unmet', level: demand.essential } : { step: 'done' };
}

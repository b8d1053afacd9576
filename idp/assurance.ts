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

/** The acr member of an OIDC claims request (`claims.id_token.acr`, OIDC Core §5.5.1). */
export interface AcrClaimRequest { essential?: unknown; value?: unknown; values?: unknown }

function acrClaim(claims: unknown): AcrClaimRequest | undefined {
  try {
    const c = typeof claims === 'string' ? JSON.parse(claims) as unknown : claims;
    const acr = (c as { id_token?: { acr?: unknown } } | undefined)?.id_token?.acr;
    return typeof acr === 'object' && acr !== null ? acr as AcrClaimRequest : undefined;
  } catch {
    return undefined; // oidc-provider refuses a malformed claims parameter itself
  }
}

const namedValues = (acr: AcrClaimRequest): unknown[] => [acr.value, ...(Array.isArray(acr.values) ? acr.values : [])];

/**
 * The minimum level an authorization request demands: the lowest of our levels named in
 * `acr_values` (space-separated, any of them acceptable) or in a `claims.id_token.acr` request
 * (`value` / `values`, essential or not). Levels are ordered: a login at a higher level meets a
 * lower demand, and the ID token's acr says the level actually reached.
 */
export function demandedLevel(params: { acr_values?: unknown; claims?: unknown }): Level | undefined {
  const named: Level[] = [];
  if (typeof params.acr_values === 'string') {
    for (const v of params.acr_values.split(' ')) { const l = levelOf(v); if (l) named.push(l); }
  }
  const acr = acrClaim(params.claims);
  if (acr) for (const v of namedValues(acr)) { const l = levelOf(v); if (l) named.push(l); }
  return named.length ? Math.min(...named) as Level : undefined;
}

/** An essential acr request naming values, none of them our levels: no login can ever meet it (OIDC Core §5.5.1.1). */
export function unmeetableAcr(claims: unknown): boolean {
  const acr = acrClaim(claims);
  if (acr?.essential !== true) return false;
  const named = namedValues(acr).filter((v) => v !== undefined);
  return named.length > 0 && !named.some((v) => levelOf(v) !== undefined);
}

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

/**
 * The minimum level an authorization request demands: the lowest level named in `acr_values`
 * (space-separated, any of them acceptable), or in an essential `claims.id_token.acr` request.
 */
export function demandedLevel(params: { acr_values?: unknown; claims?: unknown }): Level | undefined {
  const named: Level[] = [];
  if (typeof params.acr_values === 'string') {
    for (const v of params.acr_values.split(' ')) { const l = levelOf(v); if (l) named.push(l); }
  }
  try {
    const c = typeof params.claims === 'string' ? JSON.parse(params.claims) as { id_token?: { acr?: { essential?: boolean; value?: string; values?: string[] } } } : undefined;
    const acr = c?.id_token?.acr;
    if (acr?.essential) for (const v of [acr.value, ...(acr.values ?? [])]) { const l = levelOf(v); if (l) named.push(l); }
  } catch { /* oidc-provider refuses malformed claims itself */ }
  return named.length ? Math.min(...named) as Level : undefined;
}

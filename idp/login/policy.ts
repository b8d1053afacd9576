/**
 * Step-up (issue 3 bullet 4): oidc-provider's default interaction policy with the level checks
 * made ours. Rules:
 *
 * - `acr_insufficient` (login prompt): the client demands a minimum level (acr_values, or an acr
 *   claim request, idp/assurance.ts demandedLevel) above the level of the browser's session →
 *   the user is sent to the login page instead of getting a code for a weaker login;
 *   interactions.ts then asks for the second factor only, or answers
 *   `unmet_authentication_requirements` when the account cannot reach the level. With
 *   `prompt=none` the client gets `login_required`.
 * - oidc-provider's `essential_acr` / `essential_acrs` checks are removed: they want the
 *   session's acr to equal a requested value, but our levels are ordered (an L5 login meets a
 *   demand for L4), and the check above already covers essential acr requests.
 * - `claimsParameter`: the claims parameter may ask for `acr` only (and `auth_time`); an
 *   essential acr naming none of our levels can never be met, so the client is answered
 *   `unmet_authentication_requirements` at once (OIDC Core §5.5.1.1). Other claims are released
 *   by scope, on the consent page, never by this parameter.
 */
import * as oidc from 'oidc-provider';
import { demandedLevel, levelOf, unmeetableAcr } from '../assurance.ts';

interface CheckCtx { oidc: { params: Record<string, unknown>; session?: { accountId?: string; acr?: string } } }
interface PolicyApi {
  base(): { get(name: string): { checks: { add(c: unknown): void; remove(reason: string): void } } | undefined };
  Check: (new (reason: string, description: string, error: string, check: (ctx: CheckCtx) => unknown) => unknown) & { REQUEST_PROMPT: unknown; NO_NEED_TO_PROMPT: unknown };
}

export const ACR_INSUFFICIENT = 'acr_insufficient';

export function stepUpPolicy(): unknown {
  const { base, Check } = (oidc as unknown as { interactionPolicy: PolicyApi }).interactionPolicy;
  const policy = base();
  const login = policy.get('login')!;
  login.checks.remove('essential_acr');
  login.checks.remove('essential_acrs');
  login.checks.add(new Check(ACR_INSUFFICIENT, 'a higher level of assurance is required', 'login_required', (ctx) => {
    const demanded = demandedLevel(ctx.oidc.params);
    if (!demanded || !ctx.oidc.session?.accountId) return Check.NO_NEED_TO_PROMPT;
    const have = levelOf(ctx.oidc.session.acr) ?? 2;
    return have < demanded ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
  }));
  return policy;
}

const ALLOWED_CLAIMS = new Set(['acr', 'auth_time']);

/** features.claimsParameter.assertClaimsParameter (see the rules above). */
export async function assertClaimsParameter(_ctx: unknown, claims: Record<string, unknown>): Promise<void> {
  const { InvalidRequest, UnmetAuthenticationRequirements } = oidc.errors;
  if (claims.userinfo !== undefined) throw new InvalidRequest!('the claims parameter may request acr only; other claims come with scopes');
  const idToken = (claims.id_token ?? {}) as Record<string, unknown>;
  for (const [name, value] of Object.entries(idToken)) {
    if (!ALLOWED_CLAIMS.has(name)) throw new InvalidRequest!('the claims parameter may request acr only; other claims come with scopes');
    if (value !== null && (typeof value !== 'object' || Array.isArray(value))) throw new InvalidRequest!(`claims.id_token.${name} must be null or an object`);
  }
  if (unmeetableAcr(claims)) throw new UnmetAuthenticationRequirements!('none of the requested acr values is offered (acr_values_supported)');
}

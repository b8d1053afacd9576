/**
 * Step-up (issue 3 bullet 4): oidc-provider's default interaction policy plus one check on the
 * login prompt. When the client demands a minimum level (acr_values, or an essential acr claim)
 * above the level of the browser's current session, the user is sent to the login page again
 * instead of getting a code for a weaker login; interactions.ts then asks for the second factor
 * (or answers unmet_authentication_requirements when the account cannot reach the level).
 */
import * as oidc from 'oidc-provider';
import { demandedLevel, levelOf } from '../assurance.ts';

interface CheckCtx { oidc: { params: Record<string, unknown>; session?: { accountId?: string; acr?: string } } }
interface PolicyApi {
  base(): { get(name: string): { checks: { add(c: unknown): void } } | undefined };
  Check: (new (reason: string, description: string, check: (ctx: CheckCtx) => unknown) => unknown) & { REQUEST_PROMPT: unknown; NO_NEED_TO_PROMPT: unknown };
}

export function stepUpPolicy(): unknown {
  const { base, Check } = (oidc as unknown as { interactionPolicy: PolicyApi }).interactionPolicy;
  const policy = base();
  policy.get('login')!.checks.add(new Check('acr_insufficient', 'a higher level of assurance is required', (ctx) => {
    const demanded = demandedLevel(ctx.oidc.params);
    if (!demanded || !ctx.oidc.session?.accountId) return Check.NO_NEED_TO_PROMPT;
    const have = levelOf(ctx.oidc.session.acr) ?? 2;
    return have < demanded ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
  }));
  return policy;
}

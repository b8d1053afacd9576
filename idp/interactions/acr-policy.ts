/**
 * Step-up: oidc-provider's default interaction policy with the level checks
 * made ours. What a request asks of the level is an AcrDemand (idp/accounts/assurance.ts): voluntary
 * (acr_values, a non-essential acr claim) or essential (an essential acr claim, the client's
 * access policy minimum, idp/admin/policies.ts). Rules:
 *
 * - `acr_insufficient` (login prompt): the browser is logged in below what the request asks and
 *   either the essential level is not met, or the voluntary level is not met and the missing
 *   second factor of this session would reach it → the user is sent to the interaction pages
 *   instead of getting a code; the interaction steps ask for the second factor, or answer
 *   `unmet_authentication_requirements` when the account cannot reach an essential level. A
 *   voluntary level the session cannot be stepped up to is no reason to interrupt single sign-on:
 *   the code comes at once and the ID token's acr says the level reached (the client decides).
 *   Right after a login interaction (resume) only the essential level counts: the interaction
 *   settled the voluntary one. With `prompt=none` the client gets `login_required`.
 * - The demand is computed once per request and handed to the pages in the login prompt's
 *   details (`ACR_DEMAND`), so they act on the same policy minimum the check saw.
 * - oidc-provider's `essential_acr` / `essential_acrs` checks are removed: they want the
 *   session's acr to equal a requested value, but our levels are ordered (an L5 login meets a
 *   demand for L4).
 * - `claimsParameter`: the claims parameter may ask for `acr` only (and `auth_time`); a
 *   malformed acr request (idp/accounts/assurance.ts acrClaimProblem: a string `values`, a non-string
 *   `value`, unknown members, an essential value that is not one of our levels) is
 *   `invalid_request` before any login (OIDC Core §5.5.1). Other claims are released by scope,
 *   on the consent page, never by this parameter.
 */
import * as oidc from 'oidc-provider';
import { acrClaimProblem, acrDemand, levelOf, nextStep, stepUpReach, type AcrDemand, type Level } from '../accounts/assurance.ts';
import type { AccountRecord } from '../accounts/store.ts';

interface CheckCtx {
  oidc: {
    params: Record<string, unknown>;
    client?: { clientId: string };
    session?: { accountId?: string; acr?: string; amr?: string[] };
    account?: { record?: AccountRecord };
    result?: Record<string, unknown>;
  };
}
interface LoginPrompt {
  details: (ctx: CheckCtx) => Promise<Record<string, unknown> | undefined> | Record<string, unknown> | undefined;
  checks: { add(c: unknown): void; remove(reason: string): void };
}
interface PolicyApi {
  base(): { get(name: string): LoginPrompt | undefined };
  Check: (new (reason: string, description: string, error: string, check: (ctx: CheckCtx) => unknown) => unknown) & { REQUEST_PROMPT: unknown; NO_NEED_TO_PROMPT: unknown };
}

export const ACR_INSUFFICIENT = 'acr_insufficient';
/** Key of the request's AcrDemand in the login prompt's details (read by context.ts and start.ts). */
export const ACR_DEMAND = 'yw_acr_demand';

export interface StepUpDeps {
  /** The client's access policy minimum (idp/admin/policies.ts), an essential demand. */
  minimumLevel?: (clientId: string) => Promise<Level | undefined>;
}

export function stepUpPolicy(deps: StepUpDeps = {}): unknown {
  const { base, Check } = (oidc as unknown as { interactionPolicy: PolicyApi }).interactionPolicy;
  const demands = new WeakMap<CheckCtx, Promise<AcrDemand>>();
  const demandOf = (ctx: CheckCtx): Promise<AcrDemand> => {
    let demand = demands.get(ctx);
    if (!demand) {
      const clientId = ctx.oidc.client?.clientId;
      demand = (async () => acrDemand(ctx.oidc.params, clientId && deps.minimumLevel ? await deps.minimumLevel(clientId) : undefined))();
      demands.set(ctx, demand);
    }
    return demand;
  };

  const policy = base();
  const login = policy.get('login')!;
  login.checks.remove('essential_acr');
  login.checks.remove('essential_acrs');
  const details = login.details;
  login.details = async (ctx) => ({ ...(await details(ctx)), [ACR_DEMAND]: await demandOf(ctx) });
  login.checks.add(new Check(ACR_INSUFFICIENT, 'a higher level of assurance is required', 'login_required', async (ctx) => {
    const { session, account, result } = ctx.oidc;
    if (!session?.accountId) return Check.NO_NEED_TO_PROMPT;
    const demand = await demandOf(ctx);
    const have = levelOf(session.acr) ?? 2;
    if (result) return have < (demand.essential ?? 0) ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
    const record = account?.record;
    const reach = record ? stepUpReach(record, session.amr ?? []) : undefined;
    return nextStep(demand, have, reach).step === 'done' ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
  }));
  return policy;
}

const ALLOWED_CLAIMS = new Set(['acr', 'auth_time']);

/** features.claimsParameter.assertClaimsParameter (see the rules above). */
export async function assertClaimsParameter(_ctx: unknown, claims: Record<string, unknown>): Promise<void> {
  const { InvalidRequest } = oidc.errors;
  if (claims.userinfo !== undefined) throw new InvalidRequest!('the claims parameter may request acr only; other claims come with scopes');
  const idToken = (claims.id_token ?? {}) as Record<string, unknown>;
  for (const [name, value] of Object.entries(idToken)) {
    if (!ALLOWED_CLAIMS.has(name)) throw new InvalidRequest!('the claims parameter may request acr only; other claims come with scopes');
    if (value !== null && (typeof value !== 'object' || Array.isArray(value))) throw new InvalidRequest!(`claims.id_token.${name} must be null or an object`);
  }
  const problem = acrClaimProblem(idToken.acr);
  if (problem) throw new InvalidRequest!(problem);
}

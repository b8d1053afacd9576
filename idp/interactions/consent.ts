/**
 * POST /interaction/:uid/confirm: the consent form's decision (approve grants what the consent
 * prompt asks for; anything else is access_denied back to the client).
 */
import type { Router } from '@koa/router';
import { MESSAGES } from '../web/pages.ts';
import { type Ctx, type InteractionContext, form } from './context.ts';

export function mountConsent(router: Router, x: InteractionContext): void {
  const { fail, load, csrfOk, finish, approve } = x;
  router.post('/interaction/:uid/confirm', form, async (ctx: Ctx) => {
    const it = await load(ctx);
    if (!it || !csrfOk(ctx, it)) return;
    if (it.prompt.name !== 'consent' || !it.session) return fail(ctx, 400, 'BAD_INPUT', MESSAGES.interactionGone);
    const decision = ((ctx.request.body ?? {}) as Record<string, unknown>).decision;
    if (decision !== 'approve') {
      await finish(ctx, { error: 'access_denied', error_description: 'End-User denied the request' });
      return;
    }
    await approve(ctx, it);
  });
}

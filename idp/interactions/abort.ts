/**
 * POST /interaction/:uid/abort: the user cancels the login; access_denied back to the client.
 */
import type { Router } from '@koa/router';
import { type Ctx, type InteractionContext, form } from './context.ts';

export function mountAbort(router: Router, x: InteractionContext): void {
  const { load, csrfOk, finish } = x;
  router.post('/interaction/:uid/abort', form, async (ctx: Ctx) => {
    const it = await load(ctx);
    if (!it || !csrfOk(ctx, it)) return;
    await finish(ctx, { error: 'access_denied', error_description: 'End-User aborted the interaction' });
  });
}

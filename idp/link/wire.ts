/**
 * Wiring of linked registration (R-ID-3) for idp/wire.ts: the configured platforms
 * (IDP_UPSTREAMS, checked at start-up), the relying-party round trip, the hand-off in the
 * cache, the link store and the routes. With no platform configured the routes still answer
 * (UPSTREAM_UNKNOWN) and the pages offer none.
 */
import type { ParameterizedContext } from 'koa';
import type { Router } from '@koa/router';
import type { Deps } from '../../kernel/service.ts';
import type { AccountStore } from '../accounts/store.ts';
import type { BearerCaller } from '../self-service/bearer.ts';
import type { Sessions } from '../self-service/sessions.ts';
import type { AuditLog } from '../audit/log.ts';
import type { RateLimiter } from '../protect/guard.ts';
import { createLinkFlows } from './flow.ts';
import { createHandoff } from './handoff.ts';
import { createLinkStore } from './links.ts';
import { mountLinkRoutes } from './routes.ts';
import { createUpstreams, loadUpstreams } from './upstreams.ts';

export function createLinking(deps: Deps, accounts: AccountStore) {
  const { config, db, cache, clock, log } = deps;
  const upstreams = createUpstreams(loadUpstreams(config), { production: config.NODE_ENV === 'production' });
  const flows = createLinkFlows({ upstreams, cache, clock, issuer: config.IDP_ISSUER });
  const handoff = createHandoff(cache);
  const links = createLinkStore({ db, clock, accounts });
  return {
    upstreams, flows, handoff, links,
    mount(router: Router, o: { sessions: Sessions; limiter: RateLimiter; audit: AuditLog; caller(ctx: ParameterizedContext): Promise<BearerCaller> }): void {
      mountLinkRoutes(router, {
        upstreams, flows, handoff, links, accounts, sessions: o.sessions, limiter: o.limiter, registerPerHour: config.IDP_REGISTER_PER_HOUR,
        caller: o.caller, key: deps.internalKey, log, audit: o.audit, now: () => clock.now(),
      });
    },
  };
}

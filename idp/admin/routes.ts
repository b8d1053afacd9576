/**
 * The admin API (JSON over HTTP on the IdP; authentication: idp/admin/auth.ts). Every act that
 * changes something writes its audit entry in the same transaction.
 *
 *   POST   /admin/accounts                          admin            open a staff account
 *   POST   /admin/accounts/:id/disable              admin            { reason }
 *   POST   /admin/accounts/:id/enable-requests      admin            { reason } → pending request
 *   GET    /admin/enable-requests[?status=pending]  admin | department-head
 *   POST   /admin/enable-requests/:id/approve       department-head  (not the requester)
 *   POST   /admin/enable-requests/:id/reject        department-head
 *   POST   /admin/clients                           admin            register a partner client (secret shown once)
 *   GET    /admin/clients[/:id]                     admin
 *   POST   /admin/clients/:id/disable | /enable     admin
 *   GET    /admin/clients/:id/policy                admin
 *   PUT    /admin/clients/:id/policy                admin            { kinds?, minAcr?, roles? } (R-ID-10)
 *   DELETE /admin/clients/:id/policy                admin
 *   GET    /admin/audit?actorId&action&target&from&to&afterSeq&limit   admin
 *   GET    /admin/audit/verify                      admin            { ok, count, brokenAt?, reason? }
 */
import type { Context } from 'koa';
import type { Router } from '@koa/router';
import { koaBody } from 'koa-body';
import type { Db } from '../../kernel/db.ts';
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import type { AuditLog } from '../audit/log.ts';
import type { PartnerClientStore } from '../partners/clients.ts';
import type { BackchannelDelivery } from '../partners/backchannel.ts';
import { PORTAL_CLIENT_ID } from '../oidc/provider.ts';
import type { AccountAdmin } from './accounts.ts';
import type { AdminAuthenticator } from './auth.ts';
import type { PolicyStore } from './policies.ts';

export interface AdminRouteDeps {
  db: Db;
  clock: Clock;
  authenticate: AdminAuthenticator;
  accountAdmin: AccountAdmin;
  clients: PartnerClientStore;
  policies: PolicyStore;
  audit: AuditLog;
  /** oidc-provider's client metadata validation (provider.Client.validate). */
  validateClient: (metadata: Record<string, unknown>) => Promise<void>;
  /** Failed back-channel logout deliveries: counts per client, and a retry pass on demand. */
  backchannel?: BackchannelDelivery;
}

type Ctx = Context & { params: Record<string, string> };

const json = koaBody({ json: true, urlencoded: false, multipart: false, text: false, jsonLimit: '32kb' });

function send(ctx: Ctx, status: number, body: unknown): void {
  ctx.status = status;
  ctx.set('cache-control', 'no-store');
  ctx.body = body;
}

export function mountAdmin(router: Router, d: AdminRouteDeps): void {
  const { authenticate, accountAdmin: accounts } = d;
  const body = (ctx: Ctx): unknown => ctx.request.body ?? {};

  async function knownClient(clientId: string): Promise<void> {
    if (clientId === PORTAL_CLIENT_ID) return;
    if (!(await d.clients.get(clientId))) throw new AppError('NOT_FOUND', '没有这个应用 / no such client');
  }

  router.post('/admin/accounts', json, async (ctx: Ctx) => {
    const admin = await authenticate(ctx, 'admin');
    send(ctx, 201, await accounts.openStaff(admin, body(ctx)));
  });
  router.post('/admin/accounts/:id/disable', json, async (ctx: Ctx) => {
    const admin = await authenticate(ctx, 'admin');
    send(ctx, 200, await accounts.disable(admin, ctx.params.id ?? '', body(ctx)));
  });
  router.post('/admin/accounts/:id/enable-requests', json, async (ctx: Ctx) => {
    const admin = await authenticate(ctx, 'admin');
    send(ctx, 201, await accounts.requestEnable(admin, ctx.params.id ?? '', body(ctx)));
  });
  router.get('/admin/enable-requests', async (ctx: Ctx) => {
    await authenticate(ctx, 'admin').catch(() => authenticate(ctx, 'department-head'));
    const status = typeof ctx.query.status === 'string' ? ctx.query.status : undefined;
    send(ctx, 200, await accounts.listRequests(status));
  });
  for (const decision of ['approve', 'reject'] as const) {
    router.post(`/admin/enable-requests/:id/${decision}`, json, async (ctx: Ctx) => {
      const head = await authenticate(ctx, 'department-head');
      send(ctx, 200, await accounts.decide(head, ctx.params.id ?? '', decision));
    });
  }

  router.post('/admin/clients', json, async (ctx: Ctx) => {
    const admin = await authenticate(ctx, 'admin');
    const registered = await d.db.tx(async (q) => {
      const r = await d.clients.register(q, body(ctx), admin.id, d.validateClient);
      await d.audit.append(q, { actorId: admin.id, action: 'client.register', target: r.client_id, details: { metadata: r.metadata } }, d.clock.now());
      return r;
    });
    send(ctx, 201, registered);
  });
  router.get('/admin/clients', async (ctx: Ctx) => {
    await authenticate(ctx, 'admin');
    send(ctx, 200, await d.clients.list());
  });
  router.get('/admin/clients/:id', async (ctx: Ctx) => {
    await authenticate(ctx, 'admin');
    const c = await d.clients.get(ctx.params.id ?? '');
    if (!c) throw new AppError('NOT_FOUND', '没有这个应用 / no such client');
    send(ctx, 200, d.backchannel ? { ...c, backchannelLogout: await d.backchannel.counts(c.clientId) } : c);
  });
  // Run the back-channel retry pass now (after a partner fixed its endpoint): the deliveries due,
  // or with {"all": true} every pending one. Audited like every administrative act.
  router.post('/admin/backchannel/retry', json, async (ctx: Ctx) => {
    const admin = await authenticate(ctx, 'admin');
    if (!d.backchannel) throw new AppError('NOT_FOUND', 'back-channel logout retries are not running');
    const all = (body(ctx) as { all?: unknown }).all === true;
    await d.db.tx((q) => d.audit.append(q, { actorId: admin.id, action: 'backchannel.retry', target: all ? 'all' : 'due' }, d.clock.now()));
    send(ctx, 200, { attempted: await d.backchannel.retryNow(all) });
  });
  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    router.post(`/admin/clients/:id/${verb}`, json, async (ctx: Ctx) => {
      const admin = await authenticate(ctx, 'admin');
      const id = ctx.params.id ?? '';
      await d.db.tx(async (q) => {
        if (!(await d.clients.setDisabled(q, id, disabled))) throw new AppError('NOT_FOUND', '没有这个应用 / no such client');
        await d.audit.append(q, { actorId: admin.id, action: `client.${verb}`, target: id }, d.clock.now());
      });
      send(ctx, 200, await d.clients.get(id));
    });
  }

  router.get('/admin/clients/:id/policy', async (ctx: Ctx) => {
    await authenticate(ctx, 'admin');
    await knownClient(ctx.params.id ?? '');
    send(ctx, 200, (await d.policies.get(ctx.params.id ?? '')) ?? {});
  });
  router.put('/admin/clients/:id/policy', json, async (ctx: Ctx) => {
    const admin = await authenticate(ctx, 'admin');
    const id = ctx.params.id ?? '';
    await knownClient(id);
    const policy = await d.db.tx(async (q) => {
      const p = await d.policies.set(q, id, body(ctx), admin.id);
      await d.audit.append(q, { actorId: admin.id, action: 'client.policy.set', target: id, details: { policy: p } }, d.clock.now());
      return p;
    });
    send(ctx, 200, policy);
  });
  router.delete('/admin/clients/:id/policy', async (ctx: Ctx) => {
    const admin = await authenticate(ctx, 'admin');
    const id = ctx.params.id ?? '';
    await knownClient(id);
    await d.db.tx(async (q) => {
      if (await d.policies.clear(q, id)) await d.audit.append(q, { actorId: admin.id, action: 'client.policy.clear', target: id }, d.clock.now());
    });
    send(ctx, 204, null);
  });

  router.get('/admin/audit', async (ctx: Ctx) => {
    await authenticate(ctx, 'admin');
    const s = (k: string) => (typeof ctx.query[k] === 'string' ? ctx.query[k] as string : undefined);
    const bad = ['from', 'to'].filter((k) => s(k) !== undefined && Number.isNaN(Date.parse(s(k)!)));
    if (bad.length) throw new AppError('BAD_INPUT', `时间格式不正确 / not an ISO 8601 time: ${bad.join(', ')}`, { fields: bad });
    const n = (k: string) => { const v = s(k); return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined; };
    send(ctx, 200, await d.audit.query({ actorId: s('actorId'), action: s('action'), target: s('target'), from: s('from'), to: s('to'), afterSeq: n('afterSeq'), limit: n('limit') }));
  });
  router.get('/admin/audit/verify', async (ctx: Ctx) => {
    await authenticate(ctx, 'admin');
    send(ctx, 200, await d.audit.verify());
  });
}

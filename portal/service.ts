/**
 * The public guide pages (R-IT-8): a small process of its own (`portal`), because it is the
 * first front end of the one graph and must see the platform as any client does — through the
 * gateway only, anonymously, public fields only. It has no database and no cache; it renders
 * on the server so the pages work without JavaScript.
 *
 * Routes: `/` (search box, hot list, scenario navigation), `/search` (results with highlights,
 * filters, next-page cursor), `/items/:id` (the guide with materials, forms, handling hints,
 * cross-region scope, share QR code, items done before/after), `/themes/:code` (items of a
 * theme, optionally for one service object), `/rankings` (the agency ranking board, R-EV-5).
 * `?lang=en` switches to English; zh-CN by default.
 */
import { isUuid } from '../kernel/ids.ts';
import type { Context } from 'koa';
import { createHttpApp, listen } from '../kernel/http.ts';
import { AppError, isAppError } from '../kernel/errors.ts';
import { html } from '../kernel/html.ts';
import type { Deps, RunningService, ServiceFactory, StartOptions } from '../kernel/service.ts';
import { graphClient, type GraphClient } from './graph.ts';
import {
  PORTAL_CSS, guidePage, homePage, href, layout, messagePage, rankingPage, resultsList, searchPage,
  type GuideItem, type Nav, type RankingBoard, type SearchParams, type SearchResult,
} from './pages.ts';
import { t, type Lang } from './text.ts';
import { accessToken, mountLogin } from './login.ts';
import { chatSection, mountChat } from './chat.ts';

const NAV = '{ serviceObjects { code name nameEn themes { code name nameEn } } }';
const HIT = 'cursor highlight { text match } node { id typeName onlineDepth onlineHandling agency { name } }';
const RESULT = `totalCount totalCountExact pageInfo { hasNextPage endCursor } edges { ${HIT} }`;
// The one script is the live chat widget (/assets/chat.js), talking to this site only.
const CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const langOf = (ctx: Context): Lang => (ctx.query.lang === 'en' ? 'en' : 'zh-CN');
const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** The same page in the other language. */
function switchHref(ctx: Context, lang: Lang): string {
  const q = new URLSearchParams(ctx.querystring);
  if (lang === 'en') q.delete('lang'); else q.set('lang', 'en');
  const s = q.toString();
  return s ? `${ctx.path}?${s}` : ctx.path;
}

function send(ctx: Context, lang: Lang, title: string, body: Parameters<typeof layout>[2], status = 200): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('content-security-policy', CSP);
  ctx.set('x-content-type-options', 'nosniff');
  ctx.set('referrer-policy', 'same-origin');
  ctx.body = layout(lang, title, body, switchHref(ctx, lang));
}

export interface PortalOptions { graph?: GraphClient }

export async function startPortalService(deps: Deps, opts: StartOptions, extra: PortalOptions = {}): Promise<RunningService> {
  const { config, log, secrets } = deps;
  const graph = extra.graph ?? graphClient(config.PORTAL_GATEWAY_URL);
  const publicUrl = config.PORTAL_PUBLIC_URL.replace(/\/$/, '');
  const { app, router } = createHttpApp({
    name: 'portal', log, trustProxy: config.TRUST_PROXY,
    health: { gateway: async () => Boolean(await graph.query<{ serviceObjects: unknown[] }>('{ serviceObjects { code } }')) },
  });

  // Signed cookies: the login in progress and the person's access token (login.ts).
  app.keys = [...secrets.cookieKeys];
  mountLogin(router, { config, log, publicUrl });
  mountChat(router, { graph, evaluationUrl: config.PORTAL_EVALUATION_URL.replace(/\/$/, ''), log });

  /** Render errors as pages: bad input 400, the graph unreachable 503. */
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (e) {
      const lang = langOf(ctx);
      if (isAppError(e) && e.code === 'BAD_INPUT') return send(ctx, lang, t(lang, 'badInput'), messagePage(lang, `${t(lang, 'badInput')}${e.message}`), 400);
      if (!isAppError(e) || e.code !== 'SERVICE_UNAVAILABLE') log.error({ err: e }, 'portal page failed');
      send(ctx, lang, t(lang, 'unavailable'), messagePage(lang, t(lang, 'unavailable')), 503);
    }
  });

  router.get('/assets/portal.css', (ctx) => {
    ctx.type = 'text/css; charset=utf-8';
    ctx.set('cache-control', 'public, max-age=3600');
    ctx.body = PORTAL_CSS;
  });

  router.get('/', async (ctx) => {
    const lang = langOf(ctx);
    const d = await graph.query<{ hotItems: Array<{ cases: number; item: { id: string; name: string; agency: { name: string } } }> } & { serviceObjects: Nav[] }>(
      `{ hotItems(first: 10) { cases item { id name agency { name } } } serviceObjects { code name nameEn themes { code name nameEn } } }`);
    send(ctx, lang, t(lang, 'home'), homePage(lang, d.hotItems, d.serviceObjects));
  });

  router.get('/search', async (ctx) => {
    const lang = langOf(ctx);
    const p: SearchParams = {
      q: str(ctx.query.q).slice(0, 100), nature: str(ctx.query.nature), object: str(ctx.query.object), theme: str(ctx.query.theme),
      level: str(ctx.query.level), depth: str(ctx.query.depth), online: str(ctx.query.online), agency: str(ctx.query.agency),
    };
    const int = (v: string, field: string) => {
      if (v === '') return null;
      if (!/^\d$/.test(v)) throw new AppError('BAD_INPUT', `${field}`, { [field]: 'a digit' });
      return Number(v);
    };
    const filter = {
      ...(p.nature === 'POWER' || p.nature === 'SERVICE' ? { nature: p.nature } : {}),
      ...(p.object ? { object: p.object } : {}), ...(p.theme ? { theme: p.theme } : {}), ...(p.agency ? { agencyCode: p.agency } : {}),
      ...(int(p.level, 'level') !== null ? { level: int(p.level, 'level') } : {}),
      ...(int(p.depth, 'depth') !== null ? { minOnlineDepth: int(p.depth, 'depth') } : {}),
      ...(p.online === 'true' ? { onlineHandling: true } : p.online === 'false' ? { onlineHandling: false } : {}),
    };
    const after = str(ctx.query.after) || null;
    const d = await graph.query<{ searchItems: SearchResult; serviceObjects: Nav[]; agencies: Array<{ code: string; name: string }> }>(
      `query ($q: String, $f: ItemSearchFilter, $a: String) { searchItems(query: $q, filter: $f, first: 20, after: $a) { ${RESULT} }
        serviceObjects { code name nameEn themes { code name nameEn } } agencies { code name } }`, { q: p.q, f: filter, a: after });
    const next = d.searchItems.pageInfo.hasNextPage && d.searchItems.pageInfo.endCursor
      ? href(lang, '/search', { ...p, after: d.searchItems.pageInfo.endCursor }) : null;
    send(ctx, lang, p.q ? `${p.q} · ${t(lang, 'results')}` : t(lang, 'results'), searchPage(lang, p, d.searchItems, d.serviceObjects, d.agencies, next));
  });

  router.get('/items/:id', async (ctx) => {
    const lang = langOf(ctx);
    const id = ctx.params.id ?? '';
    const d = isUuid(id) ? await graph.query<{ item: GuideItem | null }>(`query ($id: ID!) { item(id: $id) {
      id name basicCode implementationCode typeName level caseType legalTimeLimit promisedTimeLimit onlineDepth visits onlineHandling
      agency { name }
      materials { code name required paperCopies replaceableByLicenceType type sampleUrl formUrl sourceChannel instructions }
      elements { legalBasis timeLimitUnit acceptanceConditions process { name description } channels places { address hours }
        consultationPhone supervisionPhone fee { charged standard basis } crossRegion appointment onlinePayment delivery selfServiceTerminal
        coHandlingAgencies result { name type } }
      directoryEntry { legalBasis }
      related(first: 5) { order item { id name } } } }`, { id }) : { item: null };
    if (!d.item) return send(ctx, lang, t(lang, 'notFound'), messagePage(lang, t(lang, 'notFound')), 404);
    const guide = await guidePage(lang, d.item, `${publicUrl}/items/${d.item.id}`);
    send(ctx, lang, d.item.name, html`${guide}${chatSection(lang, d.item.id, accessToken(ctx) !== null, ctx.url)}`);
  });

  // R-EV-5: the agency ranking board, from the evaluation service's last completed period.
  router.get('/rankings', async (ctx) => {
    const lang = langOf(ctx);
    const d = await graph.query<{ rankingBoard: RankingBoard }>(`{ rankingBoard { periodStart periodEnd formula entries {
      rank score cases onlineRate onTimeRate satisfaction complaintOnTimeRate visitsPerCase agency { code name } } } }`);
    send(ctx, lang, t(lang, 'rankings'), rankingPage(lang, d.rankingBoard));
  });

  router.get('/themes/:code', async (ctx) => {
    const lang = langOf(ctx);
    const object = str(ctx.query.object) || null;
    const after = str(ctx.query.after) || null;
    const d = await graph.query<{ themes: Array<{ code: string; name: string; nameEn: string; items: SearchResult }> }>(
      `query ($o: String, $a: String) { themes(object: $o) { code name nameEn items(first: 20, after: $a) { ${RESULT} } } }`, { o: object, a: after });
    const theme = d.themes.find((x) => x.code === ctx.params.code);
    if (!theme) return send(ctx, lang, t(lang, 'notFound'), messagePage(lang, t(lang, 'notFound')), 404);
    const title = lang === 'en' ? theme.nameEn : theme.name;
    const next = theme.items.pageInfo.hasNextPage && theme.items.pageInfo.endCursor
      ? href(lang, `/themes/${theme.code}`, { object, after: theme.items.pageInfo.endCursor }) : null;
    send(ctx, lang, title, html`<nav aria-label="breadcrumb" class="crumbs"><a href="${href(lang, '/')}">${t(lang, 'home')}</a> › ${t(lang, 'scenarios')}</nav>
<h1>${title}</h1><section aria-label="${t(lang, 'themeItems')}">${resultsList(lang, theme.items, next)}</section>`);
  });

  app.use(router.routes()).use(router.allowedMethods());
  const server = await listen(app, opts.port, opts.host);
  return { name: 'portal', url: server.url, close: () => server.close() };
}

export const startPortalServiceFactory: ServiceFactory = (deps, opts) => startPortalService(deps, opts);

/**
 * The public guide pages (R-IT-8, R-ID-13), rendered on the server from what the graph answers:
 * they work without JavaScript, load nothing from elsewhere (one stylesheet from this server,
 * the QR code inline as SVG) and use landmarks, labels and headings a screen reader can follow.
 */
import QRCode from 'qrcode';
import { html, Html } from '../kernel/html.ts';
import {
  CHANNEL_TEXT, CROSS_REGION_TEXT, LEVEL_TEXT, MATERIAL_TYPE_TEXT, RESULT_TYPE_TEXT, SOURCE_TEXT, pick, t, type Lang,
} from './text.ts';

export interface Segment { text: string; match: boolean }
export interface Hit { cursor: string; highlight: Segment[]; node: { id: string; typeName: string; onlineDepth: number; onlineHandling: boolean; agency: { name: string } } }
export interface SearchResult { totalCount: number; totalCountExact: boolean; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: Hit[] }
export interface Nav { code: string; name: string; nameEn: string; themes: Array<{ code: string; name: string; nameEn: string }> }

/** Link within the pages, keeping the language. */
export function href(lang: Lang, path: string, params: Record<string, string | number | null | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  if (lang === 'en') q.set('lang', 'en');
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export function layout(lang: Lang, title: string, body: Html, switchHref: string): string {
  return `<!doctype html>\n${html`<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${t(lang, 'site')}</title>
<link rel="stylesheet" href="/assets/portal.css">
</head>
<body>
<a class="skip" href="#main">${t(lang, 'skip')}</a>
<header class="top">
  <a class="brand" href="${href(lang, '/')}">${t(lang, 'site')}</a>
  <nav aria-label="${lang === 'en' ? 'Language' : '语言'}"><a href="${switchHref}" lang="${lang === 'en' ? 'zh-CN' : 'en'}">${t(lang, 'lang')}</a></nav>
</header>
<main id="main" tabindex="-1">
${body}
</main>
</body>
</html>`.value}\n`;
}

function searchForm(lang: Lang, q: string): Html {
  return html`<form class="search" role="search" action="/search" method="get">
  <label for="q">${t(lang, 'searchLabel')}</label>
  <div class="row"><input id="q" name="q" type="search" value="${q}" maxlength="100" aria-describedby="q-hint">
  ${lang === 'en' ? html`<input type="hidden" name="lang" value="en">` : ''}
  <button type="submit">${t(lang, 'searchButton')}</button></div>
  <p id="q-hint" class="hint">${t(lang, 'searchHint')}</p>
</form>`;
}

const stars = (n: number, lang: Lang) => html`<span class="stars" aria-label="${n} ${t(lang, 'stars')}">${'★'.repeat(n)}${'☆'.repeat(Math.max(0, 5 - n))}</span>`;

export function marked(segments: Segment[]): Html {
  return html`${segments.map((s) => (s.match ? html`<mark>${s.text}</mark>` : html`${s.text}`))}`;
}

export function homePage(lang: Lang, hot: Array<{ cases: number; item: { id: string; name: string; agency: { name: string } } }>, nav: Nav[]): Html {
  return html`<h1>${t(lang, 'site')}</h1>
${searchForm(lang, '')}
<section aria-labelledby="hot-h"><h2 id="hot-h">${t(lang, 'hot')}</h2>
${hot.length === 0 ? html`<p>${t(lang, 'hotEmpty')}</p>` : html`<ol class="hot">${hot.map((h) => html`<li><a href="${href(lang, `/items/${h.item.id}`)}">${h.item.name}</a>
  <span class="meta">${h.item.agency.name} · ${h.cases} ${t(lang, 'cases')}</span></li>`)}</ol>`}
</section>
<p><a href="${href(lang, '/rankings')}">${t(lang, 'rankings')}</a></p>
<section aria-labelledby="nav-h"><h2 id="nav-h">${t(lang, 'scenarios')}</h2>
${nav.map((o) => html`<section class="object" aria-labelledby="o-${o.code}"><h3 id="o-${o.code}">${lang === 'en' ? o.nameEn : o.name}</h3>
<ul class="themes">${o.themes.map((th) => html`<li><a href="${href(lang, `/themes/${th.code}`, { object: o.code })}">${lang === 'en' ? th.nameEn : th.name}</a></li>`)}</ul></section>`)}
</section>`;
}

export interface SearchParams { q: string; nature: string; object: string; theme: string; level: string; depth: string; online: string; agency: string }

function select(lang: Lang, id: string, label: string, value: string, options: Array<[string, string]>): Html {
  return html`<div class="field"><label for="${id}">${label}</label><select id="${id}" name="${id}">
<option value="">${t(lang, 'any')}</option>${options.map(([v, l]) => html`<option value="${v}"${v === value ? new Html(' selected') : ''}>${l}</option>`)}</select></div>`;
}

export function resultsList(lang: Lang, r: SearchResult, nextHref: string | null): Html {
  const count = r.totalCountExact ? t(lang, 'found', { n: r.totalCount }) : t(lang, 'about', { n: r.totalCount });
  return html`<p class="count" role="status">${count}</p>
${r.edges.length === 0 ? html`<p>${t(lang, 'none')}</p>` : html`<ol class="results">${r.edges.map((e) => html`<li>
  <a href="${href(lang, `/items/${e.node.id}`)}">${marked(e.highlight)}</a>
  <span class="meta">${e.node.agency.name} · ${e.node.typeName} · ${stars(e.node.onlineDepth, lang)} · ${e.node.onlineHandling ? t(lang, 'onlineYes') : t(lang, 'onlineNo')}</span>
</li>`)}</ol>`}
${nextHref ? html`<p><a class="next" rel="next" href="${nextHref}">${t(lang, 'next')}</a></p>` : ''}`;
}

export function searchPage(lang: Lang, p: SearchParams, r: SearchResult, nav: Nav[], agencies: Array<{ code: string; name: string }>, nextHref: string | null): Html {
  const themes = nav.flatMap((o) => o.themes).filter((th, i, all) => all.findIndex((x) => x.code === th.code) === i);
  return html`<h1>${t(lang, 'results')}</h1>
${searchForm(lang, p.q)}
<div class="cols">
<form class="filters" action="/search" method="get" aria-labelledby="f-h">
  <h2 id="f-h">${t(lang, 'filters')}</h2>
  <input type="hidden" name="q" value="${p.q}">
  ${lang === 'en' ? html`<input type="hidden" name="lang" value="en">` : ''}
  ${select(lang, 'nature', t(lang, 'nature'), p.nature, [['POWER', t(lang, 'power')], ['SERVICE', t(lang, 'service')]])}
  ${select(lang, 'object', t(lang, 'object'), p.object, nav.map((o) => [o.code, lang === 'en' ? o.nameEn : o.name]))}
  ${select(lang, 'theme', t(lang, 'theme'), p.theme, themes.map((th) => [th.code, lang === 'en' ? th.nameEn : th.name]))}
  ${select(lang, 'agency', t(lang, 'agency'), p.agency, agencies.map((a) => [a.code, a.name]))}
  ${select(lang, 'level', t(lang, 'level'), p.level, [1, 2, 3, 4, 5, 6].map((l) => [String(l), pick(lang, LEVEL_TEXT[l])]))}
  ${select(lang, 'depth', t(lang, 'depth'), p.depth, [1, 2, 3, 4, 5].map((d) => [String(d), `${'★'.repeat(d)} (${d})`]))}
  ${select(lang, 'online', t(lang, 'online'), p.online, [['true', t(lang, 'yes')], ['false', t(lang, 'no')]])}
  <button type="submit">${t(lang, 'apply')}</button>
</form>
<section class="list" aria-labelledby="r-h"><h2 id="r-h" class="visually-hidden">${t(lang, 'results')}</h2>
${resultsList(lang, r, nextHref)}
</section>
</div>`;
}

export interface GuideItem {
  id: string; name: string; basicCode: string; implementationCode: string; typeName: string; level: number; caseType: string;
  legalTimeLimit: number; promisedTimeLimit: number; onlineDepth: number; visits: number; onlineHandling: boolean;
  agency: { name: string };
  materials: Array<{ code: string; name: string; required: boolean; paperCopies: number; replaceableByLicenceType: string | null;
    type: string; sampleUrl: string; formUrl: string; sourceChannel: string; instructions: string }>;
  elements: {
    legalBasis: string; timeLimitUnit: string; acceptanceConditions: string; process: Array<{ name: string; description: string }>;
    channels: string[]; places: Array<{ address: string; hours: string }>; consultationPhone: string; supervisionPhone: string;
    fee: { charged: boolean; standard: string; basis: string }; crossRegion: string; appointment: boolean; onlinePayment: boolean;
    delivery: boolean; selfServiceTerminal: boolean; coHandlingAgencies: string[]; result: { name: string; type: string } | null;
  };
  directoryEntry: { legalBasis: string } | null;
  related: Array<{ order: string; item: { id: string; name: string } }>;
}

/** Only links within the platform or to http(s) may be rendered as download links. */
const safeUrl = (u: string) => /^(https?:\/\/|\/(?!\/))/.test(u);

export async function guidePage(lang: Lang, i: GuideItem, shareUrl: string): Promise<Html> {
  const e = i.elements;
  const days = e.timeLimitUnit === 'NATURAL_DAY' ? t(lang, 'naturalDays') : t(lang, 'workingDays');
  const qr = await QRCode.toString(shareUrl, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' });
  const yn = (b: boolean) => (b ? t(lang, 'yes') : t(lang, 'no'));
  const legal = e.legalBasis || i.directoryEntry?.legalBasis || '';
  return html`<nav aria-label="breadcrumb" class="crumbs"><a href="${href(lang, '/')}">${t(lang, 'home')}</a> › ${t(lang, 'guide')}</nav>
<h1>${i.name}</h1>
<p class="meta">${i.agency.name} · ${i.typeName} · ${stars(i.onlineDepth, lang)}</p>
<div class="cols guide-cols">
<div class="list">
<section aria-labelledby="hints-h" class="hints"><h2 id="hints-h">${t(lang, 'hints')}</h2>
<ul>
  <li>${i.onlineHandling ? t(lang, 'onlineYes') : t(lang, 'onlineNo')}</li>
  <li>${t(lang, 'crossRegion')}：${pick(lang, CROSS_REGION_TEXT[e.crossRegion])}</li>
  <li>${t(lang, 'appointment')}：${yn(e.appointment)}</li>
  <li>${t(lang, 'payment')}：${yn(e.onlinePayment)}</li>
  <li>${t(lang, 'delivery')}：${yn(e.delivery)}</li>
  <li>${t(lang, 'terminal')}：${yn(e.selfServiceTerminal)}</li>
  <li>${t(lang, 'visits')}：${i.visits}</li>
  ${e.channels.length > 0 ? html`<li>${t(lang, 'channels')}：${e.channels.map((c) => pick(lang, CHANNEL_TEXT[c])).join('、')}</li>` : ''}
</ul></section>
<section aria-labelledby="basic-h"><h2 id="basic-h">${t(lang, 'basic')}</h2>
<dl class="facts">
  <dt>${t(lang, 'type')}</dt><dd>${i.typeName}</dd>
  <dt>${t(lang, 'level')}</dt><dd>${pick(lang, LEVEL_TEXT[i.level])}</dd>
  <dt>${t(lang, 'basicCode')}</dt><dd>${i.basicCode}</dd>
  <dt>${t(lang, 'implCode')}</dt><dd>${i.implementationCode}</dd>
  <dt>${t(lang, 'caseType')}</dt><dd>${i.caseType === '1' ? t(lang, 'instant') : t(lang, 'promised')}</dd>
  <dt>${t(lang, 'legalLimit')}</dt><dd>${i.legalTimeLimit} ${days}</dd>
  <dt>${t(lang, 'promisedLimit')}</dt><dd>${i.promisedTimeLimit} ${days}</dd>
  <dt>${t(lang, 'fee')}</dt><dd>${e.fee.charged ? html`${e.fee.standard}${e.fee.basis ? html`（${e.fee.basis}）` : ''}` : t(lang, 'free')}</dd>
  <dt>${t(lang, 'legalBasis')}</dt><dd>${legal || t(lang, 'unspecified')}</dd>
  ${e.result ? html`<dt>${t(lang, 'result')}</dt><dd>${e.result.name}（${pick(lang, RESULT_TYPE_TEXT[e.result.type])}）</dd>` : ''}
  ${e.coHandlingAgencies.length > 0 ? html`<dt>${t(lang, 'coHandling')}</dt><dd>${e.coHandlingAgencies.join('、')}</dd>` : ''}
</dl></section>
${e.acceptanceConditions ? html`<section aria-labelledby="cond-h"><h2 id="cond-h">${t(lang, 'conditions')}</h2><p>${e.acceptanceConditions}</p></section>` : ''}
<section aria-labelledby="mat-h"><h2 id="mat-h">${t(lang, 'materials')}</h2>
<table class="materials">
<thead><tr><th scope="col">${t(lang, 'material')}</th><th scope="col">${t(lang, 'required')}</th><th scope="col">${t(lang, 'form')}</th>
<th scope="col">${t(lang, 'copies')}</th><th scope="col">${t(lang, 'source')}</th><th scope="col">${t(lang, 'download')}</th></tr></thead>
<tbody>${i.materials.map((m) => html`<tr>
  <th scope="row">${m.name}${m.replaceableByLicenceType ? html`<br><small class="licence">${t(lang, 'licenceReplaces')}</small>` : ''}${m.instructions ? html`<br><small>${m.instructions}</small>` : ''}</th>
  <td>${m.required ? t(lang, 'mandatory') : t(lang, 'optional')}</td>
  <td>${pick(lang, MATERIAL_TYPE_TEXT[m.type])}</td>
  <td>${m.paperCopies}</td>
  <td>${pick(lang, SOURCE_TEXT[m.sourceChannel])}</td>
  <td>${safeUrl(m.formUrl) ? html`<a href="${m.formUrl}" download>${t(lang, 'downloadForm')}<span class="visually-hidden">：${m.name}</span></a>` : t(lang, 'noForm')}
      ${safeUrl(m.sampleUrl) ? html` · <a href="${m.sampleUrl}" download>${t(lang, 'sample')}<span class="visually-hidden">：${m.name}</span></a>` : ''}</td>
</tr>`)}</tbody></table></section>
${e.process.length > 0 ? html`<section aria-labelledby="proc-h"><h2 id="proc-h">${t(lang, 'process')}</h2><ol class="process">${e.process.map((s) => html`<li><strong>${s.name}</strong>${s.description ? html`：${s.description}` : ''}</li>`)}</ol></section>` : ''}
${e.places.length > 0 ? html`<section aria-labelledby="place-h"><h2 id="place-h">${t(lang, 'places')}</h2><ul>${e.places.map((p) => html`<li>${p.address}${p.hours ? html`（${p.hours}）` : ''}</li>`)}</ul></section>` : ''}
${e.consultationPhone || e.supervisionPhone ? html`<section aria-labelledby="phone-h"><h2 id="phone-h">${t(lang, 'phones')}</h2><ul>
  ${e.consultationPhone ? html`<li>${t(lang, 'consult')}：<a href="tel:${e.consultationPhone}">${e.consultationPhone}</a></li>` : ''}
  ${e.supervisionPhone ? html`<li>${t(lang, 'supervise')}：<a href="tel:${e.supervisionPhone}">${e.supervisionPhone}</a></li>` : ''}</ul></section>` : ''}
</div>
<aside class="side">
<figure class="qr"><div role="img" aria-label="${t(lang, 'share')}: ${shareUrl}">${new Html(qr)}</div><figcaption>${t(lang, 'share')}<br><small>${shareUrl}</small></figcaption></figure>
${i.related.length > 0 ? html`<section aria-labelledby="rel-h"><h2 id="rel-h">${t(lang, 'related')}</h2><ul>${i.related.map((r) => html`<li><a href="${href(lang, `/items/${r.item.id}`)}">${r.item.name}</a> <small>(${r.order === 'BEFORE' ? t(lang, 'before') : t(lang, 'after')})</small></li>`)}</ul></section>` : ''}
</aside>
</div>`;
}

export interface RankingEntry {
  rank: number; score: number; cases: number; onlineRate: number | null; onTimeRate: number | null; satisfaction: number | null;
  complaintOnTimeRate: number | null; visitsPerCase: number | null; agency: { code: string; name: string };
}
export interface RankingBoard { periodStart: string | null; periodEnd: string | null; formula: string; entries: RankingEntry[] }

const percent = (v: number | null) => (v === null ? '—' : `${Math.round(v * 1000) / 10}%`);
const number = (v: number | null, digits = 2) => (v === null ? '—' : String(Math.round(v * 10 ** digits) / 10 ** digits));
/** A date in China Standard Time (YYYY-MM-DD HH:mm). */
const cst = (iso: string) => new Date(Date.parse(iso) + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');

/** R-EV-5: the agency ranking board, best first; the formula as the graph states it. */
export function rankingPage(lang: Lang, board: RankingBoard): Html {
  const head: Array<[string, string]> = [['rank', t(lang, 'rank')], ['agency', t(lang, 'agency')], ['score', t(lang, 'score')], ['cases', t(lang, 'casesDone')],
    ['online', t(lang, 'onlineRate')], ['ontime', t(lang, 'onTimeRate')], ['sat', t(lang, 'satisfaction')], ['complaints', t(lang, 'complaintOnTime')], ['visits', t(lang, 'visitsPerCase')]];
  return html`<nav aria-label="breadcrumb" class="crumbs"><a href="${href(lang, '/')}">${t(lang, 'home')}</a> › ${t(lang, 'rankings')}</nav>
<h1>${t(lang, 'rankings')}</h1>
${board.periodStart && board.periodEnd ? html`<p>${t(lang, 'rankingsIntro', { from: cst(board.periodStart), to: cst(board.periodEnd) })}</p>` : ''}
${board.entries.length === 0 ? html`<p role="status">${t(lang, 'rankingsEmpty')}</p>` : html`<table class="materials rankings">
<caption>${t(lang, 'rankings')}</caption>
<thead><tr>${head.map(([, label]) => html`<th scope="col">${label}</th>`)}</tr></thead>
<tbody>${board.entries.map((e) => html`<tr><td>${e.rank}</td><th scope="row">${e.agency.name}</th><td>${number(e.score)}</td><td>${e.cases}</td>
<td>${percent(e.onlineRate)}</td><td>${percent(e.onTimeRate)}</td><td>${number(e.satisfaction)}</td><td>${percent(e.complaintOnTimeRate)}</td><td>${number(e.visitsPerCase)}</td></tr>`)}</tbody></table>`}
<section aria-labelledby="formula-h"><h2 id="formula-h">${t(lang, 'formula')}</h2><p class="hint">${board.formula}</p></section>`;
}

export function messagePage(lang: Lang, message: string): Html {
  return html`<h1>${t(lang, 'site')}</h1><p role="alert">${message}</p><p><a href="${href(lang, '/')}">${t(lang, 'home')}</a></p>`;
}

export const PORTAL_CSS = `
:root { --fg: #1a1a1a; --muted: #555; --accent: #0b5cad; --bg: #fff; --line: #d0d7de; --mark: #fff0a6; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.6 system-ui, "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, main:focus-visible { outline: 3px solid #f5a400; outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: #fff; padding: .5rem; }
.skip:focus { left: .5rem; }
.top { display: flex; justify-content: space-between; align-items: center; padding: .75rem 1rem; border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; text-decoration: none; }
main { max-width: 68rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
.search label { display: block; font-weight: 600; margin-bottom: .25rem; }
.search .row { display: flex; gap: .5rem; }
.search input { flex: 1; font: inherit; padding: .5rem; border: 1px solid #767676; border-radius: 4px; }
button { font: inherit; padding: .5rem 1rem; background: var(--accent); color: #fff; border: 0; border-radius: 4px; cursor: pointer; }
.hint, .meta, small { color: var(--muted); }
.meta { display: block; font-size: .9rem; }
mark { background: var(--mark); color: inherit; padding: 0 1px; }
.cols { display: grid; grid-template-columns: 16rem 1fr; gap: 1.5rem; }
@media (max-width: 48rem) { .cols { grid-template-columns: 1fr; } }
.filters .field { margin-bottom: .75rem; }
.filters label { display: block; font-size: .9rem; }
.filters select { width: 100%; font: inherit; padding: .25rem; }
.results li, .hot li { margin-bottom: .75rem; }
.themes { display: flex; flex-wrap: wrap; gap: .5rem 1rem; list-style: none; padding: 0; }
.facts { display: grid; grid-template-columns: 10rem 1fr; gap: .25rem 1rem; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; }
table.materials { border-collapse: collapse; width: 100%; }
.materials th, .materials td { border: 1px solid var(--line); padding: .4rem; text-align: left; vertical-align: top; }
.hints ul { columns: 2; }
.side .qr svg { width: 10rem; height: 10rem; }
.guide-cols { grid-template-columns: 1fr 14rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.stars { color: #9a6700; letter-spacing: 1px; }
.chat { border: 1px solid var(--line); border-radius: .4rem; padding: .8rem; margin-top: 1.5rem; max-width: 40rem; }
.chat-log { list-style: none; padding: 0; margin: 0 0 .5rem; max-height: 20rem; overflow-y: auto; }
.chat-log li { padding: .3rem .5rem; margin: .2rem 0; border-radius: .3rem; }
.chat-log li.citizen { background: #eef4ff; }
.chat-log li.staff { background: #f3f3f3; }
.chat-form textarea { width: 100%; font: inherit; }
`;

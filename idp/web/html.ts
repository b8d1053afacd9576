/**
 * Server-rendered pages: an HTML-escaping tagged template, one page layout (inline CSS, no
 * external assets, a language switch on every page), and the zh-CN / English choice
 * (`?lang=en|zh` sets the `yw_lang` cookie; zh-CN is the default).
 */
import type { ParameterizedContext } from 'koa';

export type Lang = 'zh' | 'en';

import { Html, escapeHtml, html } from '../../kernel/html.ts';
import { inlineStyle } from '../../kernel/csp.ts';

export { Html, escapeHtml, html };

export const LANG_COOKIE = 'yw_lang';

/** The page language: `?lang=` (remembered in a cookie) > cookie > zh. */
export function pageLang(ctx: ParameterizedContext): Lang {
  const q = ctx.query.lang;
  if (q === 'en' || q === 'zh') {
    ctx.cookies.set(LANG_COOKIE, q, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: 365 * 24 * 3600 * 1000, signed: false, overwrite: true });
    return q;
  }
  return ctx.cookies.get(LANG_COOKIE, { signed: false }) === 'en' ? 'en' : 'zh';
}

const CSS = inlineStyle(`
*{box-sizing:border-box}body{margin:0;font:16px/1.6 system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;background:#f3f5f8;color:#1d2733}
header{background:#b3202a;color:#fff;padding:.6rem 1rem;display:flex;justify-content:space-between;align-items:center}
header a{color:#fff}main{max-width:30rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.15)}
h1{font-size:1.4rem;margin-top:0}label{display:block;margin:.9rem 0 .2rem;font-weight:600}
input[type=text],input[type=password],input[type=tel],select,textarea{width:100%;padding:.55rem;border:1px solid #8a96a3;border-radius:4px;font:inherit}
textarea{font-family:ui-monospace,monospace;font-size:.85rem;min-height:6rem}pre,code{font-family:ui-monospace,monospace;font-size:.85rem;word-break:break-all;white-space:pre-wrap}
input:focus,select:focus,textarea:focus,button:focus,a:focus{outline:3px solid #f0b400;outline-offset:2px}
.check{display:flex;gap:.5rem;align-items:flex-start;font-weight:normal}.check input{margin-top:.35rem}
button{margin-top:1.2rem;padding:.6rem 1.2rem;border:0;border-radius:4px;background:#b3202a;color:#fff;font:inherit;cursor:pointer}
button.secondary{background:#fff;color:#1d2733;border:1px solid #8a96a3;margin-left:.5rem}
.error{background:#fdecea;border-left:4px solid #b3202a;padding:.6rem .8rem;margin:1rem 0}
.ok{background:#e9f6ec;border-left:4px solid #1e7b34;padding:.6rem .8rem;margin:1rem 0}form.inline{display:inline}form.inline button{margin-top:.3rem}
.hint{color:#52606d;font-size:.9rem}ul.scopes{padding-left:1.2rem}.big{font-size:1.3rem}
`);

export interface PageOptions {
  lang: Lang;
  title: string;
  body: Html;
  /** Path (without query) the language switch links to: a GET-able version of this page. */
  path: string;
  /** Full switch URL instead (query kept, `lang` replaced); null = no switch (a page answering a POST). */
  switchHref?: string | null;
}

export function page(o: PageOptions): string {
  const other: Lang = o.lang === 'zh' ? 'en' : 'zh';
  const switchLabel = o.lang === 'zh' ? 'English' : '中文';
  const href = o.switchHref === undefined ? `${o.path}?lang=${other}` : o.switchHref;
  return `<!doctype html>${html`<html lang="${o.lang === 'zh' ? 'zh-CN' : 'en'}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${o.title} · ${o.lang === 'zh' ? '一网通办' : 'Yiwang'}</title><style>${new Html(CSS)}</style></head>
<body><header><span>${o.lang === 'zh' ? '一网通办 统一身份认证' : 'Yiwang identity'}</span>
${href === null ? '' : html`<a href="${href}" lang="${other === 'zh' ? 'zh-CN' : 'en'}" hreflang="${other === 'zh' ? 'zh-CN' : 'en'}">${switchLabel}</a>`}</header>
<main><h1>${o.title}</h1>${o.body}</main></body></html>`.value}`;
}

/** This GET request's URL with `lang` switched, or null for other methods (re-sending a POST is not a link). */
export function switchHrefFor(ctx: ParameterizedContext, current: Lang): string | null {
  if (ctx.method !== 'GET') return null;
  const q = new URLSearchParams(ctx.querystring);
  q.set('lang', current === 'zh' ? 'en' : 'zh');
  return `${ctx.path}?${q.toString()}`;
}

/** An error box: the code (stable, for support and tests) and the message in the page language. */
export function errorBox(code: string, message: string): Html {
  return html`<div class="error" role="alert" data-code="${code}"><strong>${message}</strong> <span class="hint">(${code})</span></div>`;
}

/** Pick the page-language half of a bilingual "中文 / English" message. */
export function localise(message: string, lang: Lang): string {
  const i = message.indexOf(' / ');
  if (i < 0) return message;
  return lang === 'zh' ? message.slice(0, i) : message.slice(i + 3);
}

/** What a page reports after a form post: `ok`, or a refusal with its code; the message is bilingual. */
export interface Notice { code?: string; message: string; ok?: boolean }

/** A page's notice: a status line when it went well, else the error box with its code. */
export function notice(lang: Lang, n?: Notice): Html | string {
  if (!n) return '';
  return n.ok ? html`<p role="status" class="ok">${localise(n.message, lang)}</p>` : errorBox(n.code ?? 'BAD_INPUT', localise(n.message, lang));
}

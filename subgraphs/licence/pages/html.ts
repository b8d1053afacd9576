/**
 * The licence service's public pages (verify, licence view): an HTML-escaping tagged template
 * and one layout with inline CSS and no external assets. Texts are bilingual, zh-CN first then
 * English, on the page itself (these pages are opened from QR codes and share links, where no
 * language preference is known yet).
 */

import { inlineStyle } from '../../../kernel/csp.ts';
import { Html, escapeHtml, html } from '../../../kernel/html.ts';

export { Html, escapeHtml, html };

const CSS = inlineStyle(`
*{box-sizing:border-box}body{margin:0;font:16px/1.6 system-ui,-apple-system,"PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;background:#f3f5f8;color:#1d2733}
header{background:#b3202a;color:#fff;padding:.6rem 1rem}main{max-width:44rem;margin:1.5rem auto;background:#fff;padding:1.5rem 2rem;border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.15)}
h1{font-size:1.4rem;margin-top:0}h2{font-size:1.1rem}label{display:block;margin:.9rem 0 .2rem;font-weight:600}
textarea{width:100%;min-height:7rem;padding:.55rem;border:1px solid #8a96a3;border-radius:4px;font:13px/1.4 monospace}
input:focus,textarea:focus,button:focus,a:focus{outline:3px solid #f0b400;outline-offset:2px}
button,.button{display:inline-block;margin-top:1.2rem;padding:.6rem 1.2rem;border:0;border-radius:4px;background:#b3202a;color:#fff;font:inherit;cursor:pointer;text-decoration:none}
.result{padding:.8rem 1rem;margin:1rem 0;border-left:6px solid}.valid{background:#e8f5e9;border-color:#2e7d32}.invalid{background:#fdecea;border-color:#b3202a}
dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}dl.fields dt{color:#52606d}dl.fields dd{margin:0;overflow-wrap:anywhere}
.hint{color:#52606d;font-size:.9rem}.licence{display:grid;grid-template-columns:minmax(0,1fr) auto;gap:1rem;align-items:start}
.seal{width:8rem;height:8rem;opacity:.85}.qr{width:11rem;height:11rem}
@media print{header,.noprint{display:none}main{box-shadow:none;margin:0}}
`);

export function layout(o: { title: string; body: Html }): string {
  return `<!doctype html>${html`<html lang="zh-CN">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="referrer" content="no-referrer">
<title>${o.title} · 一网通办 Yiwang</title><style>${new Html(CSS)}</style></head>
<body><header>一网通办 电子证照 · Yiwang electronic licences</header><main><h1>${o.title}</h1>${o.body}</main></body></html>`.value}`;
}

/**
 * GET /track/:caseNumber?code=… — the address in the acceptance receipt's QR code (R-CA-6): the
 * public view as JSON, or as a small page for a phone's browser. Unknown number and wrong code
 * answer the same 404, so neither can be probed.
 */
import type { KeyObject } from 'node:crypto';
import type { Router } from '@koa/router';
import type { Db } from '../../../kernel/db.ts';
import { AppError } from '../../../kernel/errors.ts';
import { inlineStyle } from '../../../kernel/csp.ts';
import { codeMatches, findByNumber, publicView, type PublicTracking } from './view.ts';

const CSS = inlineStyle('body{font-family:sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}');
const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
const cst = (iso: string) => new Date(Date.parse(iso) + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');

function page(v: PublicTracking): string {
  const steps = v.steps.map((s) => `<li>${esc(cst(s.at))} · ${esc(s.action)} → ${esc(s.status)}</li>`).join('');
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>办件查询 ${esc(v.caseNumber)}</title><style>${CSS}</style></head><body>
<h1>办件查询 <small>Case tracking</small></h1>
<p>办件编号 Case number: <strong>${esc(v.caseNumber)}</strong></p>
<p>事项 Item: ${esc(v.itemName)}<br>受理机关 Agency: ${esc(v.agencyName)}<br>申请人 Applicant: ${esc(v.applicantMasked)}</p>
<p>当前状态 Status: <strong>${esc(v.statusLabel)}</strong>${v.deadlineAt ? `<br>办理时限 Deadline: ${esc(cst(v.deadlineAt).slice(0, 10))}` : ''}</p>
<ol>${steps}</ol></body></html>`;
}

export function mountTracking(router: Router, d: { db: Db; key: KeyObject }): void {
  router.get('/track/:caseNumber', async (ctx) => {
    const number = ctx.params.caseNumber ?? '';
    const code = typeof ctx.query.code === 'string' ? ctx.query.code : '';
    const c = await findByNumber(d.db, number);
    if (!c || !codeMatches(d.key, c.caseNumber, code)) throw new AppError('NOT_FOUND', '未找到办件（请核对办件编号和查询码）/ no such case (check the number and code)');
    const view = await publicView(d.db, c);
    ctx.set('cache-control', 'no-store');
    if (ctx.accepts('json', 'html') === 'html') {
      ctx.type = 'html';
      ctx.body = page(view);
    } else {
      ctx.body = view;
    }
  });
}

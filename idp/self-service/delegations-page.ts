/**
 * The delegations page of the account pages (R-ID-8): what the person
 * holds, what they granted (revocable, cascading), requests waiting for them as legal
 * representative, a form to grant or pass on, a form to ask a company. zh-CN first with an
 * English switch; every form carries the session-bound CSRF token, every input a label.
 * Nothing here decides: idp/delegation/delegations.ts does (idp/self-service/delegations.ts calls it).
 */
import { ALL_ITEMS, MAX_DELEGATION_LEVEL, type Delegation } from '../delegation/delegations.ts';
import { CSRF_FIELD } from '../web/csrf.ts';
import { html, notice, page, type Html, type Lang, type Notice } from '../web/html.ts';

type Text = Record<Lang, string>;
const t = (lang: Lang, x: Text) => x[lang];

/** A delegation as listed: with the grantor's name and whether it is in force now. */
export interface DelegationRow extends Delegation { grantorName: string; inForce: boolean }

export interface DelegationsView {
  lang: Lang;
  csrf: string;
  /** Persons only: staff accounts neither hold nor grant delegations. */
  isPerson: boolean;
  held: DelegationRow[];
  granted: DelegationRow[];
  /** Legal representative: other delegations of their companies (passed on by others). */
  ofMyCompanies: DelegationRow[];
  pending: DelegationRow[];
  /** Companies the person may grant for: as legal representative, or holding a delegation below level 3. */
  grantable: Array<{ creditCode: string; name: string; how: 'legal-representative' | 'delegate'; level?: number }>;
  notice?: Notice;
  /** Form values to show again after a refusal. */
  values?: Record<string, string>;
}

const STATUS: Record<Delegation['status'], Text> = {
  requested: { zh: '待审批', en: 'awaiting approval' },
  active: { zh: '有效', en: 'active' },
  rejected: { zh: '已拒绝', en: 'rejected' },
  revoked: { zh: '已撤销', en: 'revoked' },
};

/** Periods are shown as China Standard Time dates (UTC+8); the end date is the last day in force. */
const cstDate = (iso: string, endExclusive = false) => new Date(Date.parse(iso) + 8 * 3600_000 - (endExclusive ? 1 : 0)).toISOString().slice(0, 10);

function scopeText(lang: Lang, scope: string[]): string {
  return scope.includes(ALL_ITEMS) ? t(lang, { zh: '全部办理事项', en: 'all service items' }) : scope.join(', ');
}

function state(lang: Lang, d: DelegationRow): string {
  if (d.status === 'active' && !d.inForce) return t(lang, { zh: '未生效或已失效', en: 'not in force' });
  return t(lang, STATUS[d.status]);
}

export function delegationsPage(o: DelegationsView): string {
  const { lang } = o;
  const v = o.values ?? {};
  const hidden = html`<input type="hidden" name="${CSRF_FIELD}" value="${o.csrf}">`;
  const period = (d: DelegationRow) => `${cstDate(d.validFrom)} – ${cstDate(d.validUntil, true)}`;
  const revokeForm = (d: DelegationRow, label: Text, aria: Text) => (d.status === 'active' || d.status === 'requested'
    ? html`<form method="post" action="/account/delegations/${d.id}/revoke" class="inline">${hidden}
      <button type="submit" class="secondary" aria-label="${t(lang, aria)}">${t(lang, label)}</button></form>`
    : '');
  const item = (d: DelegationRow, who: Html, action: Html | string) => html`<li data-delegation="${d.id}"><strong>${d.companyName}</strong>
    <span class="hint">${d.companyCreditCode}</span><br>
    ${t(lang, { zh: '事项', en: 'Items' })}: ${scopeText(lang, d.scope)} · ${t(lang, { zh: '有效期', en: 'Valid' })}: ${period(d)} ·
    ${t(lang, { zh: `第 ${d.level} 级`, en: `level ${d.level}` })} · ${state(lang, d)}<br>${who} ${action}</li>`;

  const held = o.held.map((d) => item(d,
    html`<span class="hint">${t(lang, { zh: `授权人：${d.grantorName}`, en: `granted by ${d.grantorName}` })}</span>`,
    revokeForm(d, { zh: '放弃', en: 'Renounce' }, { zh: `放弃 ${d.companyName} 的授权`, en: `Renounce the delegation from ${d.companyName}` })));
  const granted = (rows: DelegationRow[]) => rows.map((d) => item(d,
    html`<span class="hint">${t(lang, { zh: `被授权人：${d.granteeName}；授权人：${d.grantorName}`, en: `to ${d.granteeName}, granted by ${d.grantorName}` })}</span>`,
    revokeForm(d, { zh: '撤销', en: 'Revoke' }, { zh: `撤销授予 ${d.granteeName} 的 ${d.companyName} 授权（连同其转授）`, en: `Revoke the ${d.companyName} delegation to ${d.granteeName} (and all passed on from it)` })));
  const pending = o.pending.map((d) => item(d,
    html`<span class="hint">${t(lang, { zh: `申请人：${d.granteeName}`, en: `asked by ${d.granteeName}` })}</span>`,
    html`<form method="post" action="/account/delegations/${d.id}/decide" class="inline">${hidden}
      <button type="submit" name="decision" value="approve" aria-label="${t(lang, { zh: `批准 ${d.granteeName} 的申请`, en: `Approve the request of ${d.granteeName}` })}">${t(lang, { zh: '批准', en: 'Approve' })}</button>
      <button type="submit" name="decision" value="reject" class="secondary" aria-label="${t(lang, { zh: `拒绝 ${d.granteeName} 的申请`, en: `Reject the request of ${d.granteeName}` })}">${t(lang, { zh: '拒绝', en: 'Reject' })}</button></form>`));
  const none = html`<p class="hint">${t(lang, { zh: '暂无。', en: 'None.' })}</p>`;
  const list = (rows: Html[]) => (rows.length ? html`<ul>${rows}</ul>` : none);

  const scopeHint = t(lang, { zh: '办理事项编号，以逗号或空格分隔；“*”表示全部事项', en: 'Service item ids, separated by commas or spaces; “*” for all items' });
  const dateHint = t(lang, { zh: '日期按北京时间；开始日期留空表示立即生效，结束日期当天仍有效。', en: 'Dates in China Standard Time; leave the start empty to begin now; the end date is the last day in force.' });
  const periodFields = (p: 'grant' | 'request') => html`
  <label for="${p}-from">${t(lang, p === 'grant' ? { zh: '授权开始日期（可选）', en: 'Start date (optional)' } : { zh: '申请的开始日期（可选）', en: 'Requested start date (optional)' })}</label>
  <input type="date" id="${p}-from" name="validFrom" value="${v[`${p}.validFrom`] ?? ''}">
  <label for="${p}-until">${t(lang, p === 'grant' ? { zh: '授权结束日期', en: 'End date' } : { zh: '申请的结束日期', en: 'Requested end date' })}</label>
  <input type="date" id="${p}-until" name="validUntil" value="${v[`${p}.validUntil`] ?? ''}" required aria-describedby="${p}-period-hint">
  <p class="hint" id="${p}-period-hint">${dateHint}</p>`;

  const grantForm = o.grantable.length ? html`<form method="post" action="/account/delegations/grant">${hidden}
  <label for="grant-company">${t(lang, { zh: '代表的法人单位', en: 'For the company' })}</label>
  <select id="grant-company" name="company" required>${o.grantable.map((c) => html`<option value="${c.creditCode}"${v['grant.company'] === c.creditCode ? html` selected` : ''}>${c.name} (${c.creditCode}) — ${c.how === 'legal-representative'
    ? t(lang, { zh: '法定代表人授权', en: 'grant as legal representative' })
    : t(lang, { zh: `转授第 ${c.level ?? 1} 级授权`, en: `pass on your level-${c.level ?? 1} delegation` })}</option>`)}</select>
  <label for="grant-login">${t(lang, { zh: '被授权人身份证号码或手机号码', en: 'Grantee\'s ID number or mobile number' })}</label>
  <input type="text" id="grant-login" name="grantee" value="${v['grant.grantee'] ?? ''}" maxlength="18" autocomplete="off" required>
  <label for="grant-name">${t(lang, { zh: '被授权人姓名（用于核对）', en: 'Grantee\'s name (to check it is the right person)' })}</label>
  <input type="text" id="grant-name" name="granteeName" value="${v['grant.granteeName'] ?? ''}" maxlength="64" autocomplete="off" required>
  <label for="grant-scope">${t(lang, { zh: '授权办理的事项', en: 'Service items' })}</label>
  <input type="text" id="grant-scope" name="scope" value="${v['grant.scope'] ?? ''}" required aria-describedby="grant-scope-hint">
  <p class="hint" id="grant-scope-hint">${scopeHint}</p>
  ${periodFields('grant')}
  <button type="submit">${t(lang, { zh: '授权', en: 'Grant' })}</button></form>`
    : html`<p class="hint">${t(lang, {
      zh: `只有法定代表人，或持有可转授授权（第 ${MAX_DELEGATION_LEVEL} 级以内）的人可以授权。`,
      en: `Only a legal representative, or someone holding a delegation that may be passed on (below level ${MAX_DELEGATION_LEVEL}), can grant.`,
    })}</p>`;

  const requestForm = html`<form method="post" action="/account/delegations/request">${hidden}
  <label for="request-company">${t(lang, { zh: '法人单位统一社会信用代码', en: 'Company\'s unified social credit code' })}</label>
  <input type="text" id="request-company" name="company" value="${v['request.company'] ?? ''}" maxlength="18" required>
  <label for="request-scope">${t(lang, { zh: '申请办理的事项', en: 'Service items' })}</label>
  <input type="text" id="request-scope" name="scope" value="${v['request.scope'] ?? ''}" required aria-describedby="request-scope-hint">
  <p class="hint" id="request-scope-hint">${scopeHint}</p>
  ${periodFields('request')}
  <button type="submit">${t(lang, { zh: '提交申请', en: 'Send the request' })}</button></form>`;

  return page({
    lang, path: '/account/delegations', title: t(lang, { zh: '法人授权', en: 'Delegations' }),
    body: html`${notice(lang, o.notice)}
<p><a href="/account">${t(lang, { zh: '← 返回我的账户', en: '← Back to my account' })}</a></p>
<p class="hint">${t(lang, {
      zh: `法人单位可以授权个人在一定期限内代为办理指定事项；被授权人可以再转授，最多 ${MAX_DELEGATION_LEVEL} 级，且不能超出自己持有的范围和期限。撤销一项授权，会一并撤销由它转授的全部授权。`,
      en: `A company can let a person act for it on given service items for a period; that person may pass it on, at most ${MAX_DELEGATION_LEVEL} levels, never wider or longer than held. Revoking a delegation also revokes everything passed on from it.`,
    })}</p>
<section aria-labelledby="h-held"><h2 id="h-held">${t(lang, { zh: '我持有的授权', en: 'Delegations I hold' })}</h2>${list(held)}</section>
<section aria-labelledby="h-granted"><h2 id="h-granted">${t(lang, { zh: '我授出的授权', en: 'Delegations I granted' })}</h2>${list(granted(o.granted))}</section>
${o.ofMyCompanies.length ? html`<section aria-labelledby="h-company"><h2 id="h-company">${t(lang, { zh: '本单位的其他授权（转授）', en: 'Other delegations of my companies (passed on)' })}</h2>${list(granted(o.ofMyCompanies))}</section>` : ''}
${o.pending.length ? html`<section aria-labelledby="h-pending"><h2 id="h-pending">${t(lang, { zh: '待我审批的申请', en: 'Requests waiting for my decision' })}</h2>${list(pending)}</section>` : ''}
${o.isPerson ? html`<section aria-labelledby="h-grant"><h2 id="h-grant">${t(lang, { zh: '授权或转授', en: 'Grant or pass on' })}</h2>${grantForm}</section>
<section aria-labelledby="h-request"><h2 id="h-request">${t(lang, { zh: '向法人单位申请授权', en: 'Ask a company for a delegation' })}</h2>${requestForm}</section>` : ''}`,
  });
}

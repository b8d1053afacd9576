/**
 * The counter desk page (R-ID-2, R-ID-4 at a counter, R-ID-6 at a counter): what staff with the
 * `receiver` role see at the service window. zh-CN first with an English switch; every form
 * carries the session-bound CSRF token, every input a label; ID numbers and mobiles of pending
 * registrations are masked (R-ID-11). Nothing here decides: idp/counter/persons.ts does
 * (idp/counter/desk.ts calls it).
 */
import { maskIdNumber } from '../../kernel/ids.ts';
import { CSRF_FIELD } from '../web/csrf.ts';
import { html, page, type Html, type Lang } from '../web/html.ts';
import { notice, type Notice } from '../web/html.ts';
import type { PendingRegistration } from './persons.ts';

type Text = Record<Lang, string>;
const t = (lang: Lang, x: Text) => x[lang];

export const DESK_PATH = '/counter/desk';

/** A new initial password to hand over, shown once (activation or reset at the counter). */
export interface Handover { kind: 'activated' | 'reset'; name: string; loginName: string; initialPassword: string }

export interface DeskView {
  lang: Lang;
  csrf: string;
  staffName: string;
  pending: PendingRegistration[];
  notice?: Notice;
  handover?: Handover;
  /** Form values to show again after a refusal, `<form>.<field>`. */
  values?: Record<string, string>;
}

function handoverBox(lang: Lang, h: Handover): Html {
  return html`<section aria-labelledby="h-handover" class="ok"><h2 id="h-handover">${h.kind === 'activated'
    ? t(lang, { zh: `${h.name} 的账户已激活`, en: `${h.name}'s account is active` })
    : t(lang, { zh: `${h.name} 的密码已重置`, en: `${h.name}'s password has been reset` })}</h2>
<dl>
  <dt>${t(lang, { zh: '登录名（身份证号码或绑定手机）', en: 'Login name (ID number or bound mobile)' })}</dt><dd>${maskIdNumber(h.loginName)}</dd>
  <dt>${t(lang, { zh: '初始密码', en: 'Initial password' })}</dt><dd><code id="initial-password" class="big">${h.initialPassword}</code></dd>
</dl>
<p class="hint">${t(lang, {
    zh: '初始密码只显示这一次，请当面交给申请人本人；首次登录时须改为自己的密码。',
    en: 'The initial password is shown this once: hand it to the applicant in person; it must be changed at the first login.',
  })}</p></section>`;
}

export function deskPage(o: DeskView): string {
  const { lang } = o;
  const v = o.values ?? {};
  const hidden = html`<input type="hidden" name="${CSRF_FIELD}" value="${o.csrf}">`;
  const pending = o.pending.map((p) => html`<li data-pending="${p.id}"><strong>${p.name}</strong>
    <span class="hint">${p.maskedIdNumber} · ${p.maskedMobile} · ${p.startedAt.replace('T', ' ').slice(0, 16)} UTC</span>
    <form method="post" action="${DESK_PATH}/persons/${p.id}/activate">${hidden}
      <label for="code-${p.id}">${t(lang, { zh: `${p.name} 收到的 6 位短信验证码`, en: `The 6-digit code ${p.name} received by SMS` })}</label>
      <input type="text" id="code-${p.id}" name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="off" required>
      <button type="submit">${t(lang, { zh: '激活账户', en: 'Activate the account' })}</button></form>
    <form method="post" action="${DESK_PATH}/persons/${p.id}/resend" class="inline">${hidden}
      <button type="submit" class="secondary" aria-label="${t(lang, { zh: `重新发送验证码给 ${p.name}`, en: `Send ${p.name} a new code` })}">${t(lang, { zh: '重发验证码', en: 'Send a new code' })}</button></form></li>`);
  const field = (form: string, name: string, id: string, label: Text, attributes: Html) => html`
  <label for="${id}">${t(lang, label)}</label>
  <input type="text" id="${id}" name="${name}" value="${v[`${form}.${name}`] ?? ''}" autocomplete="off"${attributes}>`;

  return page({
    lang, path: DESK_PATH, title: t(lang, { zh: '窗口注册', en: 'Counter registration' }),
    body: html`${notice(lang, o.notice)}${o.handover ? handoverBox(lang, o.handover) : ''}
<p class="hint">${t(lang, { zh: `窗口工作人员：${o.staffName}。每项办理都记入审计日志。`, en: `Counter staff: ${o.staffName}. Every act is written to the audit log.` })}</p>
<section aria-labelledby="h-person"><h2 id="h-person">${t(lang, { zh: '个人账户窗口注册', en: 'Register a person' })}</h2>
<p class="hint">${t(lang, {
      zh: '先当面核验申请人的居民身份证原件；姓名和身份证号码须经人口库核验。随后向申请人手机发送短信验证码，申请人报出验证码后激活账户。',
      en: 'Check the applicant\'s ID card in person first; name and ID number are checked with the population registry. A code is then sent to the applicant\'s mobile; the account is activated once they tell you the code.',
    })}</p>
<form method="post" action="${DESK_PATH}/persons">${hidden}
  ${field('person', 'name', 'person-name', { zh: '申请人姓名', en: 'Applicant\'s full name' }, html` maxlength="50" required`)}
  ${field('person', 'idNumber', 'person-id', { zh: '居民身份证号码', en: 'Resident ID number' }, html` maxlength="18" required`)}
  ${field('person', 'mobile', 'person-mobile', { zh: '申请人手机号码', en: 'Applicant\'s mobile number' }, html` inputmode="tel" maxlength="11" required`)}
  <button type="submit">${t(lang, { zh: '核验并发送验证码', en: 'Check and send the code' })}</button>
</form></section>
<section aria-labelledby="h-pending"><h2 id="h-pending">${t(lang, { zh: '待激活的注册', en: 'Waiting for activation' })}</h2>
${pending.length ? html`<ul>${pending}</ul>` : html`<p class="hint">${t(lang, { zh: '暂无。', en: 'None.' })}</p>`}</section>
<section aria-labelledby="h-company"><h2 id="h-company">${t(lang, { zh: '法人单位窗口注册', en: 'Register a company' })}</h2>
<p class="hint">${t(lang, {
      zh: '法定代表人（或持授权委托书的被委托人）须已有个人账户。',
      en: 'The legal representative (or a delegate carrying their power of attorney) must have a personal account.',
    })}</p>
<form method="post" action="${DESK_PATH}/companies">${hidden}
  ${field('company', 'creditCode', 'company-code', { zh: '统一社会信用代码', en: 'Unified social credit code' }, html` maxlength="18" required`)}
  ${field('company', 'name', 'company-name', { zh: '单位名称', en: 'Company name' }, html` maxlength="100" required`)}
  ${field('company', 'legalRepIdNumber', 'company-rep', { zh: '法定代表人身份证号码', en: 'Legal representative\'s ID number' }, html` maxlength="18" required`)}
  ${field('company', 'delegateIdNumber', 'company-delegate', { zh: '被委托人身份证号码（代办时填写）', en: 'Delegate\'s ID number (when a delegate comes)' }, html` maxlength="18"`)}
  ${field('company', 'powerOfAttorney', 'company-poa', { zh: '授权委托书编号（代办时必填）', en: 'Power of attorney number (required for a delegate)' }, html` maxlength="40"`)}
  <button type="submit">${t(lang, { zh: '注册法人单位', en: 'Register the company' })}</button>
</form></section>
<section aria-labelledby="h-reset"><h2 id="h-reset">${t(lang, { zh: '凭身份证重置密码', en: 'Reset a password with the ID card' })}</h2>
<form method="post" action="${DESK_PATH}/password-resets">${hidden}
  ${field('reset', 'name', 'reset-name', { zh: '姓名', en: 'Full name' }, html` maxlength="50" required`)}
  ${field('reset', 'idNumber', 'reset-id', { zh: '居民身份证号码', en: 'Resident ID number' }, html` maxlength="18" required`)}
  <button type="submit">${t(lang, { zh: '核验并重置密码', en: 'Check and reset the password' })}</button>
</form></section>
<p><a href="/session/end">${t(lang, { zh: '退出登录', en: 'Log out' })}</a></p>`,
  });
}

/**
 * The account pages (profile, sessions, bound mobile, companies; delegations are linked to the
 * delegation module) and the password-recovery pages, zh-CN first with an English switch. Every
 * form carries its CSRF token, every input a label.
 */
import { maskIdNumber, maskMobile } from '../../kernel/ids.ts';
import { AGREEMENT, type AccountRecord } from '../accounts/store.ts';
import { CSRF_FIELD } from '../web/csrf.ts';
import { html, notice, page, type Lang, type Notice } from '../web/html.ts';
import type { Company } from '../company/companies.ts';
import { routeLabel } from '../company/pages.ts';
import type { SessionInfo } from './sessions.ts';

type Text = Record<Lang, string>;
const t = (lang: Lang, x: Text) => x[lang];
export type { Notice } from '../web/html.ts';

const FACTOR: Record<string, Text> = {
  idNumber: { zh: '姓名与身份证号码', en: 'Name and ID number' },
  mobile: { zh: '手机号码', en: 'Mobile' },
  socialSecurityCard: { zh: '社会保障卡', en: 'Social-security card' },
  bankCard: { zh: '银行卡', en: 'Bank card' },
  housingFund: { zh: '住房公积金', en: 'Housing fund' },
  drivingLicenceFile: { zh: '驾驶证档案', en: 'Driving-licence file' },
};
const PROOFING: Record<string, Text> = {
  'self-declared': { zh: '自行声明（未核验）', en: 'self-declared (not verified)' },
  'online-verified': { zh: '线上注册，要素已核验', en: 'registered online, factors verified' },
  counter: { zh: '窗口现场核验', en: 'verified in person at a counter' },
  staff: { zh: '工作人员（单位核验）', en: 'staff (verified by their agency)' },
  linked: { zh: '关联注册，由实名认证平台核验', en: 'registered through a real-name platform that verified it' },
};
const AMR: Record<string, Text> = {
  pwd: { zh: '密码', en: 'password' }, sms: { zh: '短信验证码', en: 'SMS code' }, qr: { zh: '扫码', en: 'QR code' },
  fed: { zh: '实名认证平台', en: 'real-name platform' },
};


export function accountPage(o: {
  lang: Lang; csrf: string; account: AccountRecord; sessions: SessionInfo[]; companies: Company[];
  mobileStep: 'start' | 'old-sent' | 'old-confirmed' | 'new-sent'; newMobile?: string; notice?: Notice;
}): string {
  const { lang, account: a } = o;
  const hidden = html`<input type="hidden" name="${CSRF_FIELD}" value="${o.csrf}">`;
  const factors = a.factors.map((f) => html`<li>${FACTOR[f.type] ? t(lang, FACTOR[f.type]!) : f.type} ****${f.last4} —
    ${f.verified ? t(lang, { zh: '已核验', en: 'verified' }) : t(lang, { zh: '未核验', en: 'not verified' })}${f.source ? html` <span class="hint">(${f.source}, ${f.at.slice(0, 10)})</span>` : ''}</li>`);
  const sessions = o.sessions.map((s) => html`<li>${s.loginAt?.replace('T', ' ').slice(0, 16) ?? ''} UTC ·
    ${s.amr.map((m) => (AMR[m] ? t(lang, AMR[m]!) : m)).join(' + ')} · ${s.acr ?? ''}${s.current ? html` <strong>${t(lang, { zh: '（当前）', en: '(this one)' })}</strong>` : ''}
    <span class="hint">${s.browser}</span>
    <form method="post" action="/account/sessions/${encodeURIComponent(s.id)}/end" class="inline">${hidden}
      <button type="submit" class="secondary" aria-label="${t(lang, { zh: `结束 ${s.loginAt ?? ''} 的会话`, en: `End the session from ${s.loginAt ?? ''}` })}">${t(lang, { zh: '结束', en: 'End' })}</button></form></li>`);
  const companies = o.companies.map((c) => html`<li>${c.name} <span class="hint">${c.creditCode} · ${routeLabel(lang, c.route)} · L${c.assuranceLevel}</span></li>`);
  const mobileForm = {
    start: html`<input type="hidden" name="step" value="old-send"><button type="submit" class="secondary">${t(lang, { zh: '发送验证码到原手机', en: 'Send a code to the current mobile' })}</button>`,
    'old-sent': html`<input type="hidden" name="step" value="old-confirm">
      <label for="old-code">${t(lang, { zh: '原手机收到的验证码', en: 'Code sent to the current mobile' })}</label>
      <input type="text" id="old-code" name="code" inputmode="numeric" maxlength="6" autocomplete="one-time-code" required>
      <button type="submit">${t(lang, { zh: '确认', en: 'Confirm' })}</button>`,
    'old-confirmed': html`<input type="hidden" name="step" value="new-send">
      <label for="new-mobile">${t(lang, { zh: '新手机号码', en: 'New mobile number' })}</label>
      <input type="tel" id="new-mobile" name="mobile" maxlength="11" autocomplete="tel-national" required>
      <button type="submit" class="secondary">${t(lang, { zh: '发送验证码到新手机', en: 'Send a code to the new mobile' })}</button>`,
    'new-sent': html`<input type="hidden" name="step" value="new-confirm"><input type="hidden" name="mobile" value="${o.newMobile ?? ''}">
      <label for="new-code">${t(lang, { zh: '新手机收到的验证码', en: 'Code sent to the new mobile' })}</label>
      <input type="text" id="new-code" name="code" inputmode="numeric" maxlength="6" autocomplete="one-time-code" required>
      <button type="submit">${t(lang, { zh: '绑定新号码', en: 'Bind the new number' })}</button>`,
  }[o.mobileStep];
  return page({
    lang, path: '/account', title: t(lang, { zh: '我的账户', en: 'My account' }),
    body: html`${notice(lang, o.notice)}
<section aria-labelledby="h-profile"><h2 id="h-profile">${t(lang, { zh: '基本信息', en: 'Profile' })}</h2>
<dl>
  <dt>${t(lang, { zh: '姓名', en: 'Name' })}</dt><dd>${a.name}</dd>
  ${a.idNumber ? html`<dt>${t(lang, { zh: '身份证号码', en: 'ID number' })}</dt><dd>${maskIdNumber(a.idNumber)}</dd>` : ''}
  ${a.mobile ? html`<dt>${t(lang, { zh: '绑定手机', en: 'Bound mobile' })}</dt><dd>${maskMobile(a.mobile)}</dd>` : ''}
  <dt>${t(lang, { zh: '认证等级', en: 'Assurance level' })}</dt><dd>L${a.assuranceLevel} · ${PROOFING[a.proofing] ? t(lang, PROOFING[a.proofing]!) : a.proofing}</dd>
  <dt>${t(lang, { zh: '注册平台', en: 'Registered on' })}</dt><dd>${a.registeredPlatform ?? '—'} (${a.registeredTier ?? '—'})</dd>
</dl>
<h3>${t(lang, { zh: '身份要素', en: 'Identity factors' })}</h3><ul>${factors}</ul></section>
<section aria-labelledby="h-sessions"><h2 id="h-sessions">${t(lang, { zh: '登录会话', en: 'Sessions' })}</h2><ul>${sessions}</ul></section>
${a.mobile ? html`<section aria-labelledby="h-mobile"><h2 id="h-mobile">${t(lang, { zh: '更换绑定手机', en: 'Change the bound mobile' })}</h2>
<p class="hint">${t(lang, { zh: '先用原号码确认，再用新号码确认。', en: 'Confirm with the current number first, then with the new one.' })}</p>
<form method="post" action="/account/mobile">${hidden}${mobileForm}</form></section>` : ''}
${a.kind === 'person' ? html`<section aria-labelledby="h-companies"><h2 id="h-companies">${t(lang, { zh: '我的法人单位', en: 'My companies' })}</h2>
<ul>${companies}</ul>
<form method="post" action="/account/companies">${hidden}
  <label for="creditCode">${t(lang, { zh: '统一社会信用代码', en: 'Unified social credit code' })}</label>
  <input type="text" id="creditCode" name="creditCode" maxlength="18" required>
  <label for="companyName">${t(lang, { zh: '单位名称', en: 'Company name' })}</label>
  <input type="text" id="companyName" name="name" required>
  <label class="check" for="companyAgreement"><input type="checkbox" id="companyAgreement" name="agreementVersion" value="${AGREEMENT.version}" required>
    <span>${t(lang, { zh: `我是该单位的法定代表人，已阅读并同意《${AGREEMENT.title.zh}》`, en: `I am its legal representative and accept the ${AGREEMENT.title.en}` })}</span></label>
  <button type="submit">${t(lang, { zh: '注册法人单位', en: 'Register the company' })}</button>
</form>
<p class="hint"><a href="/account/companies">${t(lang, { zh: '用电子营业执照或企业数字证书注册', en: 'Register with an electronic business licence or an enterprise certificate' })}</a></p></section>` : ''}
<section aria-labelledby="h-delegations" id="delegations"><h2 id="h-delegations">${t(lang, { zh: '授权管理', en: 'Delegations' })}</h2>
<!-- Delegations (R-ID-8) belong to the delegation module: it serves /account/delegations. -->
<p><a href="/account/delegations">${t(lang, { zh: '查看和管理法人授权', en: 'View and manage delegations' })}</a></p></section>
<section aria-labelledby="h-links"><h2 id="h-links">${t(lang, { zh: '关联平台', en: 'Linked platforms' })}</h2>
<!-- Linked real-name platforms (R-ID-3) belong to the link module: it serves /account/links. -->
<p><a href="/account/links">${t(lang, { zh: '查看和关联实名认证平台', en: 'View and link real-name platforms' })}</a></p></section>
<p><a href="/session/end">${t(lang, { zh: '退出登录', en: 'Log out' })}</a></p>`,
  });
}

export function recoverPage(o: { lang: Lang; csrf: string; step: 'start' | 'sent' | 'done'; login?: string; notice?: Notice }): string {
  const { lang } = o;
  const hidden = html`<input type="hidden" name="${CSRF_FIELD}" value="${o.csrf}">`;
  const body = o.step === 'done'
    ? html`<p role="status">${t(lang, { zh: '密码已重置，请用新密码登录。', en: 'Your password has been reset; log in with the new one.' })}</p>`
    : o.step === 'start'
      ? html`<form method="post" action="/recover">${hidden}<input type="hidden" name="step" value="send">
  <label for="recover-login">${t(lang, { zh: '身份证号码或绑定手机号码', en: 'ID number or bound mobile number' })}</label>
  <input type="text" id="recover-login" name="login" value="${o.login ?? ''}" autocomplete="username" required autofocus>
  <button type="submit">${t(lang, { zh: '发送验证码', en: 'Send a code' })}</button></form>`
      : html`<p role="status">${t(lang, { zh: '如该账户存在，验证码已发送到其绑定手机。', en: 'If the account exists, a code has been sent to its bound mobile.' })}</p>
<form method="post" action="/recover">${hidden}<input type="hidden" name="step" value="reset"><input type="hidden" name="login" value="${o.login ?? ''}">
  <label for="recover-code">${t(lang, { zh: '短信中的 6 位数字', en: 'The 6-digit code from the SMS' })}</label>
  <input type="text" id="recover-code" name="code" inputmode="numeric" maxlength="6" autocomplete="one-time-code" required autofocus>
  <label for="recover-password">${t(lang, { zh: '新密码', en: 'New password' })}</label>
  <input type="password" id="recover-password" name="password" autocomplete="new-password" required>
  <button type="submit">${t(lang, { zh: '重置密码', en: 'Reset the password' })}</button></form>`;
  return page({ lang, path: '/recover', title: t(lang, { zh: '找回密码', en: 'Reset your password' }), body: html`${notice(lang, o.notice)}${body}` });
}

export function qrApprovePage(o: { lang: Lang; csrf: string; code: string; name: string; done?: 'approved' | 'denied'; notice?: Notice }): string {
  const { lang } = o;
  const body = o.done
    ? html`<p role="status">${o.done === 'approved'
      ? t(lang, { zh: '已确认，请回到另一台设备继续。', en: 'Approved: continue on the other device.' })
      : t(lang, { zh: '已拒绝该登录。', en: 'The login was refused.' })}</p>`
    : o.notice ? '' : html`<p>${t(lang, { zh: `${o.name}，是否在另一台设备上登录您的一网通办账户？只在您本人刚刚扫码时确认。`, en: `${o.name}, log in to your Yiwang account on another device? Approve only if you have just scanned the code yourself.` })}</p>
<form method="post" action="/qr/${o.code}/confirm"><input type="hidden" name="${CSRF_FIELD}" value="${o.csrf}">
  <button type="submit" name="decision" value="approve">${t(lang, { zh: '确认登录', en: 'Approve' })}</button>
  <button type="submit" name="decision" value="deny" class="secondary">${t(lang, { zh: '拒绝', en: 'Refuse' })}</button></form>`;
  return page({ lang, path: `/qr/${o.code}`, title: t(lang, { zh: '扫码登录确认', en: 'Approve a QR login' }), body: html`${notice(lang, o.notice)}${body}` });
}

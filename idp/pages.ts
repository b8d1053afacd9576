/**
 * The IdP's pages (login, consent, registration, errors) in zh-CN and English. Every form
 * carries its CSRF token; every input has a label; plain buttons and links keep them keyboard
 * usable. Nothing here decides anything: the routes in interactions.ts and register.ts do.
 */
import { AGREEMENT, FACTOR_TYPES, type FactorType } from './accounts.ts';
import { CSRF_FIELD } from './csrf.ts';
import { errorBox, html, localise, page, type Html, type Lang } from './html.ts';

type Text = Record<Lang, string>;
const t = (lang: Lang, text: Text) => text[lang];

const SCOPES: Record<string, Text> = {
  openid: { zh: '确认您的身份（用户标识）', en: 'confirm who you are (your user identifier)' },
  profile: { zh: '您的姓名', en: 'your name' },
  phone: { zh: '您的手机号码', en: 'your mobile number' },
  offline_access: { zh: '在您离开后继续保持访问', en: 'keep access while you are away' },
};

const FACTORS: Record<FactorType, Text> = {
  socialSecurityCard: { zh: '社会保障卡号', en: 'Social-security card number' },
  bankCard: { zh: '银行卡号', en: 'Bank card number' },
  housingFund: { zh: '住房公积金账号', en: 'Housing-fund account number' },
  drivingLicenceFile: { zh: '驾驶证档案编号', en: 'Driving-licence file number' },
};

export interface PageError { code: string; message: string }

const maybeError = (lang: Lang, e?: PageError) => (e ? errorBox(e.code, localise(e.message, lang)) : '');

export function loginPage(o: { lang: Lang; uid: string; csrf: string; clientName: string; login?: string; error?: PageError }): string {
  const { lang } = o;
  const action = `/interaction/${encodeURIComponent(o.uid)}`;
  return page({
    lang, path: action, title: t(lang, { zh: '登录', en: 'Log in' }),
    body: html`
<p>${t(lang, { zh: `登录以继续访问「${o.clientName}」`, en: `Log in to continue to “${o.clientName}”` })}</p>
${maybeError(lang, o.error)}
<form method="post" action="${action}/login" autocomplete="on">
  <input type="hidden" name="${CSRF_FIELD}" value="${o.csrf}">
  <label for="login">${t(lang, { zh: '身份证号码、手机号码或用户名', en: 'ID number, mobile number or username' })}</label>
  <input type="text" id="login" name="login" value="${o.login ?? ''}" autocomplete="username" required autofocus>
  <label for="password">${t(lang, { zh: '密码', en: 'Password' })}</label>
  <input type="password" id="password" name="password" autocomplete="current-password" required>
  <button type="submit">${t(lang, { zh: '登录', en: 'Log in' })}</button>
</form>
<form method="post" action="${action}/abort">
  <input type="hidden" name="${CSRF_FIELD}" value="${o.csrf}">
  <button type="submit" class="secondary">${t(lang, { zh: '取消', en: 'Cancel' })}</button>
</form>
<p class="hint">${t(lang, { zh: '还没有账户？', en: 'No account yet?' })}
  <a href="/register?return=${encodeURIComponent(action)}">${t(lang, { zh: '实名注册', en: 'Register with your real name' })}</a></p>`,
  });
}

export function consentPage(o: { lang: Lang; uid: string; csrf: string; clientName: string; scopes: string[]; resources: string[] }): string {
  const { lang } = o;
  const action = `/interaction/${encodeURIComponent(o.uid)}`;
  const items: Html[] = o.scopes.map((s) => html`<li>${SCOPES[s] ? t(lang, SCOPES[s]) : s}</li>`);
  for (const r of o.resources) items.push(html`<li>${t(lang, { zh: '代表您使用一网通办服务', en: 'use Yiwang services on your behalf' })} <span class="hint">(${r})</span></li>`);
  return page({
    lang, path: action, title: t(lang, { zh: '授权确认', en: 'Allow access?' }),
    body: html`
<p>${t(lang, { zh: `「${o.clientName}」请求：`, en: `“${o.clientName}” asks to:` })}</p>
<ul class="scopes">${items}</ul>
<form method="post" action="${action}/confirm">
  <input type="hidden" name="${CSRF_FIELD}" value="${o.csrf}">
  <button type="submit" name="decision" value="approve" autofocus>${t(lang, { zh: '同意', en: 'Allow' })}</button>
  <button type="submit" name="decision" value="deny" class="secondary">${t(lang, { zh: '拒绝', en: 'Deny' })}</button>
</form>`,
  });
}

export interface RegisterValues { name?: string; idNumber?: string; mobile?: string; factorType?: string; factorValue?: string }

export function registerPage(o: { lang: Lang; csrf: string; returnTo?: string | undefined; values?: RegisterValues; error?: PageError }): string {
  const { lang } = o;
  const v = o.values ?? {};
  const options = FACTOR_TYPES.map((f) => html`<option value="${f}"${v.factorType === f ? html` selected` : ''}>${t(lang, FACTORS[f])}</option>`);
  return page({
    lang, path: '/register', title: t(lang, { zh: '实名注册', en: 'Register' }),
    body: html`
${maybeError(lang, o.error)}
<form method="post" action="/register">
  <input type="hidden" name="${CSRF_FIELD}" value="${o.csrf}">
  ${o.returnTo ? html`<input type="hidden" name="return" value="${o.returnTo}">` : ''}
  <label for="name">${t(lang, { zh: '姓名', en: 'Full name' })}</label>
  <input type="text" id="name" name="name" value="${v.name ?? ''}" autocomplete="name" required autofocus>
  <label for="idNumber">${t(lang, { zh: '居民身份证号码', en: 'Resident ID number' })}</label>
  <input type="text" id="idNumber" name="idNumber" value="${v.idNumber ?? ''}" inputmode="text" maxlength="18" required>
  <label for="mobile">${t(lang, { zh: '手机号码', en: 'Mobile number' })}</label>
  <input type="tel" id="mobile" name="mobile" value="${v.mobile ?? ''}" autocomplete="tel-national" maxlength="11" required>
  <label for="factorType">${t(lang, { zh: '另一项身份要素', en: 'One more identity factor' })}</label>
  <select id="factorType" name="factorType" required>${options}</select>
  <label for="factorValue">${t(lang, { zh: '要素号码', en: 'Factor number' })}</label>
  <input type="text" id="factorValue" name="factorValue" value="${v.factorValue ?? ''}" required>
  <label for="password">${t(lang, { zh: '设置密码', en: 'Choose a password' })}</label>
  <input type="password" id="password" name="password" autocomplete="new-password" aria-describedby="pw-hint" required>
  <p class="hint" id="pw-hint">${t(lang, { zh: '至少 8 位，包含小写字母、大写字母、数字、符号中的至少三类。', en: 'At least 8 characters with 3 of: lower case, upper case, digits, symbols.' })}</p>
  <label class="check" for="agreementVersion"><input type="checkbox" id="agreementVersion" name="agreementVersion" value="${AGREEMENT.version}" required>
    <span>${t(lang, { zh: `我已阅读并同意《${AGREEMENT.title.zh}》（${AGREEMENT.version} 版）`, en: `I have read and accept the ${AGREEMENT.title.en} (version ${AGREEMENT.version})` })}</span></label>
  <button type="submit">${t(lang, { zh: '注册', en: 'Register' })}</button>
</form>`,
  });
}

export function registeredPage(o: { lang: Lang; returnTo?: string | undefined }): string {
  const { lang } = o;
  return page({
    lang, path: '/register', title: t(lang, { zh: '注册成功', en: 'Registered' }),
    body: html`
<p role="status">${t(lang, { zh: '您的账户已创建。身份要素尚待核验，当前认证等级为二级。', en: 'Your account has been created. Your identity factors are not yet verified, so its assurance level is 2.' })}</p>
${o.returnTo ? html`<p><a href="${o.returnTo}">${t(lang, { zh: '返回登录', en: 'Back to log in' })}</a></p>` : ''}`,
  });
}

export function errorPage(o: { lang: Lang; path: string; code: string; message: string }): string {
  return page({ lang: o.lang, path: o.path, title: t(o.lang, { zh: '出错了', en: 'Something went wrong' }), body: errorBox(o.code, localise(o.message, o.lang)) });
}

export const MESSAGES = {
  csrf: '表单已失效，请刷新页面后重试 / the form has expired; reload the page and try again',
  interactionGone: '登录请求已失效，请返回应用重新登录 / this login request has expired; go back to the application and start again',
} as const;

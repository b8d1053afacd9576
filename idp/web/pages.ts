/**
 * The IdP's pages (login, consent, registration, errors) in zh-CN and English. Every form
 * carries its CSRF token; every input has a label; plain buttons and links keep them keyboard
 * usable. Nothing here decides anything: the routes in idp/interactions/ and idp/accounts/registration.ts do.
 */
import { inlineScript } from '../../kernel/csp.ts';
import { AGREEMENT, FACTOR_TYPES, type FactorType } from '../accounts/store.ts';
import { CSRF_FIELD } from './csrf.ts';
import { Html, errorBox, html, localise, page, type Lang } from './html.ts';
import { platformLinks } from '../link/pages.ts';
import type { UpstreamSummary } from '../link/upstreams.ts';

type Text = Record<Lang, string>;
const t = (lang: Lang, text: Text) => text[lang];

const SCOPES: Record<string, Text> = {
  openid: { zh: '确认您的身份（用户标识）', en: 'confirm who you are (your user identifier)' },
  profile: { zh: '您的姓名', en: 'your name' },
  phone: { zh: '您的手机号码', en: 'your mobile number' },
  offline_access: { zh: '在您离开后继续保持访问', en: 'keep access while you are away' },
  yw_realname: { zh: '您经核验的实名信息（姓名、完整身份证号码、已核验的手机号码），用于在该平台注册或登录', en: 'your verified real-name identity (name, full resident ID number, verified mobile), to register or log in on that platform' },
};

const FACTORS: Record<FactorType, Text> = {
  socialSecurityCard: { zh: '社会保障卡号', en: 'Social-security card number' },
  bankCard: { zh: '银行卡号', en: 'Bank card number' },
  housingFund: { zh: '住房公积金账号', en: 'Housing-fund account number' },
  drivingLicenceFile: { zh: '驾驶证档案编号', en: 'Driving-licence file number' },
};

export interface PageError { code: string; message: string }

const maybeError = (lang: Lang, e?: PageError) => (e ? errorBox(e.code, localise(e.message, lang)) : '');

export interface LoginPageState {
  login?: string;
  error?: PageError;
  /** Which method the last post used (its form shows the error); `fed`: a trusted real-name platform; `home`: the home platform (R-ID-12). */
  method?: 'pwd' | 'sms' | 'qr' | 'fed' | 'home' | 'superior';
  mobile?: string;
  smsSent?: boolean;
  qr?: { url: string; image: string; expiresIn: number };
}

/**
 * A home platform of the federation the login page offers (idp/link/homes.ts). In a federation
 * the section is shown even when the directory lists none right now (the ID number still finds one).
 */
export interface HomeChoice { entityId: string; name: string; tier: string; region: string | null }

const TIER_NAME: Record<string, Text> = { national: { zh: '国家级', en: 'national' }, provincial: { zh: '省级', en: 'provincial' }, municipal: { zh: '市级', en: 'municipal' } };

/**
 * R-ID-12: 用其他地区平台账号登录: pick the home platform, or give the ID number to find it (only
 * its first six digits, the region, are used; it is posted, never put in a URL).
 */
function homeSection(lang: Lang, action: string, hidden: Html, homes: readonly HomeChoice[], error: Html | string): Html {
  return html`<section aria-labelledby="m-home"><h2 id="m-home">${t(lang, { zh: '用其他地区平台账号登录', en: 'Log in with your home platform' })}</h2>
${error}
<p class="hint">${t(lang, { zh: '已在其他地区（国家、省、市）政务服务平台注册的，可直接用该账户登录，无需在本平台重新注册。', en: 'Registered on another region\'s (national, provincial, municipal) government service platform? Log in with that account; no need to register here again.' })}</p>
<form method="post" action="${action}/home" id="home-form">
  ${hidden}
  <label for="home-platform">${t(lang, { zh: '您注册的平台', en: 'Your home platform' })}</label>
  <select id="home-platform" name="platform">
    <option value="">${t(lang, { zh: '按身份证号码查找', en: 'Find it from my ID number' })}</option>
    ${homes.map((h) => html`<option value="${h.entityId}">${h.name} (${TIER_NAME[h.tier] ? t(lang, TIER_NAME[h.tier]!) : h.tier}${h.region ? ` · ${h.region}` : ''})</option>`)}
  </select>
  <label for="home-hint">${t(lang, { zh: '或填写身份证号码（仅用于查找注册地平台）', en: 'or your ID number (used only to find your home platform)' })}</label>
  <input type="text" id="home-hint" name="hint" maxlength="18" autocomplete="off" inputmode="text">
  <button type="submit" class="secondary">${t(lang, { zh: '前往注册平台登录', en: 'Log in at my home platform' })}</button>
</form></section>`;
}

export interface LoginPageOptions extends LoginPageState {
  lang: Lang;
  uid: string;
  csrf: string;
  clientName: string;
  upstreams?: readonly UpstreamSummary[];
  homes?: readonly HomeChoice[];
  /** A hybrid city (R-ID-12): people log in at this province; only agency staff log in here. */
  superior?: { name: string | null };
}

/** The login-name and password form of the login pages (POST `<interaction>/login`). */
function passwordForm(lang: Lang, action: string, hidden: Html, o: { login: string | undefined; focus: boolean; label: Text; secondary?: boolean }): Html {
  return html`<form method="post" action="${action}/login" autocomplete="on">
  ${hidden}
  <label for="login">${t(lang, o.label)}</label>
  <input type="text" id="login" name="login" value="${o.login ?? ''}" autocomplete="username" required${o.focus ? html` autofocus` : ''}>
  <label for="password">${t(lang, { zh: '密码', en: 'Password' })}</label>
  <input type="password" id="password" name="password" autocomplete="current-password" required>
  <button type="submit"${o.secondary ? html` class="secondary"` : ''}>${t(lang, { zh: '登录', en: 'Log in' })}</button>
</form>`;
}

/**
 * A hybrid city's login page (统分, R-ID-12): citizens and companies have their accounts at the
 * province, so the first way is the province's login; the city's agency staff keep their own
 * accounts here (username and password).
 */
function hybridLoginPage(o: LoginPageOptions & { superior: { name: string | null } }): string {
  const { lang } = o;
  const action = `/interaction/${encodeURIComponent(o.uid)}`;
  // An error without a method comes from the staff form (password, SMS or QR first factors).
  const method = o.method ?? (o.error ? 'pwd' : 'superior');
  const errorFor = (m: string) => (method === m ? maybeError(lang, o.error) : '');
  const hidden = html`<input type="hidden" name="${CSRF_FIELD}" value="${o.csrf}">`;
  const province = o.superior.name ?? t(lang, { zh: '省级平台', en: 'the provincial platform' });
  return page({
    lang, path: action, title: t(lang, { zh: '登录', en: 'Log in' }),
    body: html`
<p>${t(lang, { zh: `登录以继续访问「${o.clientName}」`, en: `Log in to continue to “${o.clientName}”` })}</p>
<section aria-labelledby="m-superior"><h2 id="m-superior">${t(lang, { zh: '个人和法人用户', en: 'Citizens and companies' })}</h2>
${errorFor('superior')}
<p class="hint">${t(lang, { zh: `本市使用「${province}」的统一账户：请在省级平台登录或注册，其他地区平台的账户也可在那里使用。`, en: `This city uses the accounts of “${province}”: log in or register there; accounts of other regions' platforms work there too.` })}</p>
<form method="post" action="${action}/superior" id="superior-form">
  ${hidden}
  <button type="submit"${method === 'superior' ? html` autofocus` : ''}>${t(lang, { zh: '前往省级平台登录', en: 'Log in at the provincial platform' })}</button>
</form></section>
<section aria-labelledby="m-pwd"><h2 id="m-pwd">${t(lang, { zh: '本市工作人员登录', en: 'Agency staff of this city' })}</h2>
${errorFor('pwd')}
${passwordForm(lang, action, hidden, { login: o.login, focus: method === 'pwd', label: { zh: '用户名', en: 'Username' }, secondary: true })}</section>
<form method="post" action="${action}/abort">
  ${hidden}
  <button type="submit" class="secondary">${t(lang, { zh: '取消', en: 'Cancel' })}</button>
</form>`,
  });
}

export function loginPage(o: LoginPageOptions): string {
  if (o.superior) return hybridLoginPage({ ...o, superior: o.superior });
  const { lang } = o;
  const action = `/interaction/${encodeURIComponent(o.uid)}`;
  const method = o.method ?? 'pwd';
  const errorFor = (m: string) => (method === m ? maybeError(lang, o.error) : '');
  const hidden = html`<input type="hidden" name="${CSRF_FIELD}" value="${o.csrf}">`;
  return page({
    lang, path: action, title: t(lang, { zh: '登录', en: 'Log in' }),
    body: html`
<p>${t(lang, { zh: `登录以继续访问「${o.clientName}」`, en: `Log in to continue to “${o.clientName}”` })}</p>
<section aria-labelledby="m-pwd"><h2 id="m-pwd">${t(lang, { zh: '账号登录', en: 'With your login name' })}</h2>
${errorFor('pwd')}
${passwordForm(lang, action, hidden, { login: o.login, focus: method === 'pwd', label: { zh: '身份证号码、手机号码或用户名', en: 'ID number, mobile number or username' } })}
<p class="hint"><a href="/recover">${t(lang, { zh: '忘记密码？', en: 'Forgot your password?' })}</a></p></section>
<section aria-labelledby="m-sms"><h2 id="m-sms">${t(lang, { zh: '手机短信登录', en: 'With a code by SMS' })}</h2>
${errorFor('sms')}
${o.smsSent && method === 'sms' && !o.error ? html`<p role="status">${t(lang, { zh: '如该号码已绑定账户，验证码已发送，5 分钟内有效。', en: 'If the number is bound to an account, a code has been sent (valid 5 minutes).' })}</p>` : ''}
<form method="post" action="${action}/sms/send">
  ${hidden}
  <label for="sms-mobile">${t(lang, { zh: '绑定的手机', en: 'Bound mobile' })}</label>
  <input type="tel" id="sms-mobile" name="mobile" value="${o.mobile ?? ''}" autocomplete="tel-national" maxlength="11" required${method === 'sms' && !o.smsSent ? html` autofocus` : ''}>
  <button type="submit" class="secondary">${t(lang, { zh: '获取验证码', en: 'Send me a code' })}</button>
</form>
${o.smsSent ? html`<form method="post" action="${action}/sms/verify">
  ${hidden}
  <input type="hidden" name="mobile" value="${o.mobile ?? ''}">
  <label for="sms-code">${t(lang, { zh: '短信中的 6 位数字', en: 'The 6-digit code from the SMS' })}</label>
  <input type="text" id="sms-code" name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required autofocus>
  <button type="submit">${t(lang, { zh: '验证并继续', en: 'Verify and continue' })}</button>
</form>` : ''}</section>
${o.qr ? html`<section aria-labelledby="m-qr"><h2 id="m-qr">${t(lang, { zh: '手机应用扫码', en: 'Scan with the mobile app' })}</h2>
${errorFor('qr')}
<img src="${o.qr.image}" width="180" height="180" alt="${t(lang, { zh: '扫码二维码，内容：', en: 'QR code for: ' })}${o.qr.url}" data-qr-url="${o.qr.url}">
<p class="hint" id="qr-status" role="status" aria-live="polite">${t(lang, { zh: `请用一网通办手机应用扫码并确认，二维码 ${Math.round(o.qr.expiresIn / 60)} 分钟内有效。`, en: `Scan with the Yiwang app and approve; the code is valid ${Math.round(o.qr.expiresIn / 60)} minutes.` })}</p>
<form method="post" action="${action}/qr/complete" id="qr-complete" data-poll="${action}/qr">
  ${hidden}
  <button type="submit" class="secondary">${t(lang, { zh: '已在手机上确认', en: 'I have approved on my phone' })}</button>
</form>
<script>${new Html(QR_POLL)}</script></section>` : ''}
${o.upstreams?.length || method === 'fed' ? html`<section aria-labelledby="m-fed"><h2 id="m-fed">${t(lang, { zh: '其他实名认证平台账户', en: 'With another real-name platform' })}</h2>
${errorFor('fed')}
<p class="hint">${t(lang, { zh: '用已实名认证的平台账户登录；本平台尚无账户的，确认后即可注册。', en: 'Log in with your verified account there; without an account here you can register with it in one step.' })}</p>
${platformLinks(lang, o.upstreams ?? [], (id) => `${action}/upstream/${encodeURIComponent(id)}`)}</section>` : ''}
${o.homes || method === 'home' ? homeSection(lang, action, hidden, o.homes ?? [], errorFor('home')) : ''}
<form method="post" action="${action}/abort">
  ${hidden}
  <button type="submit" class="secondary">${t(lang, { zh: '取消', en: 'Cancel' })}</button>
</form>
<p class="hint">${t(lang, { zh: '还没有账户？', en: 'No account yet?' })}
  <a href="/register?return=${encodeURIComponent(action)}">${t(lang, { zh: '实名注册', en: 'Register with your real name' })}</a></p>`,
  });
}

/** Polls the QR status (device-authorization style) and completes the login once approved. */
// Constant, so the Content-Security-Policy allows it by hash (kernel/csp.ts); the address is in data-poll.
const QR_POLL = inlineScript(`(function(){var u=document.getElementById('qr-complete').getAttribute('data-poll'),t=setInterval(function(){fetch(u,{credentials:'same-origin'}).then(function(r){return r.json()}).then(function(s){
if(s.status==='approved'){clearInterval(t);document.getElementById('qr-complete').submit();}
else if(s.status!=='pending'){clearInterval(t);document.getElementById('qr-status').textContent=document.documentElement.lang==='en'?'The QR code expired: reload the page.':'二维码已失效，请刷新页面。';}
}).catch(function(){})},2000);})();`);

/** `optional`: the level was asked voluntarily, so the user may go on at the level reached. */
export function stepUpPage(o: { lang: Lang; uid: string; csrf: string; level: number; optional: boolean; method: 'sms' | 'pwd'; sent: boolean; error?: PageError }): string {
  const { lang } = o;
  const action = `/interaction/${encodeURIComponent(o.uid)}`;
  const hidden = html`<input type="hidden" name="${CSRF_FIELD}" value="${o.csrf}">`;
  const second = o.method === 'sms'
    ? html`${o.sent ? html`<p role="status">${t(lang, { zh: '验证码已发送到您绑定的手机。', en: 'A code has been sent to your bound mobile.' })}</p>` : ''}
<form method="post" action="${action}/stepup/send">${hidden}<button type="submit" class="secondary">${t(lang, { zh: '发送验证码到绑定手机', en: 'Send a code to my bound mobile' })}</button></form>
<form method="post" action="${action}/stepup">${hidden}
  <label for="stepup-code">${t(lang, { zh: '短信中的 6 位数字', en: 'The 6-digit code from the SMS' })}</label>
  <input type="text" id="stepup-code" name="code" inputmode="numeric" maxlength="6" autocomplete="one-time-code" required autofocus>
  <button type="submit">${t(lang, { zh: '验证并继续', en: 'Verify and continue' })}</button></form>`
    : html`<form method="post" action="${action}/stepup">${hidden}
  <label for="stepup-password">${t(lang, { zh: '账户密码', en: 'Account password' })}</label>
  <input type="password" id="stepup-password" name="password" autocomplete="current-password" required autofocus>
  <button type="submit">${t(lang, { zh: '验证并继续', en: 'Verify and continue' })}</button></form>`;
  return page({
    lang, path: action, switchHref: null, title: t(lang, { zh: '加强身份验证', en: 'Confirm it is you' }),
    body: html`<p>${o.optional
      ? t(lang, { zh: `该应用希望认证等级达到 ${o.level} 级，请再完成一项验证，或以当前等级继续。`, en: `This application asks for assurance level ${o.level}: complete a second factor, or continue at your current level.` })
      : t(lang, { zh: `该应用要求认证等级 ${o.level} 级，请再完成一项验证。`, en: `This application requires assurance level ${o.level}: please complete a second factor.` })}</p>
${maybeError(lang, o.error)}${second}
${o.optional ? html`<form method="post" action="${action}/stepup/skip">${hidden}<button type="submit" class="secondary">${t(lang, { zh: '以当前等级继续', en: 'Continue at my current level' })}</button></form>` : ''}
<p class="hint"><a href="${action}?full=1">${t(lang, { zh: '使用其他账户登录', en: 'Log in with another account' })}</a></p>`,
  });
}

export function changePasswordPage(o: { lang: Lang; uid: string; csrf: string; error?: PageError }): string {
  const { lang } = o;
  const action = `/interaction/${encodeURIComponent(o.uid)}`;
  return page({
    lang, path: action, switchHref: null, title: t(lang, { zh: '请修改初始密码', en: 'Change your initial password' }),
    body: html`<p>${t(lang, { zh: '首次登录须将窗口发放的初始密码改为您自己的密码。', en: 'At first login, replace the initial password you were given at the counter with your own.' })}</p>
${maybeError(lang, o.error)}
<form method="post" action="${action}/password">
  <input type="hidden" name="${CSRF_FIELD}" value="${o.csrf}">
  <label for="new-password">${t(lang, { zh: '新密码', en: 'New password' })}</label>
  <input type="password" id="new-password" name="password" autocomplete="new-password" aria-describedby="pw-hint" required autofocus>
  <p class="hint" id="pw-hint">${t(lang, PASSWORD_HINT)}</p>
  <label for="new-password2">${t(lang, { zh: '再次输入新密码', en: 'Repeat the new password' })}</label>
  <input type="password" id="new-password2" name="password2" autocomplete="new-password" required>
  <button type="submit">${t(lang, { zh: '保存并继续', en: 'Save and continue' })}</button>
</form>`,
  });
}

const PASSWORD_HINT: Text = { zh: '至少 8 位，包含小写字母、大写字母、数字、符号中的至少三类。', en: 'At least 8 characters with 3 of: lower case, upper case, digits, symbols.' };

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

export interface RegisterValues { name?: string; idNumber?: string; mobile?: string; factorType?: string; factorValue?: string; factor2Type?: string; factor2Value?: string }

export function registerPage(o: { lang: Lang; csrf: string; returnTo?: string | undefined; values?: RegisterValues; error?: PageError; codeSent?: boolean; upstreams?: readonly UpstreamSummary[] }): string {
  const { lang } = o;
  const v = o.values ?? {};
  const options = FACTOR_TYPES.map((f) => html`<option value="${f}"${v.factorType === f ? html` selected` : ''}>${t(lang, FACTORS[f])}</option>`);
  const options2 = FACTOR_TYPES.map((f) => html`<option value="${f}"${v.factor2Type === f ? html` selected` : ''}>${t(lang, FACTORS[f])}</option>`);
  return page({
    lang, path: '/register', title: t(lang, { zh: '实名注册', en: 'Register' }),
    body: html`
${maybeError(lang, o.error)}
${o.upstreams?.length ? html`<section aria-labelledby="r-linked"><h2 id="r-linked">${t(lang, { zh: '关联注册', en: 'Register through a real-name platform' })}</h2>
<p class="hint">${t(lang, { zh: '已在以下平台实名认证的，可直接取用其核验的信息，同意服务协议即可完成注册。', en: 'Verified on one of these platforms already? Take the identity it verified and accept the agreement: nothing to type.' })}</p>
${platformLinks(lang, o.upstreams, (id) => (o.returnTo ? `${o.returnTo}/upstream/${encodeURIComponent(id)}` : `/register/link/${encodeURIComponent(id)}`))}</section>
<h2>${t(lang, { zh: '填写信息注册', en: 'Register by filling in the form' })}</h2>` : ''}
${o.codeSent ? html`<p class="notice" role="status">${t(lang, { zh: '验证码已发送到您的手机，5 分钟内有效。', en: 'A code was sent to your mobile; it is valid for 5 minutes.' })}</p>` : ''}
<form method="post" action="/register">
  <input type="hidden" name="${CSRF_FIELD}" value="${o.csrf}">
  ${o.returnTo ? html`<input type="hidden" name="return" value="${o.returnTo}">` : ''}
  <label for="name">${t(lang, { zh: '姓名', en: 'Full name' })}</label>
  <input type="text" id="name" name="name" value="${v.name ?? ''}" autocomplete="name" required autofocus>
  <label for="idNumber">${t(lang, { zh: '居民身份证号码', en: 'Resident ID number' })}</label>
  <input type="text" id="idNumber" name="idNumber" value="${v.idNumber ?? ''}" inputmode="text" maxlength="18" required>
  <label for="mobile">${t(lang, { zh: '手机号码', en: 'Mobile number' })}</label>
  <input type="tel" id="mobile" name="mobile" value="${v.mobile ?? ''}" autocomplete="tel-national" maxlength="11" required>
  <button type="submit" formaction="/register/code" formnovalidate class="secondary">${t(lang, { zh: '发送验证码', en: 'Send code' })}</button>
  <label for="mobileCode">${t(lang, { zh: '短信验证码', en: 'SMS code' })}</label>
  <input type="text" id="mobileCode" name="mobileCode" inputmode="numeric" maxlength="6" autocomplete="one-time-code" aria-describedby="code-hint">
  <p class="hint" id="code-hint">${t(lang, { zh: '证明手机号码为您本人持有：先发送验证码，再填写收到的 6 位数字。', en: 'Proves the mobile is yours: send the code, then enter the 6 digits you receive.' })}</p>
  <label for="factorType">${t(lang, { zh: '另一项身份要素', en: 'One more identity factor' })}</label>
  <select id="factorType" name="factorType" required>${options}</select>
  <label for="factorValue">${t(lang, { zh: '要素号码', en: 'Factor number' })}</label>
  <input type="text" id="factorValue" name="factorValue" value="${v.factorValue ?? ''}" required>
  <label for="factor2Type">${t(lang, { zh: '第二项身份要素（可选）', en: 'A further identity factor (optional)' })}</label>
  <select id="factor2Type" name="factor2Type"><option value="">${t(lang, { zh: '不提供', en: 'None' })}</option>${options2}</select>
  <label for="factor2Value">${t(lang, { zh: '第二项号码（可选）', en: 'Its number (optional)' })}</label>
  <input type="text" id="factor2Value" name="factor2Value" value="${v.factor2Value ?? ''}">
  <p class="hint">${t(lang, { zh: '手机号码和以上要素将与运营商、社保、银行等登记信息核验，至少两项须核验通过。', en: 'The mobile number and these factors are checked with the carrier, social security, banks etc.; at least two must be confirmed.' })}</p>
  <label for="password">${t(lang, { zh: '设置密码', en: 'Choose a password' })}</label>
  <input type="password" id="password" name="password" autocomplete="new-password" aria-describedby="pw-hint" required>
  <p class="hint" id="pw-hint">${t(lang, PASSWORD_HINT)}</p>
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
<p role="status">${t(lang, { zh: '您的账户已创建，身份要素已核验，认证等级为三级。', en: 'Your account has been created; your identity factors were verified, so its assurance level is 3.' })}</p>
${o.returnTo ? html`<p><a href="${o.returnTo}">${t(lang, { zh: '返回登录', en: 'Back to log in' })}</a></p>` : ''}
<p class="hint">${t(lang, { zh: '法定代表人可登录', en: 'A legal representative can log in to' })} <a href="/account">${t(lang, { zh: '我的账户', en: 'My account' })}</a> ${t(lang, { zh: '注册法人单位。', en: 'to register the company.' })}</p>`,
  });
}

export function errorPage(o: { lang: Lang; path: string; code: string; message: string }): string {
  return page({ lang: o.lang, path: o.path, title: t(o.lang, { zh: '出错了', en: 'Something went wrong' }), body: errorBox(o.code, localise(o.message, o.lang)) });
}

export const MESSAGES = {
  csrf: '表单已失效，请刷新页面后重试 / the form has expired; reload the page and try again',
  interactionGone: '登录请求已失效，请返回应用重新登录 / this login request has expired; go back to the application and start again',
} as const;

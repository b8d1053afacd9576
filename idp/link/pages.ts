/**
 * Pages of linked registration and linking (R-ID-3), zh-CN first with an English switch: the
 * agreement page showing what the platform vouched for (ID number masked, R-ID-11), the result
 * pages, and the account's linked platforms. Every form carries its CSRF token, every input a
 * label; platform buttons are plain links (GET), so keyboard use needs nothing special. Each
 * linked platform has its own remove button (a form), named after the platform.
 */
import { maskIdNumber, maskMobile } from '../../kernel/ids.ts';
import { AGREEMENT } from '../accounts/store.ts';
import { CSRF_FIELD } from '../web/csrf.ts';
import { errorBox, html, localise, notice, page, type Html, type Lang, type Notice } from '../web/html.ts';
import type { UpstreamIdentity } from './identity.ts';
import type { AccountLink } from './links.ts';
import type { UpstreamSummary } from './upstreams.ts';

type Text = Record<Lang, string>;
const t = (lang: Lang, x: Text) => x[lang];

const TIER: Record<string, Text> = {
  national: { zh: '国家级', en: 'national' }, provincial: { zh: '省级', en: 'provincial' }, municipal: { zh: '市级', en: 'municipal' },
};
const tier = (lang: Lang, v: string) => (TIER[v] ? t(lang, TIER[v]!) : v);

export type PageNotice = Notice;

/** How an account came to be linked to a platform (R-ID-3; R-ID-12 recognition from the home platform). */
const VIA: Record<AccountLink['via'], Text> = {
  registration: { zh: '通过其注册', en: 'registered through it' },
  link: { zh: '登录后关联', en: 'linked after login' },
  recognition: { zh: '注册地平台互认', en: 'recognised from your home platform' },
};

/** The platform buttons of the login and registration pages: links to `hrefOf(id)`. */
export function platformLinks(lang: Lang, upstreams: readonly UpstreamSummary[], hrefOf: (id: string) => string): Html | string {
  if (!upstreams.length) return '';
  return html`<ul class="platforms">${upstreams.map((u) => html`<li><a href="${hrefOf(u.id)}">${t(lang, u.name)}</a> <span class="hint">(${tier(lang, u.tier)} · ${u.region})</span></li>`)}</ul>`;
}

export function agreementPage(o: { lang: Lang; csrf: string; upstream: UpstreamSummary; identity: UpstreamIdentity; error?: PageNotice }): string {
  const { lang, identity: p } = o;
  const name = t(lang, o.upstream.name);
  return page({
    lang, path: '/register/link', title: t(lang, { zh: '关联注册', en: 'Register through a linked platform' }),
    body: html`${notice(lang, o.error)}
<p>${t(lang, { zh: `「${name}」已核验以下实名信息。确认无误并同意服务协议后即可完成注册，无需重新填写。`, en: `“${name}” has verified the identity below. Accept the service agreement to register with it; nothing needs typing again.` })}</p>
<dl>
  <dt>${t(lang, { zh: '姓名', en: 'Name' })}</dt><dd>${p.name}</dd>
  <dt>${t(lang, { zh: '身份证号码', en: 'ID number' })}</dt><dd>${maskIdNumber(p.idNumber)}</dd>
  ${p.mobile ? html`<dt>${t(lang, { zh: '手机号码（已核验）', en: 'Mobile (verified)' })}</dt><dd>${maskMobile(p.mobile)}</dd>` : ''}
  <dt>${t(lang, { zh: '核验平台', en: 'Verified by' })}</dt><dd>${name} <span class="hint">(${tier(lang, o.upstream.tier)} · ${o.upstream.region} · ${p.verifiedAt.slice(0, 10)})</span></dd>
  <dt>${t(lang, { zh: '认证等级', en: 'Assurance level' })}</dt><dd>L${p.level}</dd>
</dl>
<form method="post" action="/register/link">
  <input type="hidden" name="${CSRF_FIELD}" value="${o.csrf}">
  <label class="check" for="agreementVersion"><input type="checkbox" id="agreementVersion" name="agreementVersion" value="${AGREEMENT.version}" required autofocus>
    <span>${t(lang, { zh: `我已阅读并同意《${AGREEMENT.title.zh}》（${AGREEMENT.version} 版）`, en: `I have read and accept the ${AGREEMENT.title.en} (version ${AGREEMENT.version})` })}</span></label>
  <button type="submit">${t(lang, { zh: '同意并注册', en: 'Accept and register' })}</button>
</form>
<p class="hint"><a href="/register">${t(lang, { zh: '改为填写信息注册', en: 'Register by filling in the form instead' })}</a></p>`,
  });
}

export function registeredPage(o: { lang: Lang; upstream: UpstreamSummary; level: number }): string {
  const { lang } = o;
  const name = t(lang, o.upstream.name);
  return page({
    lang, path: '/register/link', switchHref: null, title: t(lang, { zh: '注册成功', en: 'Registered' }),
    body: html`<p role="status">${t(lang, { zh: `您的账户已创建，实名信息由「${name}」核验，认证等级为 ${o.level} 级。`, en: `Your account has been created with the identity “${name}” verified; its assurance level is ${o.level}.` })}</p>
<p>${t(lang, { zh: `以后可在登录页选择「${name}」登录；如需用密码登录，请通过“忘记密码”用已核验的手机设置密码。`, en: `From now on choose “${name}” on the login page; to log in with a password as well, set one through “Forgot your password?” with your verified mobile.` })}</p>
<p><a href="/account">${t(lang, { zh: '我的账户', en: 'My account' })}</a></p>`,
  });
}

/** A refusal on the way (callback or agreement), with what to do next. */
export function refusedPage(o: { lang: Lang; code: string; message: string; retry?: string }): string {
  const { lang } = o;
  const next = o.code === 'ACCOUNT_EXISTS'
    ? html`<p>${t(lang, { zh: '请用密码或短信验证码登录您已有的账户，再在“我的账户 › 关联平台”中关联该平台。', en: 'Log in to your existing account with its password or an SMS code, then link the platform from My account › Linked platforms.' })}</p>
<p><a href="/account/links">${t(lang, { zh: '登录并关联', en: 'Log in and link' })}</a></p>`
    : '';
  return page({
    lang, path: '/register', switchHref: null, title: t(lang, { zh: '未能完成', en: 'Could not complete' }),
    body: html`${errorBox(o.code, localise(o.message, lang))}${next}
${o.retry ? html`<p><a href="${o.retry}">${t(lang, { zh: '返回', en: 'Go back' })}</a></p>` : html`<p><a href="/register">${t(lang, { zh: '返回注册', en: 'Back to registration' })}</a></p>`}`,
  });
}

export function linksPage(o: { lang: Lang; csrf: string; links: AccountLink[]; upstreams: readonly UpstreamSummary[]; notice?: PageNotice }): string {
  const { lang } = o;
  const nameOf = (id: string) => { const u = o.upstreams.find((x) => x.id === id); return u ? t(lang, u.name) : id; };
  const linked = new Set(o.links.map((l) => l.upstream));
  const rows = o.links.map((l) => html`<li>${nameOf(l.upstream)} <span class="hint">(${tier(lang, l.tier)} · ${l.region} · L${l.level} ·
    ${t(lang, VIA[l.via])} · ${l.linkedAt.slice(0, 10)})</span>
    <form method="post" action="/account/links/${l.upstream}/remove" class="inline"><input type="hidden" name="${CSRF_FIELD}" value="${o.csrf}">
    <button type="submit" class="secondary">${t(lang, { zh: `解除与「${nameOf(l.upstream)}」的关联`, en: `Remove the link to “${nameOf(l.upstream)}”` })}</button></form></li>`);
  const available = o.upstreams.filter((u) => !linked.has(u.id));
  return page({
    lang, path: '/account/links', title: t(lang, { zh: '关联平台', en: 'Linked platforms' }),
    body: html`${notice(lang, o.notice)}
<p>${t(lang, { zh: '关联后，可用这些实名认证平台的账户登录本平台。', en: 'Once linked, you can log in here with your account on these real-name platforms.' })}</p>
<h2>${t(lang, { zh: '已关联', en: 'Linked' })}</h2>
${rows.length ? html`<ul>${rows}</ul>` : html`<p class="hint">${t(lang, { zh: '尚未关联任何平台。', en: 'No platform linked yet.' })}</p>`}
${available.length ? html`<h2>${t(lang, { zh: '关联新平台', en: 'Link a platform' })}</h2>
${available.map((u) => html`<form method="post" action="/account/links/${u.id}" class="inline"><input type="hidden" name="${CSRF_FIELD}" value="${o.csrf}">
  <button type="submit" class="secondary">${t(lang, { zh: `关联「${t('zh', u.name)}」`, en: `Link “${t('en', u.name)}”` })}</button></form>`)}` : ''}
<p><a href="/account">${t(lang, { zh: '返回我的账户', en: 'Back to my account' })}</a></p>`,
  });
}

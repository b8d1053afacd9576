/**
 * The company registration page (R-ID-4's online routes beside the registry comparison on the
 * account page): the electronic business licence, and the enterprise certificate in two steps
 * (a challenge to sign, with the openssl command that signs it; then certificate and signature).
 * zh-CN first with an English switch; every form carries its CSRF token, every input a label.
 */
import { AGREEMENT } from '../accounts/store.ts';
import { CSRF_FIELD } from '../web/csrf.ts';
import { html, notice, page, type Lang, type Notice } from '../web/html.ts';
import type { Company, CompanyRoute } from './companies.ts';

type Text = Record<Lang, string>;
const t = (lang: Lang, x: Text) => x[lang];
export type CompanyNotice = Notice;

const ROUTE: Record<CompanyRoute, Text> = {
  registry: { zh: '工商比对', en: 'business registry' },
  counter: { zh: '窗口', en: 'counter' },
  licence: { zh: '电子营业执照', en: 'electronic business licence' },
  certificate: { zh: '企业数字证书', en: 'enterprise certificate' },
};
export const routeLabel = (lang: Lang, r: CompanyRoute) => t(lang, ROUTE[r]);

/** The shell commands that sign `challenge` with the certificate's key (docs/identity-accounts.md). */
export function signCommands(challenge: string): string {
  return [
    `printf '%s' '${challenge}' > challenge.txt`,
    'openssl dgst -sha256 -sign enterprise-key.pem -out challenge.sig challenge.txt',
    'base64 -w0 challenge.sig',
  ].join('\n');
}

export function companiesPage(o: { lang: Lang; csrf: string; companies: Company[]; challenge?: { challenge: string; expiresIn: number }; notice?: CompanyNotice }): string {
  const { lang } = o;
  const hidden = html`<input type="hidden" name="${CSRF_FIELD}" value="${o.csrf}">`;
  const agreement = (id: string) => html`<label class="check" for="${id}"><input type="checkbox" id="${id}" name="agreementVersion" value="${AGREEMENT.version}" required>
    <span>${t(lang, { zh: `我是该单位的法定代表人，已阅读并同意《${AGREEMENT.title.zh}》`, en: `I am its legal representative and accept the ${AGREEMENT.title.en}` })}</span></label>`;
  const companies = o.companies.map((c) => html`<li>${c.name} <span class="hint">${c.creditCode} · ${routeLabel(lang, c.route)} · L${c.assuranceLevel}</span></li>`);
  const certificate = o.challenge
    ? html`<p>${t(lang, { zh: `请用企业数字证书的私钥对下面的挑战码签名（${Math.round(o.challenge.expiresIn / 60)} 分钟内有效，只能使用一次）：`, en: `Sign this challenge with the enterprise certificate's private key (valid ${Math.round(o.challenge.expiresIn / 60)} minutes, usable once):` })}</p>
<p><code id="challenge">${o.challenge.challenge}</code></p>
<p class="hint">${t(lang, { zh: '例如用 OpenSSL（私钥文件 enterprise-key.pem）：', en: 'For example with OpenSSL (private key in enterprise-key.pem):' })}</p>
<pre>${signCommands(o.challenge.challenge)}</pre>
<form method="post" action="/account/companies/certificate">${hidden}<input type="hidden" name="challenge" value="${o.challenge.challenge}">
  <label for="certificate">${t(lang, { zh: '企业数字证书（PEM，可附上级 CA 证书）', en: 'Enterprise certificate (PEM, CA certificates may follow)' })}</label>
  <textarea id="certificate" name="certificate" required spellcheck="false"></textarea>
  <label for="signature">${t(lang, { zh: '签名（base64）', en: 'Signature (base64)' })}</label>
  <textarea id="signature" name="signature" required spellcheck="false"></textarea>
  ${agreement('certAgreement')}
  <button type="submit">${t(lang, { zh: '验证证书并绑定单位', en: 'Verify the certificate and bind the company' })}</button>
</form>`
    : html`<form method="post" action="/account/companies/certificate/challenge">${hidden}
  <button type="submit" class="secondary">${t(lang, { zh: '获取挑战码', en: 'Get a challenge' })}</button></form>`;
  return page({
    lang, path: '/account/companies', title: t(lang, { zh: '法人单位注册', en: 'Register a company' }),
    body: html`${notice(lang, o.notice)}
<section aria-labelledby="h-mine"><h2 id="h-mine">${t(lang, { zh: '我的法人单位', en: 'My companies' })}</h2>
${companies.length ? html`<ul>${companies}</ul>` : html`<p class="hint">${t(lang, { zh: '尚无。', en: 'None yet.' })}</p>`}</section>
<section aria-labelledby="h-licence"><h2 id="h-licence">${t(lang, { zh: '电子营业执照', en: 'Electronic business licence' })}</h2>
<p class="hint">${t(lang, { zh: '粘贴电子营业执照（VC-JWT 文本或执照 JSON）。单位名称、代码和法定代表人取自执照，执照须载明您为法定代表人。', en: 'Paste the electronic business licence (its VC-JWT text or licence JSON). Name, code and legal representative are taken from it; it must name you.' })}</p>
<form method="post" action="/account/companies/licence">${hidden}
  <label for="licence">${t(lang, { zh: '电子营业执照', en: 'Electronic business licence' })}</label>
  <textarea id="licence" name="licence" required spellcheck="false"></textarea>
  ${agreement('licenceAgreement')}
  <button type="submit">${t(lang, { zh: '核验执照并注册', en: 'Verify the licence and register' })}</button>
</form></section>
<section aria-labelledby="h-cert"><h2 id="h-cert">${t(lang, { zh: '企业数字证书', en: 'Enterprise certificate' })}</h2>
<p class="hint">${t(lang, { zh: '由受信任的企业数字证书认证机构签发、载有统一社会信用代码的证书；已注册的本人单位可据此提升至五级。', en: 'A certificate from a trusted enterprise CA carrying the credit code; a company of yours registered already is raised to level 5.' })}</p>
${certificate}</section>
<p class="hint"><a href="/account">${t(lang, { zh: '返回我的账户（工商登记比对注册）', en: 'Back to my account (registration by business-registry comparison)' })}</a></p>`,
  });
}

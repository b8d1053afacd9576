/**
 * Natural-person self-registration, R-ID-1 (rules and verification in store.ts), limited to
 * IDP_REGISTER_PER_HOUR per source address (RATE_LIMITED).
 *
 *   GET  /register   the form (sets the double-submit CSRF cookie)
 *   POST /register   form post → success page, or the form again with the error;
 *                    JSON post (Content-Type: application/json) → 201 { id } or problem+json
 *   POST /register/code  send the SMS code proving the mobile (form: the form again, values kept;
 *                    JSON { mobile } → 202 { expiresIn, resendAfter })
 *
 * The mobile counts as a verified factor only with the carrier's confirmation AND the SMS code
 * (`mobileCode`, purpose 'register', idp/otp/otp.ts): possession, not only ownership on paper.
 * The code is checked after the registries confirmed the person, so a refused registration does
 * not use it up; wrong codes count towards OTP_TOO_MANY_ATTEMPTS.
 *
 * JSON posts need no CSRF token: a cross-site page cannot send `Content-Type: application/json`
 * without a CORS preflight, and this endpoint answers no preflight. Any other content type
 * (form, multipart, text/plain) must carry the token or gets 403.
 */
import type { KeyObject } from 'node:crypto';
import type { ParameterizedContext } from 'koa';
import type { Router } from '@koa/router';
import { koaBody } from 'koa-body';
import { AppError, isAppError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/log.ts';
import { isValidMobile } from '../../kernel/ids.ts';
import type { AccountStore } from './store.ts';
import type { OtpService } from '../otp/otp.ts';
import type { RateLimiter } from '../protect/guard.ts';
import { CSRF_FIELD, checkRegisterCsrf, registerCsrfToken } from '../web/csrf.ts';
import { pageLang } from '../web/html.ts';
import { MESSAGES, errorPage, registerPage as renderRegisterPage, registeredPage, type RegisterValues } from '../web/pages.ts';
import type { UpstreamSummary } from '../link/upstreams.ts';

const body = koaBody({ urlencoded: true, json: true, multipart: false, text: false, formLimit: '16kb', jsonLimit: '16kb' });

/** Only a path back into a login interaction on this server (never an open redirect). */
function safeReturn(v: unknown): string | undefined {
  return typeof v === 'string' && /^\/interaction\/[A-Za-z0-9_-]{1,64}$/.test(v) ? v : undefined;
}

/** What the form carried, to show it again (never the password or the code). */
function valuesOf(input: Record<string, unknown>): RegisterValues {
  const pick = (k: keyof RegisterValues) => (typeof input[k] === 'string' ? input[k] : undefined);
  return { name: pick('name'), idNumber: pick('idNumber'), mobile: pick('mobile'), factorType: pick('factorType'), factorValue: pick('factorValue'), factor2Type: pick('factor2Type'), factor2Value: pick('factor2Value') };
}

export function mountRegister(router: Router, d: {
  accounts: AccountStore; otp: OtpService; key: KeyObject; log: Logger; limiter: RateLimiter; perHour: number;
  /** Trusted real-name platforms offered for linked registration (R-ID-3, idp/link). */
  upstreams?: () => UpstreamSummary[];
}): void {
  const { accounts, key, log, otp } = d;
  const registerPage = (o: Omit<Parameters<typeof renderRegisterPage>[0], 'upstreams'>) => renderRegisterPage({ ...o, upstreams: d.upstreams?.() ?? [] });
  const codeOf = (input: Record<string, unknown>) => (typeof input.mobileCode === 'string' ? input.mobileCode.trim().slice(0, 6) : '');
  const proof = (input: Record<string, unknown>) => ({
    proveMobile: (mobile: string) => otp.verify('register', mobile, codeOf(input)),
  });
  const sendCode = async (ctx: ParameterizedContext, mobile: string) => {
    if (!isValidMobile(mobile)) throw new AppError('MOBILE_INVALID', '手机号码应为 11 位大陆手机号 / the mobile number must be an 11-digit mainland number', { fields: ['mobile'] });
    return otp.send('register', mobile, { source: ctx.ip });
  };
  /** Registrations per source address per hour (each asks the registries). */
  const limit = (ctx: ParameterizedContext) => d.limiter.hit('register', ctx.ip, d.perHour, 3600);

  const send = (ctx: ParameterizedContext, status: number, html: string) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('cache-control', 'no-store');
    ctx.body = html;
  };

  router.get('/register', (ctx) => {
    send(ctx, 200, registerPage({ lang: pageLang(ctx), csrf: registerCsrfToken(ctx, key), returnTo: safeReturn(ctx.query.return) }));
  });

  router.post('/register/code', body, async (ctx) => {
    const input = (ctx.request.body ?? {}) as Record<string, unknown>;
    const mobile = typeof input.mobile === 'string' ? input.mobile.replace(/[\s-]/g, '') : '';
    if (ctx.is('application/json')) {
      const r = await sendCode(ctx, mobile);
      ctx.status = 202;
      ctx.set('cache-control', 'no-store');
      ctx.body = { expiresIn: r.expiresIn, resendAfter: r.resendAfter };
      return;
    }
    const lang = pageLang(ctx);
    if (!checkRegisterCsrf(ctx, key, input[CSRF_FIELD])) {
      send(ctx, 403, errorPage({ lang, path: '/register', code: 'FORBIDDEN', message: MESSAGES.csrf }));
      return;
    }
    const values = valuesOf(input);
    try {
      await sendCode(ctx, mobile);
      send(ctx, 200, registerPage({ lang, csrf: registerCsrfToken(ctx, key), returnTo: safeReturn(input.return), values, codeSent: true }));
    } catch (e) {
      if (!isAppError(e)) throw e;
      send(ctx, e.status, registerPage({ lang, csrf: registerCsrfToken(ctx, key), returnTo: safeReturn(input.return), values, error: { code: e.code, message: e.message } }));
    }
  });

  router.post('/register', body, async (ctx) => {
    const input = (ctx.request.body ?? {}) as Record<string, unknown>;
    if (ctx.is('application/json')) {
      if (typeof ctx.request.body !== 'object' || ctx.request.body === null || Array.isArray(ctx.request.body)) {
        throw new AppError('BAD_INPUT', '请求体应为 JSON 对象 / the body must be a JSON object');
      }
      await limit(ctx);
      const { id } = await accounts.register(input, proof(input));
      log.info({ accountId: id }, 'person registered');
      ctx.status = 201;
      ctx.body = { id };
      return;
    }
    const lang = pageLang(ctx);
    if (!checkRegisterCsrf(ctx, key, input[CSRF_FIELD])) {
      send(ctx, 403, errorPage({ lang, path: '/register', code: 'FORBIDDEN', message: MESSAGES.csrf }));
      return;
    }
    const returnTo = safeReturn(input.return);
    try {
      await limit(ctx);
      const { id } = await accounts.register(input, proof(input));
      log.info({ accountId: id }, 'person registered');
      send(ctx, 201, registeredPage({ lang, returnTo }));
    } catch (e) {
      if (!isAppError(e)) throw e;
      send(ctx, e.status, registerPage({ lang, csrf: registerCsrfToken(ctx, key), returnTo, values: valuesOf(input), error: { code: e.code, message: e.message } }));
    }
  });
}

/**
 * The interaction pages oidc-provider sends the browser to (`/interaction/:uid`), R-ID-5, one
 * file per step:
 *
 *   GET  /interaction/:uid               start.ts            login form (password, SMS code, QR) or consent form
 *   POST /interaction/:uid/login         password-login.ts   ID number | mobile | staff username + password
 *   POST /interaction/:uid/sms/send      sms-login.ts        send a login code to a bound mobile
 *   POST /interaction/:uid/sms/verify    sms-login.ts        mobile + SMS code
 *   GET  /interaction/:uid/qr            qr-login.ts         QR login status (JSON, polled by the page)
 *   POST /interaction/:uid/qr/complete   qr-login.ts         finish a QR login the app approved (qr-codes.ts)
 *   GET  /interaction/:uid/upstream/:id  platform-login.ts   log in through a trusted real-name platform (R-ID-3, idp/link)
 *   GET  /interaction/:uid/linked        platform-login.ts   back from it (or from registering through it): finish the login
 *   POST /interaction/:uid/stepup/send   step-up.ts          send the step-up code to the account's bound mobile
 *   POST /interaction/:uid/stepup        step-up.ts          the second factor (SMS code, or the password after an SMS login)
 *   POST /interaction/:uid/stepup/skip   step-up.ts          go on at the level reached (only when the higher level was asked voluntarily)
 *   POST /interaction/:uid/password      change-password.ts  change the initial password at first login (R-ID-2)
 *   POST /interaction/:uid/confirm       consent.ts          consent: decision=approve | deny
 *   POST /interaction/:uid/abort         abort.ts            cancel the login (access_denied back to the client)
 *
 * What the steps share (the interaction and its CSRF check, the pages, the login half done and
 * the rules after a first factor) is context.ts; the acr policy the login prompt applies is
 * acr-policy.ts; the QR codes the mobile app approves are qr-codes.ts.
 */
import type { Router } from '@koa/router';
import { interactionContext, type InteractionDeps } from './context.ts';
import { mountStart } from './start.ts';
import { mountPasswordLogin } from './password-login.ts';
import { mountSmsLogin } from './sms-login.ts';
import { mountQrLogin } from './qr-login.ts';
import { mountPlatformLogin } from './platform-login.ts';
import { mountStepUp } from './step-up.ts';
import { mountChangePassword } from './change-password.ts';
import { mountConsent } from './consent.ts';
import { mountAbort } from './abort.ts';

export type { InteractionDeps } from './context.ts';

export function mountInteractions(router: Router, d: InteractionDeps): void {
  const x = interactionContext(d);
  mountStart(router, x);
  mountPasswordLogin(router, x);
  mountSmsLogin(router, x);
  mountQrLogin(router, x);
  mountPlatformLogin(router, x);
  mountStepUp(router, x);
  mountChangePassword(router, x);
  mountConsent(router, x);
  mountAbort(router, x);
}

/**
 * No secrets, codes or full ID numbers in the logs. Registration, password and
 * SMS logins, a refused login, a password reset and a counter registration run with logging at
 * `debug` into memory; none of the person's ID number, mobile, password or codes appears.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { DEMO_STAFF } from '../../kernel/demo.ts';
import { newCitizen } from '../../test/journey.ts';
import { BrowserFlow, callApi, loginWithPkce, registerPerson, startTestIdp, type TestIdp } from '../../test/support/oidc.ts';

let idp: TestIdp;
let text = '';
beforeAll(async () => {
  const sink = new Writable({ write(chunk, _enc, cb) { text += String(chunk); cb(); } });
  idp = await startTestIdp({ log: pino({ level: 'debug' }, sink), env: { IDP_OTP_RESEND_SECONDS: '0' } });
});
afterAll(async () => { await idp?.close(); });

test('logs.no-secrets', async () => {
  const c = newCitizen();
  await registerPerson(idp.issuer, c);
  await loginWithPkce({ issuer: idp.issuer, redirectUri: 'http://127.0.0.1:3000/callback', login: c.idNumber, password: c.password });
  const refused = await BrowserFlow.start(idp.issuer);
  await refused.submit('/login', { login: c.idNumber, password: 'Wrong#pass99' });
  const sms = await BrowserFlow.start(idp.issuer);
  await sms.submit('/sms/send', { mobile: c.mobile });
  const loginCode = await idp.lastCode(c.mobile, 'otp.login');
  await sms.submit('/sms/verify', { code: loginCode });
  await callApi(idp.issuer, 'POST', '/recover/code', { body: { login: c.idNumber } });
  const resetCode = await idp.lastCode(c.mobile, 'otp.reset');
  await callApi(idp.issuer, 'POST', '/recover/reset', { body: { login: c.idNumber, code: resetCode, password: 'Reset#2026pass' } });

  const receiver = DEMO_STAFF.find((s) => s.roles.includes('receiver'))!;
  const staff = (await loginWithPkce({ issuer: idp.issuer, redirectUri: 'http://127.0.0.1:3000/callback', login: receiver.username, password: receiver.password })).access_token;
  const d = newCitizen();
  const started = await callApi(idp.issuer, 'POST', '/counter/persons', { token: staff, body: { name: d.name, idNumber: d.idNumber, mobile: d.mobile } });
  const counterCode = await idp.lastCode(d.mobile, 'otp.counter');
  const activated = await callApi(idp.issuer, 'POST', `/counter/persons/${started.body.id}/activate`, { token: staff, body: { code: counterCode } });

  expect(text).toContain('login succeeded');
  expect(text).toContain('notice sent');
  for (const secret of [c.idNumber, c.mobile, c.password, 'Wrong#pass99', 'Reset#2026pass', loginCode, resetCode, d.idNumber, d.mobile, counterCode, activated.body.initialPassword, receiver.password]) {
    // Digits are matched as a whole number, so a code is not "found" inside a timestamp.
    const escaped = String(secret).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(text).not.toMatch(new RegExp(`(?<![0-9])${escaped}(?![0-9])`));
  }
});

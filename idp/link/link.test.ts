/**
 * R-ID-3 linked registration, with a second real IdP of this platform playing the national
 * platform (idp/link/testing.ts): registration by taking the identity it verified (agreement
 * only, ID number masked), what is recorded, logging in through it later, linking an existing
 * account after a normal login, our IdP releasing the full ID number only to a client marked as
 * a trusted real-name platform, and every refusal: an ID number known here, a platform not
 * configured or unreachable, an attribute not vouched for, a replayed, forged, foreign or
 * tampered callback (state, nonce, issuer), a denied consent, another person's identity.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createSecretKey } from 'node:crypto';
import { systemClock } from '../../kernel/clock.ts';
import { loadConfig } from '../../kernel/config.ts';
import { maskIdNumber } from '../../kernel/ids.ts';
import { newCitizen } from '../../test/journey.ts';
import {
  BrowserFlow, CookieJar, browserFetch, fetchUserInfoFor, pageErrorCode, parseForms, partnerCodeFlow, registerPerson,
} from '../../test/support/oidc.ts';
import { AGREEMENT, createAccountStore } from '../accounts.ts';
import { stateKey } from './flow.ts';
import { readIdentity } from './identity.ts';
import { NATIONAL, startPlatforms, throughPlatform, type Platforms } from './testing.ts';
import { loadUpstreams } from './upstreams.ts';

let p: Platforms;
beforeAll(async () => { p = await startPlatforms(); }, 60_000);
afterAll(async () => { await p?.close(); });

const cityUrl = (path: string) => new URL(path, p.city.issuer);
const count = async (table: string) => Number((await p.city.db.query<{ n: number }>(`select count(*)::int as n from idp.${table}`)).rows[0]!.n);
async function nationalPerson() {
  const c = newCitizen();
  await registerPerson(p.national.issuer, c);
  return c;
}
/** Accept the agreement on the page city shows. */
async function accept(jar: CookieJar, page: { url: URL; html: string }, fields: Record<string, string> = { agreementVersion: AGREEMENT.version }) {
  const f = parseForms(page.html).find((x) => x.action === '/register/link');
  if (!f) throw new Error(`no agreement form (${pageErrorCode(page.html) ?? 'no code'})`);
  const res = await browserFetch(jar, new URL(f.action, page.url), { form: { ...f.fields, ...fields } });
  return { status: res.status, location: res.headers.get('location'), html: await res.text() };
}

describe('link.register', () => {
  test('the national platform vouches; city shows it masked and, after the agreement only, creates the account with what was verified, by whom and when', async () => {
    const c = await nationalPerson();
    const jar = new CookieJar();
    const page = await throughPlatform(p, jar, cityUrl(`/register/link/${NATIONAL.id}`), { login: c.idNumber, password: c.password });
    expect(page).toMatchObject({ status: 200 });
    expect(page.url.pathname).toBe('/register/link');
    expect(page.html).toContain(maskIdNumber(c.idNumber));
    expect(page.html).not.toContain(c.idNumber);
    expect(page.html).toContain(c.name);
    const before = await count('accounts');
    // Nothing is created before the agreement is accepted.
    expect((await accept(jar, page, {})).status).toBe(400);
    expect(await count('accounts')).toBe(before);
    const done = await accept(jar, page);
    expect(done.status).toBe(201);
    const row = (await p.city.db.query<Record<string, any>>('select * from idp.accounts where id_number = $1', [c.idNumber])).rows[0]!;
    expect(row).toMatchObject({
      name: c.name, mobile: c.mobile, proofing: 'linked', assurance_level: 3, password_hash: null, agreement_version: AGREEMENT.version,
      registered_platform: 'hangzhou', registered_tier: 'municipal',
    });
    expect(row.factors).toEqual([
      { type: 'idNumber', last4: c.idNumber.slice(-4), verified: true, at: expect.any(String), source: `upstream:${NATIONAL.id}` },
      { type: 'mobile', last4: c.mobile.slice(-4), verified: true, at: expect.any(String), source: `upstream:${NATIONAL.id}` },
    ]);
    const link = (await p.city.db.query<Record<string, any>>('select * from idp.account_links where account_id = $1', [row.id])).rows[0]!;
    expect(link).toMatchObject({ upstream: NATIONAL.id, issuer: p.national.issuer, tier: 'national', region: '100000', level: 3, via: 'registration' });
    // The pending registration is used up.
    expect((await accept(jar, page)).html).toContain('LINK_STATE_INVALID');
  });
});

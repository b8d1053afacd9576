/**
 * Cookie settings: behind the TLS-terminating proxy (X-Forwarded-Proto:
 * https) every cookie the IdP sets is Secure and HttpOnly; the form CSRF cookies are
 * SameSite=Strict and limited to their path; the login cookies SameSite=Lax (they must survive
 * the redirect back from the relying party).
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import * as client from 'openid-client';
import { discoverClient, startTestIdp, type TestIdp } from '../../test/support/oidc.ts';

let idp: TestIdp;
beforeAll(async () => { idp = await startTestIdp({ seed: false, env: { TRUST_PROXY: 'true' } }); });
afterAll(async () => { await idp?.close(); });

const cookies = async (url: string) => {
  const res = await fetch(url, { headers: { 'x-forwarded-proto': 'https' }, redirect: 'manual' });
  await res.body?.cancel();
  return res.headers.getSetCookie();
};

test('cookies.secure', async () => {
  const register = await cookies(`${idp.issuer}/register`);
  const recover = await cookies(`${idp.issuer}/recover`);
  for (const [set, path] of [[register, '/register'], [recover, '/recover']] as const) {
    expect(set).toHaveLength(1);
    expect(set[0]).toMatch(/; path=([^;]+)/i);
    expect(set[0]).toContain(`path=${path}`);
    expect(set[0]!.toLowerCase()).toEqual(expect.stringContaining('samesite=strict'));
    expect(set[0]!.toLowerCase()).toEqual(expect.stringContaining('secure'));
    expect(set[0]!.toLowerCase()).toEqual(expect.stringContaining('httponly'));
  }
  const config = await discoverClient(idp.issuer);
  const auth = client.buildAuthorizationUrl(config, {
    redirect_uri: 'http://127.0.0.1:3000/callback', scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
  });
  const login = await cookies(auth.href);
  expect(login.length).toBeGreaterThan(0);
  for (const c of login) {
    expect(c.toLowerCase()).toEqual(expect.stringContaining('secure'));
    expect(c.toLowerCase()).toEqual(expect.stringContaining('httponly'));
    expect(c.toLowerCase()).toEqual(expect.stringContaining('samesite=lax'));
  }
});

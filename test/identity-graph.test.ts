/**
 * The identity subgraph through the real gateway (R-ID-8): `me` for a person,
 * delegation mutations, acting-for tokens (yw_acting_for at the token endpoint → `yw_act` in the
 * access token → `actingFor` at the subgraph), and the refusals: a revoked delegation, someone
 * else's delegation, anonymous mutations.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as client from 'openid-client';
import { decodeJwt } from 'jose';
import { loadConfig } from '../kernel/config.ts';
import { IDENTITY_HEADER, internalKey, operationHash, signIdentity, type Caller } from '../kernel/internal-auth.ts';
import { DEMO_STAFF } from '../kernel/demo.ts';
import { silentLogger } from '../kernel/log.ts';
import { systemClock } from '../kernel/clock.ts';
import { idNumberCheckDigit, maskIdNumber } from '../kernel/ids.ts';
import type { RunningService } from '../kernel/service.ts';
import { startGatewayService } from '../gateway/service.ts';
import { TEST_SECRET } from './support/infra.ts';
import { loginWithPkce, registerPerson, startTestIdp, type LoginResult, type TestIdp } from './support/oidc.ts';
import { creditCode, insertCompany } from './support/idp/companies.ts';

const GATEWAY = 'http://127.0.0.1:4000/graphql';
const REDIRECT = 'http://127.0.0.1:3000/callback';
const COMPANY = creditCode('91330106MA2C00000');
const ITEM = 'b0f7c1f2-0001-4000-8000-000000000001';

let idp: TestIdp;
let gateway: RunningService;
const people = {
  rep: { name: '郑法人', seq: '801', mobile: '13966660001' },
  p1: { name: '冯经办', seq: '802', mobile: '13966660002' },
  p2: { name: '陈转办', seq: '803', mobile: '13966660003' },
};
type Who = keyof typeof people;
const idNumberOf = (w: Who) => `33010619850505${people[w].seq}${idNumberCheckDigit(`33010619850505${people[w].seq}`)}`;
const PASSWORD = 'Identity#2026x';
const ids = {} as Record<Who, string>;
const logins = {} as Record<Who, LoginResult>;

async function gql(token: string | undefined, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return await res.json() as { data?: Record<string, any>; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

beforeAll(async () => {
  idp = await startTestIdp({ env: { GATEWAY_RESOURCE: GATEWAY, IDP_PORTAL_REDIRECT_URIS: REDIRECT } });
  const config = loadConfig({
    NODE_ENV: 'test', LOG_LEVEL: 'silent', IDP_ISSUER: idp.issuer, GATEWAY_RESOURCE: GATEWAY,
    YIWANG_INTERNAL_SECRET: TEST_SECRET, KEY_PASSPHRASE: TEST_SECRET, IDP_COOKIE_KEYS: 'test-cookie-key',
    IDENTITY_URL: `${idp.issuer}/graphql`,
  });
  gateway = await startGatewayService({ ...idp.deps, config, log: silentLogger(), clock: systemClock, internalKey: internalKey(TEST_SECRET) }, { port: 0 });
  for (const w of Object.keys(people) as Who[]) {
    ids[w] = (await registerPerson(idp.issuer, { name: people[w].name, idNumber: idNumberOf(w), mobile: people[w].mobile, password: PASSWORD })).id;
    logins[w] = await loginWithPkce({ issuer: idp.issuer, redirectUri: REDIRECT, resource: GATEWAY, login: people[w].mobile, password: PASSWORD });
  }
  await insertCompany(idp.db, COMPANY, ids.rep);
});
afterAll(async () => {
  await gateway?.close();
  await idp?.close();
});

const GRANT = `mutation($input: GrantDelegationInput!) { grantDelegation(input: $input) { id level status inForce scope granteeId companyName } }`;

describe('identity.me', () => {
  test('a person asks `me` through the gateway: kind, name, masked ID number, level, companies', async () => {
    const r = await gql(logins.rep.access_token, '{ me { id kind displayName maskedIdNumber assuranceLevel companies { creditCode name relation } delegations { id } } }');
    expect(r.errors).toBeUndefined();
    expect(r.data!.me).toEqual({
      id: ids.rep, kind: 'PERSON', displayName: people.rep.name, maskedIdNumber: maskIdNumber(idNumberOf('rep')), assuranceLevel: expect.any(Number),
      companies: [{ creditCode: COMPANY, name: '杭州示例科技有限公司', relation: 'LEGAL_REPRESENTATIVE' }], delegations: [],
    });
    expect(JSON.stringify(r)).not.toContain(idNumberOf('rep'));
  });

  test('anonymous: `me` is null, and delegation mutations are UNAUTHENTICATED', async () => {
    expect(await gql(undefined, '{ me { id } actingFor { company } }')).toEqual({ data: { me: null, actingFor: null } });
    const r = await gql(undefined, GRANT, { input: { company: COMPANY, granteeIdNumber: idNumberOf('p1'), granteeName: people.p1.name, scope: [ITEM], validUntil: '2099-01-01T00:00:00Z' } });
    expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('identity.delegation', () => {
  let level1: string;

  test('the legal representative grants; the grantee passes on; a wrong name finds nobody', async () => {
    const wrong = await gql(logins.rep.access_token, GRANT, { input: { company: COMPANY, granteeIdNumber: idNumberOf('p1'), granteeName: '别人', scope: [ITEM], validUntil: '2099-01-01T00:00:00Z' } });
    expect(wrong.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const r = await gql(logins.rep.access_token, GRANT, { input: { company: COMPANY, granteeIdNumber: idNumberOf('p1'), granteeName: people.p1.name, scope: [ITEM], validUntil: '2099-01-01T00:00:00Z' } });
    expect(r.data!.grantDelegation).toMatchObject({ level: 1, status: 'ACTIVE', inForce: true, granteeId: ids.p1, scope: [ITEM] });
    level1 = r.data!.grantDelegation.id;
    const wider = await gql(logins.p1.access_token, GRANT, { input: { company: COMPANY, granteeIdNumber: idNumberOf('p2'), granteeName: people.p2.name, scope: ['*'], validUntil: '2098-01-01T00:00:00Z' } });
    expect(wider.errors?.[0]?.extensions?.code).toBe('DELEGATION_INVALID');
    const passed = await gql(logins.p1.access_token, GRANT, { input: { company: COMPANY, granteeIdNumber: idNumberOf('p2'), granteeName: people.p2.name, scope: [ITEM], validUntil: '2098-01-01T00:00:00Z' } });
    expect(passed.data!.grantDelegation).toMatchObject({ level: 2, status: 'ACTIVE' });
    const me = await gql(logins.p1.access_token, '{ me { companies { creditCode relation } delegations { level granteeId } } }');
    expect(me.data!.me.companies).toEqual([{ creditCode: COMPANY, relation: 'DELEGATE' }]);
    expect(me.data!.me.delegations).toHaveLength(2);
  });

  test('acting for the company: the token says so and the subgraph sees company, scope and delegation', async () => {
    const refreshed = await client.refreshTokenGrant(logins.p1.config, logins.p1.refresh_token!, { yw_acting_for: level1 });
    logins.p1 = Object.assign(refreshed, { tokens: refreshed, config: logins.p1.config }) as LoginResult;
    expect(decodeJwt(refreshed.access_token).yw_act).toEqual({ company: COMPANY, scope: [ITEM], delegationId: level1, validUntil: '2099-01-01T00:00:00.000Z', changedAt: expect.any(Number) });
    const r = await gql(refreshed.access_token, '{ actingFor { company scope delegationId } me { id } }');
    expect(r.data).toEqual({ actingFor: { company: COMPANY, scope: [ITEM], delegationId: level1 }, me: { id: ids.p1 } });
    // Somebody else's delegation is refused at the token endpoint.
    await expect(client.refreshTokenGrant(logins.p2.config, logins.p2.refresh_token!, { yw_acting_for: level1 })).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  test('a request decided by the legal representative; a revoked delegation cascades and is refused', async () => {
    const req = await gql(logins.p2.access_token, 'mutation($i: RequestDelegationInput!) { requestDelegation(input: $i) { id status } }',
      { i: { company: COMPANY, scope: ['*'], validUntil: '2099-01-01T00:00:00Z' } });
    expect(req.data!.requestDelegation.status).toBe('REQUESTED');
    const own = await gql(logins.p2.access_token, 'mutation($id: ID!) { decideDelegation(id: $id, approve: true) { status } }', { id: req.data!.requestDelegation.id });
    expect(own.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const ok = await gql(logins.rep.access_token, 'mutation($id: ID!) { decideDelegation(id: $id, approve: false) { status } }', { id: req.data!.requestDelegation.id });
    expect(ok.data!.decideDelegation.status).toBe('REJECTED');

    const changed = await gql(logins.rep.access_token, 'mutation($id: ID!, $i: ChangeDelegationInput!) { changeDelegation(id: $id, input: $i) { validUntil } }',
      { id: level1, i: { validUntil: '2099-06-01T00:00:00Z' } });
    expect(changed.data!.changeDelegation.validUntil).toBe('2099-06-01T00:00:00.000Z');
    const revoked = await gql(logins.rep.access_token, 'mutation($id: ID!) { revokeDelegation(id: $id) }', { id: level1 });
    expect(revoked.data!.revokeDelegation).toHaveLength(2);
    await expect(client.refreshTokenGrant(logins.p1.config, logins.p1.refresh_token!, { yw_acting_for: level1 })).rejects.toMatchObject({ error: 'invalid_grant' });
    const me = await gql(logins.p2.access_token, '{ me { companies { creditCode } delegations { status inForce } } }');
    expect(me.data!.me.companies).toEqual([]);
    expect(me.data!.me.delegations.every((d: { inForce: boolean }) => !d.inForce)).toBe(true);
  });
});

describe('identity.visibility', () => {
  /** The subgraph as the gateway calls it for an entity reference (e.g. a case's applicant). */
  async function entity(caller: Caller, id: string) {
    const query = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Account { id displayName maskedIdNumber companies { creditCode } delegations { id } } } }';
    const variables = { r: [{ __typename: 'Account', id }] };
    const res = await fetch(new URL('/graphql', idp.issuer), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: await signIdentity(idp.deps.internalKey, caller, operationHash(query, variables)) },
      body: JSON.stringify({ query, variables }),
    });
    return await res.json() as { data?: { _entities: Array<Record<string, unknown> | null> }; errors?: Array<{ extensions?: { code?: string } }> };
  }

  test('staff see a person\'s name and masked ID number, not companies or delegations; other persons see nothing', async () => {
    const staff: Caller = { kind: 'staff', sub: DEMO_STAFF[0]!.id, name: DEMO_STAFF[0]!.name, agency: DEMO_STAFF[0]!.agencyCode, roles: [] };
    const seen = await entity(staff, ids.rep);
    expect(seen.data?._entities[0]).toEqual({ id: ids.rep, displayName: people.rep.name, maskedIdNumber: maskIdNumber(idNumberOf('rep')), companies: [], delegations: [] });
    const other = await entity({ kind: 'person', sub: ids.p2, name: people.p2.name }, ids.rep);
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const self = await entity({ kind: 'person', sub: ids.rep, name: people.rep.name }, ids.rep);
    expect(self.data?._entities[0]?.companies).toEqual([{ creditCode: COMPANY }]);
    // Without the gateway's assertion the subgraph refuses before GraphQL runs.
    const bare = await fetch(new URL('/graphql', idp.issuer), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ me { id } }' }) });
    expect(bare.status).toBe(401);
    expect(await bare.json()).toMatchObject({ code: 'GATEWAY_IDENTITY_REQUIRED' });
  });
});

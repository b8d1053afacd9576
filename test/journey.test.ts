/**
 * The first journey end to end: the whole platform in-process on free ports, real
 * PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set, openid-client as the front end.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../kernel/config.ts';
import { OffsetClock } from '../kernel/clock.ts';
import { internalKey } from '../kernel/internal-auth.ts';
import { silentLogger } from '../kernel/log.ts';
import type { Deps, RunningService } from '../kernel/service.ts';
import { DEMO_CITIZEN } from '../kernel/demo.ts';
import { startPlatform, type Platform } from '../bin/platform.ts';
import { startGatewayService } from '../gateway/service.ts';
import { readTrustBundle, verifyLicence } from '../seal/index.ts';
import { TEST_SECRET, testCache, testDb, type TestDb } from './support/infra.ts';
import { loginWithPkce, postRegistration, sentRegistrationCode, startTestIdp, type TestIdp } from './support/oidc.ts';
import { errorCode, eventually, gql, newCitizen, runJourney, type Endpoints, type JourneyResult } from './journey.ts';
import type { Cache } from '../kernel/cache.ts';
import { readSupergraph } from '../gateway/supergraph.ts';
import { startStockApolloGateway } from '../bench/support/apollo-gateway.ts';
import { withoutSecurityPurpose } from '../schema/compose.ts';

const run = promisify(execFile);
const NODE = join(process.cwd(), 'node_modules/.bin/node');

let db: TestDb;
let cache: Cache;
let platform: Platform;
let deps: Deps;
let e: Endpoints;
let journey: JourneyResult;
let trustBundle: string;
const clock = new OffsetClock();
const dataDir = mkdtempSync(join(tmpdir(), 'yiwang-journey-'));

beforeAll(async () => {
  db = await testDb();
  cache = await testCache();
  const config = loadConfig({
    NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, BIND_HOST: '127.0.0.1',
    IDP_PORTAL_REDIRECT_URIS: 'http://127.0.0.1:3000/callback',
    // The evaluation service's supervision loop runs often, so a ranking period is seen to end.
    EVALUATION_SCAN_MS: '200',
  });
  deps = {
    config,
    secrets: { internalSecret: TEST_SECRET, keyPassphrase: 'journey-key-passphrase-0123456789abcdef', cookieKeys: ['journey-cookie-key-0123456789abcdef'] },
    internalKey: internalKey(TEST_SECRET), db, cache, clock, log: silentLogger(),
  };
  platform = await startPlatform(deps, { ports: 'ephemeral', seed: true });
  e = {
    gateway: platform.services.gateway.url, issuer: platform.config.IDP_ISSUER, licence: platform.services.licence.url,
    resource: config.GATEWAY_RESOURCE, redirectUri: 'http://127.0.0.1:3000/callback',
  };
  journey = await runJourney(e, (mobile) => sentRegistrationCode(e.issuer, mobile));
  trustBundle = await (await fetch(`${e.licence}/trust-bundle.pem`)).text();
}, 180_000);

afterAll(async () => {
  await platform?.close();
  await cache?.close();
  await db?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('journey.happy-path', () => {
  test('one gateway query returns the case with its item, licence issued on approval (R-LI-2) and rating (R-EV-4)', () => {
    const c = journey.final;
    expect(c.caseNumber).toBe(journey.caseNumber);
    expect(c.status).toBe('COMPLETED');
    expect(c.applicantName).toBe(journey.citizen.name);
    expect(c.item.name).toBe('食品经营许可（新办）');
    expect(c.item.agency).toEqual({ name: '杭州市市场监督管理局', code: '11330100MB0000002W' });
    expect(c.item.satisfaction.count).toBeGreaterThanOrEqual(1);
    expect(c.licences).toHaveLength(1);
    expect(c.licences[0]).toMatchObject({ identifier: journey.licenceIdentifier, typeName: '食品经营许可证', holderName: journey.citizen.name, issuerName: '杭州市市场监督管理局' });
    expect(c.evaluation).toEqual({ level: 'VERY_SATISFIED', label: '非常满意' });
  });

  test('the licence verifies with the library against the published trust bundle', async () => {
    const r = await verifyLicence(journey.credential, { trustAnchorsPem: readTrustBundle(trustBundle) });
    expect(r.valid).toBe(true);
    if (!r.valid) return;
    expect(r.holder).toEqual({ name: journey.citizen.name, code: journey.citizen.idNumber });
    expect(r.issuer.code).toBe('11330100MB0000002W');
    expect(r.credential.credentialSubject.licence.identifier).toBe(journey.licenceIdentifier);
  });

  test('the licence verifies offline with the CLI (R-LI-4); a tampered copy fails with its reason code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'yiwang-cli-'));
    try {
      writeFileSync(join(dir, 'licence.jws'), journey.credential);
      writeFileSync(join(dir, 'root.pem'), trustBundle);
      // Strict by default: --online fetches (and verifies) the licence's status lists from the running licence service.
      const ok = await run(NODE, ['bin/yiwang.ts', 'verify', join(dir, 'licence.jws'), '--trust', join(dir, 'root.pem'), '--online', '--status-cache', join(dir, 'status')]);
      expect(ok.stdout).toContain(journey.citizen.name);
      expect(ok.stdout).toContain('checked: neither revoked nor suspended');
      expect(ok.stdout).toContain('杭州市市场监督管理局');

      const [h, p, s] = journey.credential.split('.') as [string, string, string];
      const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
      payload.credentialSubject.licence.holderName = '王五';
      writeFileSync(join(dir, 'tampered.jws'), `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`);
      const bad = await run(NODE, ['bin/yiwang.ts', 'verify', join(dir, 'tampered.jws'), '--trust', join(dir, 'root.pem')]).then(
        () => { throw new Error('tampered licence was accepted'); },
        (err: { code: number; stdout: string; stderr: string }) => err,
      );
      expect(bad.code).toBe(1);
      expect(`${bad.stdout}${bad.stderr}`).toContain('LICENCE_BAD_SIGNATURE');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('journey.command', () => {
  test('`npm run journey` (bin/journey/main.ts) walks a running platform to the end, reading the SMS code from its development sink', async () => {
    const gatewayPort = new URL(platform.services.gateway.url).port;
    const { stdout } = await run(NODE, ['bin/journey/main.ts'], {
      env: {
        ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, NOTIFY_SINK: 'dev',
        GATEWAY_PORT: gatewayPort, IDP_ISSUER: e.issuer, LICENCE_URL: `${e.licence}/graphql`,
        GATEWAY_RESOURCE: e.resource, IDP_PORTAL_REDIRECT_URIS: e.redirectUri,
      },
    });
    expect(stdout).toContain('1. registered citizen');
    expect(stdout).toMatch(/7\. licence \S+ \(食品经营许可证\) issued by 杭州市市场监督管理局/);
    expect(stdout).toContain('Journey complete.');
  }, 120_000);

  test('`npm run journey` without a running platform fails with a hint, exit code 1', async () => {
    const r = await run(NODE, ['bin/journey/main.ts'], {
      env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, IDP_ISSUER: 'http://127.0.0.1:9', GATEWAY_PORT: '9' },
    }).then(() => { throw new Error('the journey succeeded without a platform'); }, (err: { code: number; stderr: string }) => err);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Is the platform running (npm start)?');
  });
});

describe('journey.refusals', () => {
  const MY_CASES = '{ myCases { id status } }';

  test('a token from another issuer is refused (TOKEN_ISSUER)', async () => {
    let other: TestIdp | undefined;
    try {
      other = await startTestIdp({ seed: true, env: { GATEWAY_RESOURCE: e.resource } });
      const foreign = await loginWithPkce({ issuer: other.issuer, redirectUri: 'http://127.0.0.1:3000/callback', resource: e.resource, login: DEMO_CITIZEN.idNumber, password: DEMO_CITIZEN.password });
      const r = await gql(e.gateway, foreign.access_token, MY_CASES);
      expect(r.status).toBe(401);
      expect(errorCode(r)).toBe('TOKEN_ISSUER');
      expect(r.data ?? null).toBeNull();
    } finally {
      await other?.close();
    }
  });

  test('an expired token is refused (TOKEN_EXPIRED)', async () => {
    // A token of its own: the gateway briefly remembers refusals, and this one goes back in time.
    const token = (await loginWithPkce({ issuer: e.issuer, redirectUri: e.redirectUri, resource: e.resource, login: DEMO_CITIZEN.mobile, password: DEMO_CITIZEN.password })).access_token;
    expect(errorCode(await gql(e.gateway, token, MY_CASES))).toBeUndefined();
    try {
      clock.offsetMs = 11 * 60 * 1000; // access tokens live 10 minutes
      const r = await gql(e.gateway, token, MY_CASES);
      expect(r.status).toBe(401);
      expect(errorCode(r)).toBe('TOKEN_EXPIRED');
    } finally {
      clock.offsetMs = 0;
    }
  });

  test('a token for another resource is refused (TOKEN_AUDIENCE)', async () => {
    let other: RunningService | undefined;
    try {
      const config = { ...platform.config, GATEWAY_RESOURCE: 'http://127.0.0.1:4999/other-graph' };
      other = await startGatewayService({ ...deps, config }, { port: 0, host: '127.0.0.1' });
      const r = await gql(other.url, journey.citizenToken, MY_CASES);
      expect(r.status).toBe(401);
      expect(errorCode(r)).toBe('TOKEN_AUDIENCE');
    } finally {
      await other?.close();
    }
  });

  test('a citizen cannot approve a case (ROLE_REQUIRED); the case is unchanged', async () => {
    const c = newCitizen();
    await (await import('./support/oidc.ts')).registerPerson(e.issuer, c);
    const token = (await loginWithPkce({ issuer: e.issuer, redirectUri: e.redirectUri, resource: e.resource, login: c.mobile, password: c.password })).access_token;
    const submitted = await gql(e.gateway, token, 'mutation ($i: SubmitCaseInput!) { submitCase(input: $i) { id status } }', { i: { itemId: 'b0f7c1f2-0001-4000-8000-000000000002' } });
    const id = submitted.data!.submitCase.id as string;
    for (const m of ['acceptCase', 'approveCase']) {
      const r = await gql(e.gateway, token, `mutation ($id: ID!) { ${m}(id: $id) { id status } }`, { id });
      expect(errorCode(r)).toBe('ROLE_REQUIRED');
    }
    const after = await gql(e.gateway, token, 'query ($id: ID!) { case(id: $id) { status steps { action } } }', { id });
    expect(after.data!.case).toEqual({ status: 'SUBMITTED', steps: [{ action: 'submit' }] });
  });

  test('a direct subgraph call without the gateway identity is refused (GATEWAY_IDENTITY_REQUIRED)', async () => {
    for (const svc of ['item', 'case', 'licence', 'evaluation'] as const) {
      const res = await fetch(`${platform.services[svc].url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${journey.citizenToken}` },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(res.status).toBe(401);
      expect((await res.json() as { code: string }).code).toBe('GATEWAY_IDENTITY_REQUIRED');
    }
  });

  test('a second rating is refused (ALREADY_RATED); the first stands', async () => {
    const r = await gql(e.gateway, journey.citizenToken, 'mutation ($id: ID!) { rateCase(caseId: $id, level: VERY_DISSATISFIED, reason: "改评") { id } }', { id: journey.caseId });
    expect(errorCode(r)).toBe('ALREADY_RATED');
    const c = await gql(e.gateway, journey.citizenToken, 'query ($id: ID!) { case(id: $id) { evaluation { level } } }', { id: journey.caseId });
    expect((c.data as any).case.evaluation.level).toBe('VERY_SATISFIED');
  });

  test('an ID number with a wrong check digit is refused (R-ID-1: ID_NUMBER_INVALID); nothing is stored', async () => {
    const c = newCitizen();
    const wrong = c.idNumber.slice(0, 17) + (c.idNumber[17] === '0' ? '1' : '0');
    const before = await db.query<{ n: number }>('select count(*)::int as n from idp.accounts');
    const r = await postRegistration(e.issuer, { ...c, idNumber: wrong, factorType: 'socialSecurityCard', factorValue: 'B87654321', agreementVersion: (await import('../idp/accounts/store.ts')).AGREEMENT.version });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('ID_NUMBER_INVALID');
    const after = await db.query<{ n: number }>('select count(*)::int as n from idp.accounts');
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });
});

describe('journey.evaluation', () => {
  const FOOD_ITEM = 'b0f7c1f2-0001-4000-8000-000000000001';
  test('R-EV-1 through the gateway: a citizen complains about an item, the agency\'s decider answers, the public sees it masked with the agency\'s name', async () => {
    const sent = await gql(e.gateway, journey.citizenToken,
      'mutation ($i: ComplaintInput!) { submitComplaint(input: $i) { id status agency { code name } item { name } authorName } }',
      { i: { itemId: FOOD_ITEM, topic: 'EFFICIENCY', content: '办理时窗口要求重复提交材料', public: true } });
    expect(sent.errors).toBeUndefined();
    const c = (sent.data as any).submitComplaint;
    expect(c).toMatchObject({ status: 'OPEN', agency: { code: '11330100MB0000002W', name: '杭州市市场监督管理局' }, item: { name: '食品经营许可（新办）' }, authorName: journey.citizen.name });
    const queue = await gql(e.gateway, journey.deciderToken, '{ feedbackQueue(kind: COMPLAINT) { nodes { id content } } }');
    expect((queue.data as any).feedbackQueue.nodes.map((n: { id: string }) => n.id)).toContain(c.id);
    expect(errorCode(await gql(e.gateway, journey.citizenToken, 'mutation ($id: ID!) { answerFeedback(id: $id, answer: "自己答") { id } }', { id: c.id }))).toBe('FEEDBACK_NOT_FOUND');
    const answered = await gql(e.gateway, journey.deciderToken, 'mutation ($id: ID!) { answerFeedback(id: $id, answer: "已告知窗口一次性告知材料") { status } }', { id: c.id });
    expect((answered.data as any).answerFeedback.status).toBe('ANSWERED');
    const pub = await gql(e.gateway, null, '{ publicFeedback(kind: COMPLAINT) { nodes { id authorName answer agency { name } } } }');
    const shown = (pub.data as any).publicFeedback.nodes.find((n: { id: string }) => n.id === c.id);
    expect(shown).toEqual({ id: c.id, authorName: `${[...journey.citizen.name][0]}${'*'.repeat([...journey.citizen.name].length - 1)}`, answer: '已告知窗口一次性告知材料', agency: { name: '杭州市市场监督管理局' } });
  });

  test('R-EV-5 through the gateway: when a ranking period ends, the board ranks the agency of the journey\'s case, by name', async () => {
    try {
      clock.offsetMs = 31 * 60 * 1000; // the next 30-minute period has begun
      const board = await eventually('ranking board', async () => {
        const r = await gql(e.gateway, null, '{ rankingBoard { periodEnd entries { rank score cases satisfaction agency { code name ranking { rank } } } } }');
        const entries = (r.data as any)?.rankingBoard?.entries ?? [];
        return entries.find((x: { agency: { code: string } }) => x.agency.code === '11330100MB0000002W');
      });
      // The journey's cases (it runs as a command too) were rated very satisfied.
      expect(board).toMatchObject({ rank: 1, satisfaction: 5, agency: { name: '杭州市市场监督管理局', ranking: { rank: 1 } } });
      expect(board.cases).toBeGreaterThanOrEqual(1);
    } finally {
      clock.offsetMs = 0;
    }
  });
});

describe('journey.apollo-compat', () => {
  test('stock @apollo/gateway accepts the committed supergraph (SECURITY features as annotations) and answers the journey\'s queries as the gateway does', async () => {
    const s = platform.services;
    // Stock @apollo/gateway refuses SECURITY features it does not enforce; it gets them as plain annotations.
    const stock = await startStockApolloGateway(withoutSecurityPurpose(readSupergraph()), {
      item: `${s.item.url}/graphql`, case: `${s.case.url}/graphql`, licence: `${s.licence.url}/graphql`,
      evaluation: `${s.evaluation.url}/graphql`, identity: `${s.idp.url}/graphql`,
    }, deps.internalKey);
    try {
      const queries: Array<[string | null, string, Record<string, unknown>]> = [
        [null, 'query ($k: String) { items(keyword: $k) { id name agency { name } licenceType { name } satisfaction { count } } }', { k: '食品经营' }],
        [journey.citizenToken, '{ myCases { id status caseNumber item { name } } }', {}],
        [journey.citizenToken, `query ($id: ID!) { case(id: $id) {
          caseNumber status applicantName
          item { name implementationCode agency { name code } satisfaction { average count } }
          licences { identifier typeName holderName issuerName validFrom }
          evaluation { level label }
        } }`, { id: journey.caseId }],
      ];
      for (const [token, query, variables] of queries) {
        const ours = await gql(e.gateway, token, query, variables);
        const theirs = await gql(stock.url, token, query, variables);
        expect(ours.errors).toBeUndefined();
        expect(theirs).toEqual(ours);
      }
    } finally {
      await stock.close();
    }
  }, 60_000);
});

describe('journey.trusted-documents', () => {
  test('with GATEWAY_PERSISTED_ONLY the whole journey runs on the generated manifest; any other document is refused', async () => {
    const strict = await startGatewayService({
      ...deps, config: loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, GATEWAY_PERSISTED_ONLY: 'true',
        ITEM_URL: `${platform.services.item.url}/graphql`, CASE_URL: `${platform.services.case.url}/graphql`, LICENCE_URL: `${platform.services.licence.url}/graphql`,
        EVALUATION_URL: `${platform.services.evaluation.url}/graphql`, IDENTITY_URL: `${platform.services.idp.url}/graphql`,
        IDP_ISSUER: platform.config.IDP_ISSUER, GATEWAY_RESOURCE: platform.config.GATEWAY_RESOURCE }),
    }, { port: 0 });
    try {
      const again = await runJourney({ ...e, gateway: strict.url }, (mobile) => sentRegistrationCode(e.issuer, mobile));
      expect(again.final.status).toBe('COMPLETED');
      const r = await gql(strict.url, null, ['{ items', '{ id implementationCode } }'].join(' ')); // a document the sources never wrote
      expect(r.status).toBe(400);
      expect(errorCode(r)).toBe('PERSISTED_QUERY_ONLY');
    } finally {
      await strict.close();
    }
  }, 120_000);
});

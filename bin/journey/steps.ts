/**
 * The first user journey, as steps that run against any running platform: `npm run journey`
 * (./main.ts) drives a live `npm start`, and test/journey.test.ts drives one started in-process.
 *
 * A citizen registers and logs in (code + PKCE, openid-client as the front end), finds an item,
 * submits a case; staff of the item's agency log in, accept and approve; the licence is issued,
 * signed with the agency's seal, and verifies; the citizen rates the case; one gateway query
 * returns the case with its item, licence and evaluation.
 */
import { idNumberCheckDigit } from '../../kernel/ids.ts';
import { DEMO_ITEMS, DEMO_STAFF } from '../../kernel/demo.ts';
import { loginWithPkce } from './browser.ts';
import { registerCitizen, type CodeReader } from './register.ts';

export interface Endpoints {
  gateway: string;     // http://127.0.0.1:4000
  issuer: string;      // http://127.0.0.1:4100
  licence: string;     // http://127.0.0.1:4203
  resource: string;    // GATEWAY_RESOURCE
  redirectUri: string; // a redirect URI registered for yiwang-portal
}

export interface GqlResult<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

export async function gql<T = any>(gateway: string, token: string | null, query: string, variables: Record<string, unknown> = {}): Promise<GqlResult<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${gateway}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return { status: res.status, ...(await res.json() as object) };
}

/** Data or a thrown error naming the codes: for steps that must succeed. */
export async function gqlOk<T = any>(gateway: string, token: string | null, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const r = await gql<T>(gateway, token, query, variables);
  if (r.errors?.length || !r.data) throw new Error(`GraphQL failed (${r.status}): ${JSON.stringify(r.errors)}`);
  return r.data;
}

export function errorCode(r: GqlResult): string | undefined {
  return r.errors?.[0]?.extensions?.code;
}

export async function eventually<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** A fresh, valid resident ID number (GB 11643) and mobile number for a new test citizen. */
export function newCitizen(): { name: string; idNumber: string; mobile: string; password: string } {
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 10)).join('');
  const first17 = `330106${1970 + Math.floor(Math.random() * 30)}0${1 + Math.floor(Math.random() * 9)}1${Math.floor(Math.random() * 9)}${digits(3)}`;
  return { name: '李四', idNumber: first17 + idNumberCheckDigit(first17), mobile: `139${digits(8)}`, password: 'Journey#2026pass' };
}

export const FOOD_LICENCE_ITEM = DEMO_ITEMS[0]!;
export const staff = (role: 'acceptor' | 'decider') => DEMO_STAFF.find((s) => s.roles.includes(role))!;

export async function login(e: Endpoints, loginName: string, password: string): Promise<string> {
  const r = await loginWithPkce({ issuer: e.issuer, redirectUri: e.redirectUri, resource: e.resource, login: loginName, password });
  return r.access_token;
}

export interface JourneyResult {
  citizen: ReturnType<typeof newCitizen> & { id: string };
  citizenToken: string;
  acceptorToken: string;
  deciderToken: string;
  caseId: string;
  caseNumber: string;
  credential: string;
  licenceIdentifier: string;
  final: any;
}

const CASE_FIELDS = 'id caseNumber status version outcomeCode item { id name } steps { action status handlerName }';

export interface HandledCase { caseId: string; caseNumber: string; acceptorToken: string; deciderToken: string; credential: string; licenceIdentifier: string }

/**
 * A citizen's case from search to licence on one platform: find the food-business item, submit a
 * case, the agency's acceptor and decider (demo staff) accept and approve it, the licence is
 * issued into myLicences and the case completes. Steps are numbered from `first`.
 */
export async function caseToLicence(e: Endpoints, citizenToken: string, key: string, say: (line: string) => void, first = 3): Promise<HandledCase> {
  const n = (i: number) => first + i - 1;
  const items = await gqlOk(e.gateway, null, 'query ($k: String) { items(keyword: $k) { id name agency { name } licenceType { name } } }', { k: '食品经营' });
  const item = items.items.find((i: { id: string }) => i.id === FOOD_LICENCE_ITEM.id);
  if (!item) throw new Error('demo item not found through the gateway');
  say(`${n(1)}. found item 「${item.name}」 of ${item.agency.name} (anonymous search through the gateway)`);

  // The case service learns items from the item service's events: on a fresh start, wait for them.
  const submitted = await eventually('the case service to know the item', async () => {
    const r = await gql(e.gateway, citizenToken, `mutation ($input: SubmitCaseInput!) { submitCase(input: $input) { ${CASE_FIELDS} } }`,
      { input: { itemId: item.id, form: JSON.stringify({ shopName: '李四小吃店', address: '杭州市西湖区文三路1号' }), idempotencyKey: `journey-${key}` } });
    if (errorCode(r) === 'ITEM_NOT_FOUND') return null;
    if (r.errors?.length) throw new Error(JSON.stringify(r.errors));
    return r.data!.submitCase;
  });
  say(`${n(2)}. submitted case ${submitted.caseNumber} (${submitted.status})`);

  const acceptorToken = await login(e, staff('acceptor').username, staff('acceptor').password);
  const accepted = (await gqlOk(e.gateway, acceptorToken, `mutation ($id: ID!) { acceptCase(id: $id, opinion: "材料齐全，予以受理") { ${CASE_FIELDS} } }`, { id: submitted.id })).acceptCase;
  say(`${n(3)}. ${staff('acceptor').name} (acceptor) accepted it: ${accepted.status}`);
  const deciderToken = await login(e, staff('decider').username, staff('decider').password);
  const approved = (await gqlOk(e.gateway, deciderToken, `mutation ($id: ID!) { approveCase(id: $id, opinion: "准予许可") { ${CASE_FIELDS} } }`, { id: submitted.id })).approveCase;
  say(`${n(4)}. ${staff('decider').name} (decider) approved it: ${approved.status}`);

  // Issued by the licence service from the case's approval event; an event whose IdP lookup failed
  // for now is claimed again after 30 s (kernel/events.ts claimIdleMs), so a busy machine may take
  // one retry.
  const licence = await eventually('the licence to be issued', async () => {
    const d = await gqlOk(e.gateway, citizenToken, '{ myLicences { id identifier typeName holderName holderCodeMasked issuerName caseId credential } }');
    return d.myLicences.find((l: { caseId: string }) => l.caseId === submitted.id);
  }, 90_000);
  say(`${n(5)}. licence ${licence.identifier} (${licence.typeName}) issued by ${licence.issuerName}, in myLicences`);

  const completed = await eventually('the case to complete', async () => {
    const d = await gqlOk(e.gateway, citizenToken, `query ($id: ID!) { case(id: $id) { ${CASE_FIELDS} } }`, { id: submitted.id });
    return d.case?.status === 'COMPLETED' ? d.case : null;
  }, 90_000);
  say(`${n(6)}. case ${completed.caseNumber} is ${completed.status} (outcome ${completed.outcomeCode})`);

  return { caseId: submitted.id, caseNumber: submitted.caseNumber, acceptorToken, deciderToken, credential: licence.credential, licenceIdentifier: licence.identifier };
}

/** Run the journey; `codes` reads the registration SMS code the platform sent (./register.ts). */
export async function runJourney(e: Endpoints, codes: CodeReader, say: (line: string) => void = () => undefined): Promise<JourneyResult> {
  const c = newCitizen();
  const { id } = await registerCitizen(e.issuer, c, codes);
  say(`1. registered citizen ${c.name} (ID ${c.idNumber.slice(0, 6)}********${c.idNumber.slice(14)})`);
  const citizenToken = await login(e, c.idNumber, c.password);
  say('2. logged in with authorization code + PKCE; got a JWT access token for the gateway');

  const h = await caseToLicence(e, citizenToken, c.idNumber, say);
  const submitted = { id: h.caseId, caseNumber: h.caseNumber };
  const rated = (await gqlOk(e.gateway, citizenToken, 'mutation ($id: ID!) { rateCase(caseId: $id, level: VERY_SATISFIED) { id level label score gbCode } }', { id: submitted.id })).rateCase;
  say(`9. rated the case ${rated.label} (score ${rated.score}, GB/T 39046 code ${rated.gbCode})`);

  const final = (await gqlOk(e.gateway, citizenToken, `query ($id: ID!) { case(id: $id) {
      caseNumber status applicantName
      item { name implementationCode agency { name code } satisfaction { average count } }
      licences { identifier typeName holderName issuerName validFrom }
      evaluation { level label }
    } }`, { id: submitted.id })).case;
  say(`10. one gateway query returns the case with its item, licence and evaluation:\n${JSON.stringify(final, null, 2)}`);

  return {
    citizen: { ...c, id }, citizenToken, acceptorToken: h.acceptorToken, deciderToken: h.deciderToken, caseId: h.caseId, caseNumber: h.caseNumber,
    credential: h.credential, licenceIdentifier: h.licenceIdentifier, final,
  };
}

/**
 * seal.status: Bitstring Status List v1.0 — the bitstring encoding (≥ 131,072 entries, GZIP,
 * multibase base64url `u`, left-most bit first), the sealed status-list credential with ttl,
 * and verifyLicence checking a licence's entries against lists from a source, offline.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  bitAt, buildLicenceCredential, createVerifyCache, buildStatusListCredential, decodeList, emptyBitstring, encodeList, issueSealCertificate, issuerId,
  MIN_LIST_ENTRIES, setBit, signLicence, signStatusList, verifyLicence, type StatusEntry, type StatusPurpose,
} from './index.ts';
import { decodeJws, HANGZHOU_HRSS, HANGZHOU_SAMR, licenceFields, makeHierarchy, sealRaw, x5c, type Hierarchy } from './testing/hierarchy.ts';

const T0 = new Date('2026-03-01T00:00:00Z');
const TTL = 3600_000;
const BASE = 'https://licence.example.gov.cn/status/11330100MB0000002W';
const INDEX = 94567;
let h: Hierarchy;
let licence: string;

const entry = (purpose: StatusPurpose): StatusEntry => ({
  id: `${BASE}/${purpose}#${INDEX}`, type: 'BitstringStatusListEntry', statusPurpose: purpose, statusListIndex: String(INDEX), statusListCredential: `${BASE}/${purpose}`,
});

async function list(purpose: StatusPurpose, o: { set?: number[]; at?: Date; seal?: { privateKey: import('node:crypto').KeyObject; chainPem: string[] }; url?: string; issuerCode?: string } = {}) {
  const bits = emptyBitstring();
  for (const i of o.set ?? []) setBit(bits, i, true);
  const code = o.issuerCode ?? HANGZHOU_SAMR.code;
  const c = buildStatusListCredential({ url: o.url ?? `${BASE}/${purpose}`, issuer: { id: issuerId(code), name: 'x' }, purpose, bits, now: o.at ?? T0, ttlMs: TTL });
  return signStatusList(c, o.seal ?? { privateKey: h.seal.privateKey, chainPem: h.chain }, o.at ?? T0);
}

function source(lists: Partial<Record<StatusPurpose, string | null>>) {
  return { get: async (url: string) => (url.endsWith('/revocation') ? lists.revocation : lists.suspension) ?? null };
}

async function check(lists: Partial<Record<StatusPurpose, string | null>>, now = new Date(T0.getTime() + 60_000)) {
  const r = await verifyLicence(licence, { trustAnchorsPem: [h.root.certPem], now, statusLists: source(lists) });
  return r.valid ? 'VALID' : r.reason;
}

beforeAll(async () => {
  h = makeHierarchy(new Date('2026-01-01T00:00:00Z'));
  licence = await signLicence(buildLicenceCredential(licenceFields(), [entry('revocation'), entry('suspension')]), { privateKey: h.seal.privateKey, chainPem: h.chain }, T0);
});

describe('seal.status bitstring', () => {
  it('is at least 131,072 entries, GZIP + base64url with the multibase prefix u, index 0 the left-most bit', () => {
    const bits = emptyBitstring(10);
    expect(bits.length * 8).toBe(MIN_LIST_ENTRIES);
    setBit(bits, 0, true);
    setBit(bits, 9, true);
    expect([bits[0], bits[1]]).toEqual([0x80, 0x40]);
    const encoded = encodeList(bits);
    expect(encoded).toMatch(/^u[A-Za-z0-9_-]+$/);
    expect(gunzipSync(Buffer.from(encoded.slice(1), 'base64url')).equals(bits)).toBe(true);
    const back = decodeList(encoded)!;
    expect([bitAt(back, 0), bitAt(back, 1), bitAt(back, 9), bitAt(back, MIN_LIST_ENTRIES - 1)]).toEqual([true, false, true, false]);
    setBit(back, 9, false);
    expect(bitAt(back, 9)).toBe(false);
  });

  it('refuses a list without the prefix, not base64url, not GZIP, or shorter than 16 KB', () => {
    const small = `u${gzipSync(Buffer.alloc(100)).toString('base64url')}`;
    for (const bad of [encodeList(emptyBitstring()).slice(1), 'u!!!', `u${Buffer.from('plain').toString('base64url')}`, small, 42]) {
      expect(decodeList(bad)).toBeNull();
    }
  });
});

describe('seal.status list credential', () => {
  it('is a sealed VC: BitstringStatusListCredential, statusPurpose, encodedList, ttl, validUntil = validFrom + ttl', async () => {
    const { header, payload } = decodeJws(await list('revocation'));
    expect(header).toMatchObject({ typ: 'vc+jwt', alg: 'RS256' });
    expect(payload).toMatchObject({
      type: ['VerifiableCredential', 'BitstringStatusListCredential'], id: `${BASE}/revocation`, iss: issuerId(HANGZHOU_SAMR.code),
      validFrom: T0.toISOString(), validUntil: new Date(T0.getTime() + TTL).toISOString(),
      credentialSubject: { type: 'BitstringStatusList', statusPurpose: 'revocation', ttl: TTL, encodedList: expect.stringMatching(/^u/) },
    });
  });
});

describe('seal.status verify', () => {
  it('clear bits: valid; the revocation bit: LICENCE_REVOKED; the suspension bit: LICENCE_SUSPENDED', async () => {
    expect(await check({ revocation: await list('revocation'), suspension: await list('suspension') })).toBe('VALID');
    expect(await check({ revocation: await list('revocation', { set: [INDEX] }), suspension: await list('suspension') })).toBe('LICENCE_REVOKED');
    expect(await check({ revocation: await list('revocation', { set: [INDEX + 1, INDEX - 1] }), suspension: await list('suspension', { set: [INDEX] }) }))
      .toBe('LICENCE_SUSPENDED');
  });

  it('no list at hand, or a cached list past its validUntil (a replayed old list), is LICENCE_STATUS_UNAVAILABLE', async () => {
    expect(await check({ revocation: null, suspension: await list('suspension') })).toBe('LICENCE_STATUS_UNAVAILABLE');
    const lists = { revocation: await list('revocation'), suspension: await list('suspension') };
    expect(await check(lists, new Date(T0.getTime() + TTL - 1000))).toBe('VALID');
    expect(await check(lists, new Date(T0.getTime() + TTL))).toBe('LICENCE_STATUS_UNAVAILABLE');
  });

  it('a list of another agency, purpose or URL, a forged or foreign-rooted list is LICENCE_STATUS_LIST_INVALID', async () => {
    const ok = await list('suspension');
    const other = issueSealCertificate(h.ca, { agencyName: HANGZHOU_HRSS.name, agencyCode: HANGZHOU_HRSS.code, sealName: '章', now: new Date('2026-01-01T00:00:00Z') });
    const foreign = makeHierarchy(new Date('2026-01-01T00:00:00Z'));
    const { header, payload } = decodeJws(await list('revocation'));
    const cases = {
      'another agency': await list('revocation', { seal: { privateKey: other.privateKey, chainPem: [other.certPem, h.ca.certPem] }, issuerCode: HANGZHOU_HRSS.code }),
      'sealed by another agency, claiming ours': await list('revocation', { seal: { privateKey: other.privateKey, chainPem: [other.certPem, h.ca.certPem] } }),
      'the suspension list as revocation list': await list('suspension', { url: `${BASE}/revocation` }),
      'another list URL': await list('revocation', { url: `${BASE}/elsewhere` }),
      'foreign root': await list('revocation', { seal: { privateKey: foreign.seal.privateKey, chainPem: foreign.chain } }),
      'bits edited after sealing': `${b64(header)}.${b64({ ...payload, credentialSubject: { ...(payload.credentialSubject as object), encodedList: encodeList(emptyBitstring()) } })}.${(await list('revocation', { set: [INDEX] })).split('.')[2]}`,
      'encodedList too short': await sealRaw(header, { ...payload, credentialSubject: { ...(payload.credentialSubject as object), encodedList: 'uH4sIAAAAAAAAA2NgGAUjFQAAAP__' } }, h.seal.privateKey),
      'issued in the future': await list('revocation', { at: new Date(T0.getTime() + 3 * 3600_000) }),
      'not a status list': await sealRaw({ alg: 'RS256', typ: 'vc+jwt', x5c: x5c(h.chain) }, { ...payload, type: ['VerifiableCredential'] }, h.seal.privateKey),
    };
    for (const [what, jws] of Object.entries(cases)) {
      expect([what, await check({ revocation: jws, suspension: ok })]).toEqual([what, 'LICENCE_STATUS_LIST_INVALID']);
    }
  });

  it('a list\'s own JWT time claims are honoured: before its nbf it is not valid, at its exp it has expired (RFC 7519 §4.1.4, §4.1.5)', async () => {
    const ok = await list('suspension');
    const { header, payload } = decodeJws(await list('revocation'));
    const reseal = (p: Record<string, unknown>) => sealRaw(header, { ...payload, ...p }, h.seal.privateKey);
    const at = (ms: number) => Math.floor((T0.getTime() + ms) / 1000);
    expect(await check({ revocation: await reseal({ nbf: at(3 * 3600_000) }), suspension: ok })).toBe('LICENCE_STATUS_LIST_INVALID');
    expect(await check({ revocation: await reseal({ exp: at(30_000) }), suspension: ok })).toBe('LICENCE_STATUS_UNAVAILABLE');
    expect(await check({ revocation: await reseal({ exp: 'soon' }), suspension: ok })).toBe('LICENCE_STATUS_LIST_INVALID');
    expect(await check({ revocation: await reseal({ nbf: at(0), exp: at(TTL) }), suspension: ok })).toBe('VALID');
  });

  it('statusMissingAllowed: a list not at hand is reported as unchecked, an expired one still refused', async () => {
    const lists = { revocation: await list('revocation'), suspension: await list('suspension') };
    const opts = { trustAnchorsPem: [h.root.certPem], statusMissingAllowed: true };
    expect(await verifyLicence(licence, { ...opts, now: new Date(T0.getTime() + 60_000), statusLists: source({}) })).toMatchObject({ valid: true, statusChecked: false });
    expect(await verifyLicence(licence, { ...opts, now: new Date(T0.getTime() + 60_000), statusLists: source(lists) })).toMatchObject({ valid: true, statusChecked: true });
    expect(await verifyLicence(licence, { ...opts, now: new Date(T0.getTime() + TTL), statusLists: source(lists) })).toMatchObject({ valid: false, reason: 'LICENCE_STATUS_UNAVAILABLE' });
  });

  it('a verify cache reuses verified lists until they expire, and never across lists', async () => {
    const cache = createVerifyCache();
    const clear = { revocation: await list('revocation'), suspension: await list('suspension') };
    const at = new Date(T0.getTime() + 60_000);
    const run = (l: typeof clear, now = at) => verifyLicence(licence, { trustAnchorsPem: [h.root.certPem], now, statusLists: source(l), cache });
    expect((await run(clear)).valid).toBe(true);
    expect(cache.lists.size).toBe(2);
    expect((await run({ ...clear, revocation: await list('revocation', { set: [INDEX] }) }))).toMatchObject({ valid: false, reason: 'LICENCE_REVOKED' });
    expect(await run(clear, new Date(T0.getTime() + TTL))).toMatchObject({ valid: false, reason: 'LICENCE_STATUS_UNAVAILABLE' });
  });

  it('a verify cache never lets a chain validated under one bundle pass under another', async () => {
    const cache = createVerifyCache();
    const at = new Date(T0.getTime() + 60_000);
    expect((await verifyLicence(licence, { trustAnchorsPem: [h.root.certPem], now: at, cache })).valid).toBe(true);
    const foreign = makeHierarchy(new Date('2026-01-01T00:00:00Z'));
    expect(await verifyLicence(licence, { trustAnchorsPem: [foreign.root.certPem], now: at, cache })).toMatchObject({ valid: false, reason: 'LICENCE_UNKNOWN_ISSUER' });
  });

  it('without a source the status is not checked (the existing offline behaviour)', async () => {
    expect((await verifyLicence(licence, { trustAnchorsPem: [h.root.certPem], now: new Date(T0.getTime() + 60_000) })).valid).toBe(true);
  });
});

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

/**
 * seal.tamper: the corpus of tampering and misuse, one visible table: each
 * kind of attack or mistake, how it is made from a genuine licence, and the one reason code
 * verifyLicence must answer. Every case runs against the same genuine, timestamped licence
 * with revocation and suspension entries, checked with a trust bundle, a CRL and status lists.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { X509Certificate, type KeyObject } from 'node:crypto';
import {
  buildCrl, buildLicenceCredential, createVerifyCache, buildStatusListCredential, emptyBitstring, issueSealCertificate, issuerId, setBit, signLicence,
  signStatusList, verifyLicence, type StatusEntry, type StatusPurpose, type VerifyOptions,
} from './index.ts';
import { createTimestamper, messageImprint } from './timestamp/token.ts';
import {
  b64json, decodeJws, HANGZHOU_HRSS, HANGZHOU_SAMR, licenceFields, makeHierarchy, rsaKey, sealRaw, timestamperAt, x5c, type Hierarchy,
} from './testing/hierarchy.ts';

const ISSUED = new Date('2026-01-01T00:00:00Z');
const SIGNED = new Date('2026-03-01T09:30:00Z');
const CHECKED = new Date('2026-03-01T10:00:00Z');
const TTL = 3600_000;
const URL_BASE = 'https://licence.example.gov.cn/status/11330100MB0000002W';
const INDEX = 4242;

let h: Hierarchy;
let foreign: Hierarchy;
let good: string;
let lists: Record<StatusPurpose, string>;

const entries: StatusEntry[] = (['revocation', 'suspension'] as const).map((purpose) => ({
  id: `${URL_BASE}/${purpose}#${INDEX}`, type: 'BitstringStatusListEntry', statusPurpose: purpose, statusListIndex: String(INDEX), statusListCredential: `${URL_BASE}/${purpose}`,
}));

async function statusList(purpose: StatusPurpose, o: { set?: boolean; at?: Date; seal?: { privateKey: KeyObject; chainPem: string[] } } = {}) {
  const bits = emptyBitstring();
  if (o.set) setBit(bits, INDEX, true);
  const at = o.at ?? SIGNED;
  return signStatusList(buildStatusListCredential({ url: `${URL_BASE}/${purpose}`, issuer: { id: issuerId(HANGZHOU_SAMR.code), name: HANGZHOU_SAMR.name }, purpose, bits, now: at, ttlMs: TTL }),
    o.seal ?? { privateKey: h.seal.privateKey, chainPem: h.chain }, at);
}

const parts = (jws: string) => decodeJws(jws);
/** Re-seal a (changed) header and payload with the seal key, or another key. */
const reseal = (header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject = h.seal.privateKey) => sealRaw(header, payload, key);
/** Re-seal with a fresh platform timestamp at `at` over the new payload. */
async function resealStamped(payload: Record<string, unknown>, at: Date, o: { key?: KeyObject; chain?: string[] } = {}) {
  const tst = await timestamperAt(h, at)(messageImprint(b64json(payload)));
  return sealRaw({ alg: 'RS256', typ: 'vc+jwt', tst, x5c: x5c(o.chain ?? h.chain) }, payload, o.key ?? h.seal.privateKey);
}
const edit = (jws: string, f: (p: Record<string, unknown>) => Record<string, unknown>) => {
  const { header, payload, signature } = parts(jws);
  return `${b64json(header)}.${b64json(f(payload))}.${signature}`;
};
const editHeader = (jws: string, f: (hd: Record<string, unknown>) => Record<string, unknown>) => {
  const [, p, s] = jws.split('.');
  return `${b64json(f(parts(jws).header))}.${p}.${s}`;
};

/** The genuine payload with some credentialSubject.licence members replaced (gap B cases). */
const withLicence = (l: Record<string, unknown>) => {
  const p = parts(good).payload;
  const subject = p.credentialSubject as { id: string; licence: Record<string, unknown> };
  return { ...p, credentialSubject: { ...subject, licence: { ...subject.licence, ...l } } };
};
/** Same identifier with another (hence wrong) check character. */
const swapCheck = (id: string) => id.slice(0, -1) + (id.endsWith('0') ? '1' : '0');

interface Case { kind: string; make: () => Promise<string>; options?: () => Promise<Partial<VerifyOptions>>; reason: string }

const CORPUS: Case[] = [
  { kind: 'payload edit: holder name', make: async () => edit(good, (p) => ({ ...p, credentialSubject: { ...(p.credentialSubject as object), id: 'urn:x' } })), reason: 'LICENCE_BAD_SIGNATURE' },
  { kind: 'payload edit: validity extended', make: async () => edit(good, (p) => ({ ...p, validUntil: '2099-01-01T00:00:00.000Z' })), reason: 'LICENCE_BAD_SIGNATURE' },
  { kind: 'payload edit: status entries removed', make: async () => edit(good, (p) => { const { credentialStatus: _, ...rest } = p; void _; return rest; }), reason: 'LICENCE_BAD_SIGNATURE' },
  { kind: 'header swap: typ JWT', make: async () => editHeader(good, (hd) => ({ ...hd, typ: 'JWT' })), reason: 'LICENCE_MALFORMED' },
  { kind: 'alg none', make: async () => `${b64json({ alg: 'none', typ: 'vc+jwt' })}.${good.split('.')[1]}.`, reason: 'LICENCE_UNSIGNED' },
  { kind: 'signature stripped', make: async () => good.split('.').slice(0, 2).concat('').join('.'), reason: 'LICENCE_UNSIGNED' },
  { kind: 'alg changed RS256 → PS256', make: async () => editHeader(good, (hd) => ({ ...hd, alg: 'PS256' })), reason: 'LICENCE_BAD_SIGNATURE' },
  { kind: 'alg changed to HS256 (key confusion)', make: async () => editHeader(good, (hd) => ({ ...hd, alg: 'HS256' })), reason: 'LICENCE_MALFORMED' },
  { kind: 'crit header added', make: async () => editHeader(good, (hd) => ({ ...hd, crit: ['x'], x: 1 })), reason: 'LICENCE_MALFORMED' },
  { kind: 'jti differs from id', make: async () => reseal(parts(good).header, { ...parts(good).payload, jti: 'urn:other' }), reason: 'LICENCE_MALFORMED' },
  { kind: 'four parts', make: async () => `${good}.AAAA`, reason: 'LICENCE_MALFORMED' },
  // Gap B: identifiers that do not hold together, sealed and timestamped as if genuine.
  { kind: 'identifier check character wrong', make: async () => resealStamped(withLicence({ identifier: swapCheck(licenceFields().identifier) }), SIGNED), reason: 'LICENCE_MALFORMED' },
  { kind: 'identifier without the GB/T 36904 prefix', make: async () => resealStamped(withLicence({ identifier: licenceFields().identifier.replace('1.2.156.3005.2.', '1.2.156.3005.9.') }), SIGNED), reason: 'LICENCE_MALFORMED' },
  { kind: 'identifier names another licence type', make: async () => resealStamped(withLicence({ typeCode: '11100000MB0000010Q002' }), SIGNED), reason: 'LICENCE_MALFORMED' },
  { kind: 'identifier names another issuing agency', make: async () => resealStamped(withLicence({ issuerCode: HANGZHOU_HRSS.code }), SIGNED), reason: 'LICENCE_MALFORMED' },
  { kind: 'holder code neither ID number nor credit code', make: async () => resealStamped(withLicence({ holderCode: '330106199001011230' }), SIGNED), reason: 'LICENCE_MALFORMED' },
  { kind: 'legal representative named on a person\'s licence', make: async () => resealStamped(withLicence({ legalRepresentative: { name: '张三', idNumber: '33010619900101123X' } }), SIGNED), reason: 'LICENCE_MALFORMED' },
  { kind: 'truncated chain: seal certificate alone', make: async () => editHeader(good, (hd) => ({ ...hd, x5c: x5c([h.seal.certPem]) })), reason: 'LICENCE_UNKNOWN_ISSUER' },
  { kind: 'empty x5c', make: async () => editHeader(good, (hd) => ({ ...hd, x5c: [] })), reason: 'LICENCE_BROKEN_CHAIN' },
  { kind: 'x5c entry not a certificate', make: async () => editHeader(good, (hd) => ({ ...hd, x5c: [Buffer.from('junk').toString('base64')] })), reason: 'LICENCE_BROKEN_CHAIN' },
  { kind: 'chain reordered (CA first)', make: async () => editHeader(good, (hd) => ({ ...hd, x5c: x5c([h.ca.certPem, h.seal.certPem]) })), reason: 'LICENCE_WRONG_KEY_USAGE' },
  { kind: 'chain of a look-alike foreign root', make: async () => signLicence(buildLicenceCredential(licenceFields(), entries), { privateKey: foreign.seal.privateKey, chainPem: [...foreign.chain, foreign.root.certPem] }, SIGNED), reason: 'LICENCE_UNKNOWN_ISSUER' },
  { kind: 'x5c kept, signed with another key', make: async () => reseal(parts(good).header, parts(good).payload, rsaKey()), reason: 'LICENCE_BAD_SIGNATURE' },
  { kind: 'the provincial CA key signs a licence as a seal', make: async () => reseal({ ...parts(good).header, tst: undefined, x5c: x5c([h.ca.certPem]) }, parts(good).payload, h.ca.privateKey), reason: 'LICENCE_WRONG_KEY_USAGE' },
  {
    kind: 'sealed with another agency\'s seal', reason: 'LICENCE_ISSUER_MISMATCH',
    make: async () => {
      const other = issueSealCertificate(h.ca, { agencyName: HANGZHOU_HRSS.name, agencyCode: HANGZHOU_HRSS.code, sealName: '章', now: ISSUED });
      return resealStamped(parts(good).payload, SIGNED, { key: other.privateKey, chain: [other.certPem, h.ca.certPem] });
    },
  },
  // Every identity the verifier shows must be the seal certificate's: the agency's name as well as its code.
  {
    kind: 'issuer.name names another agency (same credit code, genuine seal)', reason: 'LICENCE_ISSUER_MISMATCH',
    make: async () => resealStamped({ ...parts(good).payload, issuer: { ...(parts(good).payload.issuer as object), name: HANGZHOU_HRSS.name } }, SIGNED),
  },
  { kind: 'licence.issuerName names another agency (genuine seal)', make: async () => resealStamped(withLicence({ issuerName: HANGZHOU_HRSS.name }), SIGNED), reason: 'LICENCE_ISSUER_MISMATCH' },
  // A name that renders as another: format characters (Unicode Cf) in a shown field.
  { kind: 'holder name with a bidi override and a zero-width space', make: async () => resealStamped(withLicence({ holderName: '\u202E三张\u200B' }), SIGNED), reason: 'LICENCE_MALFORMED' },
  { kind: 'licence number with a zero-width space', make: async () => resealStamped(withLicence({ number: 'JY1330100\u200B0000001' }), SIGNED), reason: 'LICENCE_MALFORMED' },
  // The chain cache must key each certificate exactly: one x5c element holding two joined with '|' is not the genuine chain.
  { kind: 'x5c elements joined into one with "|"', make: async () => reseal({ ...parts(good).header, x5c: [x5c(h.chain).join('|')] }, parts(good).payload), reason: 'LICENCE_BROKEN_CHAIN' },
  { kind: 'x5c elements nested in an array', make: async () => reseal({ ...parts(good).header, x5c: [x5c(h.chain)] }, parts(good).payload), reason: 'LICENCE_BROKEN_CHAIN' },
  // RFC 7519 §4.1.5: not before nbf.
  { kind: 'nbf a year ahead', make: async () => resealStamped({ ...parts(good).payload, nbf: Math.floor(CHECKED.getTime() / 1000) + 365 * 86_400 }, SIGNED), reason: 'LICENCE_NOT_YET_VALID' },
  { kind: 'nbf not a NumericDate', make: async () => resealStamped({ ...parts(good).payload, nbf: '2026-01-01' }, SIGNED), reason: 'LICENCE_MALFORMED' },
  { kind: 'nbf passed (valid)', make: async () => resealStamped({ ...parts(good).payload, nbf: Math.floor(SIGNED.getTime() / 1000) }, SIGNED), reason: 'VALID' },
  { kind: 'iss differs from issuer', make: async () => resealStamped({ ...parts(good).payload, iss: issuerId(HANGZHOU_HRSS.code) }, SIGNED), reason: 'LICENCE_ISSUER_MISMATCH' },
  {
    kind: 'seal certificate expired at signing time (timestamp after its end)', reason: 'LICENCE_CERT_NOT_VALID_AT_SIGNING',
    make: async () => {
      const short = issueSealCertificate(h.ca, { agencyName: HANGZHOU_SAMR.name, agencyCode: HANGZHOU_SAMR.code, sealName: '章', now: new Date('2025-01-01T00:00:00Z'), years: 1 });
      return resealStamped(parts(good).payload, SIGNED, { key: short.privateKey, chain: [short.certPem, h.ca.certPem] });
    },
  },
  {
    kind: 'seal certificate revoked (CRL)', make: async () => good, reason: 'LICENCE_CERT_REVOKED',
    options: async () => ({ crls: [buildCrl({ issuerCertPem: h.ca.certPem, issuerKey: h.ca.privateKey, thisUpdate: SIGNED, nextUpdate: CHECKED, crlNumber: 1,
      entries: [{ serialHex: new X509Certificate(h.seal.certPem).serialNumber, revokedAt: SIGNED, reason: 'keyCompromise' }] })] }),
  },
  {
    kind: 'CRL of another CA listing the serial does not count', make: async () => good, reason: 'VALID',
    options: async () => ({ crls: [buildCrl({ issuerCertPem: foreign.ca.certPem, issuerKey: foreign.ca.privateKey, thisUpdate: SIGNED, nextUpdate: CHECKED, crlNumber: 1,
      entries: [{ serialHex: new X509Certificate(h.seal.certPem).serialNumber, revokedAt: SIGNED, reason: 'keyCompromise' }] })] }),
  },
  { kind: 'licence revoked', make: async () => good, options: async () => ({ statusLists: source({ ...lists, revocation: await statusList('revocation', { set: true }) }) }), reason: 'LICENCE_REVOKED' },
  { kind: 'licence suspended', make: async () => good, options: async () => ({ statusLists: source({ ...lists, suspension: await statusList('suspension', { set: true }) }) }), reason: 'LICENCE_SUSPENDED' },
  {
    kind: 'replayed status list (an old copy past its validUntil)', make: async () => good, reason: 'LICENCE_STATUS_UNAVAILABLE',
    options: async () => ({ statusLists: source({ ...lists, revocation: await statusList('revocation', { at: new Date(CHECKED.getTime() - 2 * TTL) }) }) }),
  },
  {
    kind: 'status list sealed by another agency', make: async () => good, reason: 'LICENCE_STATUS_LIST_INVALID',
    options: async () => {
      const other = issueSealCertificate(h.ca, { agencyName: HANGZHOU_HRSS.name, agencyCode: HANGZHOU_HRSS.code, sealName: '章', now: ISSUED });
      return { statusLists: source({ ...lists, revocation: await statusList('revocation', { seal: { privateKey: other.privateKey, chainPem: [other.certPem, h.ca.certPem] } }) }) };
    },
  },
  { kind: 'no status list at hand offline', make: async () => good, options: async () => ({ statusLists: { get: async () => null } }), reason: 'LICENCE_STATUS_UNAVAILABLE' },
  { kind: 'licence expired', make: async () => good, options: async () => ({ now: new Date('2031-03-01T00:00:00Z'), statusLists: undefined }), reason: 'LICENCE_EXPIRED' },
  { kind: 'licence not yet valid', make: async () => resealStamped({ ...parts(good).payload, validFrom: '2026-04-01T00:00:00.000Z' }, SIGNED), reason: 'LICENCE_NOT_YET_VALID' },
  {
    kind: 'timestamp moved from another licence', reason: 'LICENCE_TIMESTAMP_INVALID',
    make: async () => {
      const other = await signLicence(buildLicenceCredential(licenceFields({ number: 'JY-OTHER' }), entries), { privateKey: h.seal.privateKey, chainPem: h.chain }, SIGNED,
        { timestamper: timestamperAt(h, SIGNED) });
      return reseal({ ...parts(good).header, tst: parts(other).header.tst }, parts(good).payload);
    },
  },
  {
    kind: 'timestamp made by a seal certificate, not the TSA', reason: 'LICENCE_TIMESTAMP_INVALID',
    make: async () => {
      const tst = await createTimestamper({ privateKey: h.seal.privateKey, chainPem: h.chain }, { now: () => SIGNED })(messageImprint(b64json(parts(good).payload)));
      return reseal({ ...parts(good).header, tst }, parts(good).payload);
    },
  },
  { kind: 'backdated iat with a fresh timestamp', make: async () => resealStamped({ ...parts(good).payload, iat: Math.floor(SIGNED.getTime() / 1000) - 86_400 }, SIGNED), reason: 'LICENCE_TIMESTAMP_INVALID' },
  {
    kind: 'no timestamp, seal certificate expired by now', reason: 'LICENCE_TIMESTAMP_REQUIRED',
    make: async () => reseal({ alg: 'RS256', typ: 'vc+jwt', x5c: x5c(h.chain) }, { ...parts(good).payload, credentialStatus: undefined }),
    options: async () => ({ now: new Date('2031-02-01T00:00:00Z'), statusLists: undefined }),
  },
];

function source(l: Record<StatusPurpose, string>) {
  return { get: async (url: string) => (url.endsWith('/revocation') ? l.revocation : l.suspension) };
}

beforeAll(async () => {
  h = makeHierarchy(ISSUED);
  foreign = makeHierarchy(ISSUED);
  good = await signLicence(buildLicenceCredential(licenceFields(), entries), { privateKey: h.seal.privateKey, chainPem: h.chain }, SIGNED, { timestamper: timestamperAt(h, SIGNED) });
  lists = { revocation: await statusList('revocation'), suspension: await statusList('suspension') };
});

describe('seal.tamper corpus', () => {
  it('has at least 20 kinds, each with its own expected outcome', () => {
    expect(CORPUS.filter((c) => c.reason !== 'VALID').length).toBeGreaterThanOrEqual(20);
    expect(new Set(CORPUS.map((c) => c.kind)).size).toBe(CORPUS.length);
  });

  it('the genuine licence is valid with the bundle, a CRL and the status lists', async () => {
    const r = await verifyLicence(good, { trustAnchorsPem: [h.root.certPem], now: CHECKED, statusLists: source(lists), crls: [] });
    expect(r).toMatchObject({ valid: true, timestamped: true });
  });

  it.each(CORPUS.map((c) => [c.kind, c] as const))('%s', async (_kind, c) => {
    const jws = await c.make();
    const options = c.options ? await c.options() : {};
    const r = await verifyLicence(jws, { trustAnchorsPem: [h.root.certPem], now: CHECKED, statusLists: source(lists), ...options });
    expect(r.valid ? 'VALID' : r.reason).toBe(c.reason);
    if (!r.valid) expect(r.message).toMatch(/[\u4e00-\u9fff]/);
  });

  // One cache shared by every case, after the genuine licence warmed it: caching chains, anchors
  // and verified status lists must never change a verdict.
  const shared = createVerifyCache();
  it.each(CORPUS.map((c) => [c.kind, c] as const))('with a shared verify cache: %s', async (_kind, c) => {
    await verifyLicence(good, { trustAnchorsPem: [h.root.certPem], now: CHECKED, statusLists: source(lists), cache: shared });
    const options = c.options ? await c.options() : {};
    const r = await verifyLicence(await c.make(), { trustAnchorsPem: [h.root.certPem], now: CHECKED, statusLists: source(lists), cache: shared, ...options });
    expect(r.valid ? 'VALID' : r.reason).toBe(c.reason);
  });
});

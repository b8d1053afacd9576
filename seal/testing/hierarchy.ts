/**
 * Test helpers: a full seal hierarchy made once per test file, licence fields from the demo
 * data, and ways to take a JWS apart and re-seal altered parts (the tampering cases).
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { CompactSign } from 'jose';
import { DEMO_AGENCIES, DEMO_CITIZEN, DEMO_LICENCE_TYPES } from '../../kernel/demo.ts';
import type { CertifiedKey } from '../certificates/types.ts';
import { createRootCa } from '../certificates/root.ts';
import { issueCa } from '../certificates/ca.ts';
import { issueSealCertificate } from '../certificates/seal.ts';
import { issueTsaCertificate } from '../certificates/tsa.ts';
import { ManualClock } from '../../kernel/clock.ts';
import { createTimestamper, type Timestamper } from '../timestamp/token.ts';
import type { LicenceFields } from '../licence/credential.ts';

export const HANGZHOU_SAMR = DEMO_AGENCIES[1];
export const HANGZHOU_HRSS = DEMO_AGENCIES[2];

export interface Hierarchy {
  root: CertifiedKey;
  ca: CertifiedKey;
  seal: CertifiedKey;
  /** Seal certificate then provincial CA (what signLicence gets). */
  chain: string[];
  /** The platform timestamp authority, under the root. */
  tsa: CertifiedKey;
}

/** A timestamper of the hierarchy's TSA whose time is `at` (a fixed clock). */
export function timestamperAt(h: Hierarchy, at: Date): Timestamper {
  return createTimestamper({ privateKey: h.tsa.privateKey, chainPem: [h.tsa.certPem] }, new ManualClock(at));
}

export function makeHierarchy(now: Date, rootName = '国家政务服务电子印章根CA'): Hierarchy {
  const root = createRootCa({ commonName: rootName, organization: '国家政务服务平台', now });
  const ca = issueCa(root, { commonName: '浙江省电子印章CA', organization: '浙江省政务服务平台', regionCode: '330000', now, pathLen: 0 });
  const seal = issueSealCertificate(ca, { agencyName: HANGZHOU_SAMR.name, agencyCode: HANGZHOU_SAMR.code, sealName: `${HANGZHOU_SAMR.name}电子证照专用章`, now });
  const tsa = issueTsaCertificate(root, { commonName: '国家政务服务平台时间戳服务', organization: '国家政务服务平台', now });
  return { root, ca, seal, chain: [seal.certPem, ca.certPem], tsa };
}

export function licenceFields(overrides: Partial<LicenceFields> = {}): LicenceFields {
  return {
    identifier: '1.2.156.3005.2.11100000MB0000010Q001.11330100MB0000002W.20260301000001.001.C',
    typeCode: DEMO_LICENCE_TYPES.foodBusiness.code,
    typeName: DEMO_LICENCE_TYPES.foodBusiness.name,
    number: 'JY13301000000001',
    holderId: DEMO_CITIZEN.id,
    holderName: DEMO_CITIZEN.name,
    holderCode: DEMO_CITIZEN.idNumber,
    issuerName: HANGZHOU_SAMR.name,
    issuerCode: HANGZHOU_SAMR.code,
    issueDate: '2026-03-01',
    validFrom: '2026-03-01T00:00:00Z',
    validUntil: '2031-03-01T00:00:00Z',
    jurisdiction: '330100',
    ...overrides,
  };
}

export const b64json = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

export function decodeJws(jws: string): { header: Record<string, unknown>; payload: Record<string, unknown>; signature: string } {
  const [h, p, s] = jws.split('.') as [string, string, string];
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>,
    signature: s,
  };
}

/** Seal any header and payload with any key (what a forger, or a careless signer, would do). */
export async function sealRaw(header: Record<string, unknown>, payload: unknown, key: KeyObject): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader(header as { alg: string })
    .sign(key);
}

export function rsaKey(bits = 2048): KeyObject {
  return generateKeyPairSync('rsa', { modulusLength: bits }).privateKey;
}

/** x5c entries (base64 DER) for PEM certificates. */
export function x5c(pems: string[]): string[] {
  return pems.map((p) => p.replace(/-----[A-Z ]+-----|\s/g, ''));
}

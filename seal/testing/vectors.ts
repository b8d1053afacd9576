/**
 * The fixed inputs of the known-answer vectors in seal/testdata/ (jose keeps its cookbook
 * vectors the same way). RSASSA-PKCS1-v1_5 is deterministic, so the same key, credential and
 * time always give the same JWS: the test re-seals and compares byte for byte.
 */
import type { LicenceFields } from '../licence/credential.ts';

/** When the vector hierarchy was made and the licence sealed. */
export const VECTOR_ISSUED_AT = new Date('2025-01-01T00:00:00Z');
export const VECTOR_SIGNED_AT = new Date('2025-01-02T03:04:05Z');

export const VECTOR_FIELDS: LicenceFields = {
  // Check character W per kernel/ids.ts formatLicenceId (GB/T 36904, MOD 37,36).
  identifier: '1.2.156.3005.2.11100000MB0000010Q001.11330100MB0000002W.20250102000001.001.W',
  typeCode: '11100000MB0000010Q001',
  typeName: '食品经营许可证',
  number: 'JY13301000000001',
  holderId: 'c1712e40-0000-4000-8000-000000000001',
  holderName: '张三',
  holderCode: '33010619900101123X',
  issuerName: '杭州市市场监督管理局',
  issuerCode: '11330100MB0000002W',
  issueDate: '2025-01-02',
  validFrom: '2025-01-02T00:00:00+08:00',
  validUntil: null,
  jurisdiction: '330100',
};

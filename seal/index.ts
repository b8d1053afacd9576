/**
 * Electronic seals and licences (R-LI-1..4): the certificate hierarchy (national root CA →
 * provincial CA → one seal certificate per agency), sealing licences as VC 2.0 JWS, and
 * verifying them offline against a trust bundle. The public API; everything else is internal.
 */
export type { CertifiedKey } from './certificates/types.ts';
export { createRootCa } from './certificates/root.ts';
export { issueCa } from './certificates/ca.ts';
export { issueSealCertificate } from './certificates/seal.ts';

export { encryptPrivateKey, decryptPrivateKey } from './keys/encrypt.ts';
export { createMemoryKeyStore } from './keys/store.ts';
export type { KeyStore } from './keys/store.ts';

export {
  buildLicenceCredential, credentialId, issuerId, holderSubjectId, VC_CONTEXT_V2, LICENCE_CREDENTIAL_TYPE,
} from './licence/credential.ts';
export type { LicenceFields, LicenceCredential, LicenceData } from './licence/credential.ts';
export { signLicence } from './licence/sign.ts';
export { verifyLicence } from './licence/verify.ts';
export type { VerifyResult, VerifyOptions } from './licence/verify.ts';

export { readTrustBundle } from './trust/bundle.ts';
export { describeCertificate } from './chain/describe.ts';
export type { CertificateDescription } from './chain/describe.ts';
export type { RevocationCheck } from './chain/revocation.ts';

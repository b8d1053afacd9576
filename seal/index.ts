/**
 * Electronic seals and licences (R-LI-1..4): the certificate hierarchy (national root CA →
 * provincial CA → one seal certificate per agency), sealing licences as VC 2.0 JWS, and
 * verifying them offline against a trust bundle. The public API; everything else is internal.
 */
export type { CertifiedKey } from './certificates/types.ts';
export { createRootCa } from './certificates/root.ts';
export { issueCa, certifyCaKey } from './certificates/ca.ts';
export type { CaCertificateOptions } from './certificates/ca.ts';
export { issueSealCertificate, certifySealKey } from './certificates/seal.ts';
export type { SealCertificateOptions } from './certificates/seal.ts';
export { issueTsaCertificate, certifyTsaKey } from './certificates/tsa.ts';
export type { TsaCertificateOptions } from './certificates/tsa.ts';

export { encryptPrivateKey, decryptPrivateKey } from './keys/encrypt.ts';
export { createMemoryKeyStore } from './keys/store.ts';
export type { KeyStore } from './keys/store.ts';
export { createFileKeyStore } from './keys/file-store.ts';

export {
  buildLicenceCredential, credentialId, issuerId, holderSubjectId, VC_CONTEXT_V2, LICENCE_CREDENTIAL_TYPE,
} from './licence/credential.ts';
export type { LicenceFields, LicenceCredential, LicenceData, LegalRepresentative } from './licence/credential.ts';
export type { StatusEntry, StatusPurpose } from './licence/credential.ts';
export { signLicence } from './licence/sign.ts';
export type { SignOptions } from './licence/sign.ts';
export type { Signer } from './licence/jws.ts';
export { verifyLicence, createVerifyCache } from './licence/verify.ts';
export type { VerifyResult, VerifyOptions, VerifyCache } from './licence/verify.ts';

export { createTimestamper, verifyTimestamp, TST_TYP } from './timestamp/token.ts';
export type { Timestamper } from './timestamp/token.ts';
export { MIN_LIST_ENTRIES, emptyBitstring, bitAt, setBit, encodeList, decodeList } from './status/bitstring.ts';
export { buildStatusListCredential, signStatusList, STATUS_LIST_CREDENTIAL_TYPE } from './status/list-credential.ts';
export type { StatusListCredential } from './status/list-credential.ts';
export { checkStatus, statusEntries } from './status/check.ts';
export type { StatusListSource } from './status/check.ts';
export { buildCrl, parseCrl, subjectDer, nameText, CRL_REASONS } from './x509/index.ts';
export type { CrlEntry, CrlReason, ParsedCrl, ParsedCrlEntry } from './x509/index.ts';
export { loadCrls, listedIn, crlSignedBy } from './trust/crl.ts';

export { readTrustBundle, loadAnchors } from './trust/bundle.ts';
export { verifyCertificateChain } from './chain/end-entity.ts';
export type { CertificateChainResult, CertificateChainOptions } from './chain/end-entity.ts';
export { OID_KP_CLIENT_AUTH, OID_KP_DOCUMENT_SIGNING } from './lib/oids.ts';
export { cachedStatusLists, refreshStatusLists } from './cli/status-cache.ts';
export { describeCertificate } from './chain/describe.ts';
export type { CertificateDescription } from './chain/describe.ts';
export type { RevocationCheck, RevocationRecord } from './chain/revocation.ts';
export { NON_COMPROMISE_REASONS, readInvalidityDate, reasonName, revocationCutOff } from './chain/revocation.ts';
export { acceptCertifiedChain, acceptCertifiedCa, samePublicKey } from './chain/accept.ts';
export type { AcceptedChain, CertifiedRole } from './chain/accept.ts';
export { buildCsr, readCsr, CsrSyntaxError } from './x509/index.ts';
export type { CertificateRequest } from './x509/index.ts';

// The command line on top of the library (bin/yiwang.ts dispatches to it), and the certificate
// reading the licence service shares with it.
export { runSeal } from './cli/seal.ts';
export { runVerify } from './cli/verify.ts';
export { loadCertificate, oneLineName } from './chain/certificate.ts';
export type { ChainCertificate } from './chain/certificate.ts';
export { readStatusList } from './status/check.ts';
export { fetchLimited } from './status/fetch.ts';

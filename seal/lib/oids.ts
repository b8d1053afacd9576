/**
 * Object identifiers the seal profile uses. Plain constants (no node-forge) so both the
 * certificate builder in x509/ and the path checks in chain/ read the same values.
 */

/** organizationIdentifier (X.520, ITU-T X.520 §6.4.4): carries the agency's GB 32100 credit code. */
export const OID_ORGANIZATION_IDENTIFIER = '2.5.4.97';
/** organizationName (X.520): the agency's name in a seal certificate. */
export const OID_ORGANIZATION_NAME = '2.5.4.10';
/** id-kp-documentSigning (RFC 9336 §3): the one extended key usage a seal certificate signs licences with. */
export const OID_KP_DOCUMENT_SIGNING = '1.3.6.1.5.5.7.3.36';

/** id-kp-clientAuth (RFC 5280 §4.2.1.12): what an enterprise certificate proves its holder with (R-ID-4). */
export const OID_KP_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** id-kp-timeStamping (RFC 3161 §2.3): the platform timestamp authority's one purpose. */
export const OID_KP_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';
/** cRLNumber (RFC 5280 §5.2.3) and reasonCode (§5.3.1). */
export const OID_CRL_NUMBER = '2.5.29.20';
export const OID_CRL_REASON = '2.5.29.21';
/** invalidityDate (RFC 5280 §5.3.2): a CRL entry's date the key was, or may have been, compromised. */
export const OID_INVALIDITY_DATE = '2.5.29.24';

export const OID_BASIC_CONSTRAINTS = '2.5.29.19';
export const OID_KEY_USAGE = '2.5.29.15';
export const OID_EXT_KEY_USAGE = '2.5.29.37';
export const OID_SUBJECT_KEY_IDENTIFIER = '2.5.29.14';
export const OID_AUTHORITY_KEY_IDENTIFIER = '2.5.29.35';

/**
 * Extensions the verifier understands. RFC 5280 §4.2: a certificate carrying a critical
 * extension outside this set must be rejected.
 */
export const UNDERSTOOD_EXTENSIONS: ReadonlySet<string> = new Set([
  OID_BASIC_CONSTRAINTS,
  OID_KEY_USAGE,
  OID_EXT_KEY_USAGE,
  OID_SUBJECT_KEY_IDENTIFIER,
  OID_AUTHORITY_KEY_IDENTIFIER,
  '2.5.29.17', // subjectAltName
  '2.5.29.31', // cRLDistributionPoints
  '1.3.6.1.5.5.7.1.1', // authorityInfoAccess
]);

/**
 * Certificate signature algorithms accepted in a chain. SHA-1 and MD5 are refused: node-forge
 * signs with SHA-1 unless told otherwise, so a certificate made carelessly must not pass.
 */
export const ACCEPTED_SIGNATURE_ALGORITHMS: ReadonlySet<string> = new Set([
  '1.2.840.113549.1.1.11', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12', // sha384WithRSAEncryption
  '1.2.840.113549.1.1.13', // sha512WithRSAEncryption
  '1.2.840.113549.1.1.10', // RSASSA-PSS
  '1.2.840.10045.4.3.2', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3', // ecdsa-with-SHA384
  '1.2.840.10045.4.3.4', // ecdsa-with-SHA512
  '1.3.101.112', // Ed25519
]);

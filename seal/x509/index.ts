/**
 * The node-forge boundary of seal/: building certificates and reading their extensions. Nothing
 * else in seal/ imports node-forge, and nothing here verifies a signature (node:crypto does).
 */
export { buildCertificate } from './build.ts';
export type { CertificateSpec, NameSpec, KeyUsageName } from './build.ts';
export { inspectCertificate, CertificateSyntaxError } from './inspect.ts';
export { buildCrl, parseCrl, subjectDer, nameText, CRL_REASONS } from './crl.ts';
export type { CrlEntry, CrlReason, ParsedCrl, ParsedCrlEntry } from './crl.ts';
export type { CertificateProfile, KeyUsageBit } from './inspect.ts';
export { buildCsr, readCsr, CsrSyntaxError } from './csr.ts';
export type { CertificateRequest } from './csr.ts';

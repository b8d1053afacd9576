/**
 * Shape of a licence payload: the VC 2.0 credential plus the JWT claims that secure it
 * (iss = issuer.id, jti = id, iat = signing time; exp optional, the signature's lifetime;
 * nbf optional, the time before which it must not be accepted, RFC 7519 §4.1.5 —
 * docs/standards.md). Missing or mistyped members are LICENCE_MALFORMED. Checks shape only:
 * whether the values are true is for the later, cryptographic steps.
 */
import { reject } from '../lib/rejection.ts';
import {
  LICENCE_CREDENTIAL_TYPE, LICENCE_DATA_KEYS, VC_CONTEXT_V2, displayedTextProblem, identifierProblem, legalRepresentativeProblem,
  type LicenceCredential, type LicenceData,
} from './credential.ts';

export interface LicenceClaims {
  credential: LicenceCredential;
  iss: string;
  jti: string;
  /** Seconds since the epoch. */
  iat: number;
  exp: number | undefined;
  /** Seconds since the epoch; verifyLicence refuses the licence before it (LICENCE_NOT_YET_VALID). */
  nbf: number | undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isTime = (v: unknown): v is string => isText(v) && !Number.isNaN(Date.parse(v));
const isNumericDate = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

function missing(member: string): never {
  return reject('LICENCE_MALFORMED', `证照缺少或错填 ${member} / the licence lacks a valid ${member}`);
}

export function readClaims(payload: unknown): LicenceClaims {
  if (!isObject(payload)) reject('LICENCE_MALFORMED', '载荷不是 JSON 对象 / the payload is not a JSON object');
  const ctx = payload['@context'];
  if (!Array.isArray(ctx) || ctx[0] !== VC_CONTEXT_V2) missing('@context');
  const type = payload.type;
  if (!Array.isArray(type) || !type.includes('VerifiableCredential') || !type.includes(LICENCE_CREDENTIAL_TYPE)) missing('type');
  if (!isText(payload.id)) missing('id');
  const issuer = payload.issuer;
  if (!isObject(issuer) || !isText(issuer.id) || !isText(issuer.name)) missing('issuer');
  if (!isTime(payload.validFrom)) missing('validFrom');
  if (payload.validUntil !== undefined && !isTime(payload.validUntil)) missing('validUntil');
  const subject = payload.credentialSubject;
  if (!isObject(subject) || !isText(subject.id) || !isObject(subject.licence)) missing('credentialSubject');
  const licence = subject.licence as Record<string, unknown>;
  for (const k of LICENCE_DATA_KEYS) if (!isText(licence[k])) missing(`credentialSubject.licence.${k}`);
  // GB/T 36904 identifier, its agreement with typeCode/issuerCode, the holder's code; and no
  // invisible or control character in any text a verifier shows (a name that renders as another).
  const problem = identifierProblem(licence as unknown as LicenceData) ?? legalRepresentativeProblem(licence.holderCode as string, licence.legalRepresentative)
    ?? displayedTextProblem(licence, issuer.name);
  if (problem) reject('LICENCE_MALFORMED', problem.message);

  const status = payload.credentialStatus;
  if (status !== undefined) {
    const entries = Array.isArray(status) ? status : [status];
    const ok = entries.length > 0 && entries.every((e: unknown) => isObject(e) && e.type === 'BitstringStatusListEntry'
      && (e.statusPurpose === 'revocation' || e.statusPurpose === 'suspension')
      && typeof e.statusListIndex === 'string' && /^(0|[1-9]\d{0,9})$/.test(e.statusListIndex) && isText(e.statusListCredential));
    if (!ok) missing('credentialStatus');
  }
  if (!isText(payload.iss)) missing('iss');
  if (!isText(payload.jti)) missing('jti');
  if (!isNumericDate(payload.iat)) missing('iat');
  if (payload.exp !== undefined && !isNumericDate(payload.exp)) missing('exp');
  if (payload.nbf !== undefined && !isNumericDate(payload.nbf)) missing('nbf');
  // jti names the credential (RFC 7519 §4.1.7); a different value would let one signature be
  // shown for two identifiers.
  if (payload.jti !== payload.id) reject('LICENCE_MALFORMED', 'jti 与证照 id 不符 / jti differs from the credential id');

  const { iss, jti, iat, exp, nbf, ...rest } = payload;
  return {
    credential: { ...(rest as unknown as LicenceCredential), credentialSubject: { id: subject.id as string, licence: licence as unknown as LicenceData } },
    iss: iss as string,
    jti: jti as string,
    iat: iat as number,
    exp: exp as number | undefined,
    nbf: nbf as number | undefined,
  };
}

/**
 * One registry of error codes for the whole platform: the gateway, the subgraphs, the IdP and
 * the seal CLI all throw `AppError` with one of these codes. GraphQL puts the code in
 * `extensions.code`, HTTP answers with problem+json carrying `code`, the CLI prints it and exits
 * with `exit`. README's error table is checked against this list by `test/docs.test.ts`.
 *
 * Add a code here (in its area) rather than inventing strings at the throw site.
 */
export interface CodeInfo {
  /** HTTP status when the error ends an HTTP request. */
  readonly status: number;
  /** What the code means, in English, for the README. */
  readonly description: string;
}

export const ERROR_CODES = {
  // --- generic --------------------------------------------------------------------------
  BAD_INPUT: { status: 400, description: 'The input failed validation; `details` names the fields.' },
  NOT_FOUND: { status: 404, description: 'The thing asked for does not exist (or is not visible to the caller).' },
  CONFLICT: { status: 409, description: 'The state changed meanwhile (optimistic concurrency); reload and retry.' },
  INTERNAL: { status: 500, description: 'An unexpected failure; details are in the server log, never in the answer.' },
  SERVICE_UNAVAILABLE: { status: 503, description: 'A service this request needs (a subgraph, the IdP) is unreachable; retry later.' },
  PAYLOAD_TOO_LARGE: { status: 413, description: 'The request body exceeds the size limit.' },
  DATA_DIR_LOCKED: { status: 500, description: 'The embedded database in DATA_DIR is open in another process (PGlite serves one process); stop it or set DATABASE_URL.' },
  CONFIG_INVALID: { status: 500, description: 'A configuration variable is missing or malformed (start-up only).' },

  // --- authentication and authorisation ------------------------------------------------
  UNAUTHENTICATED: { status: 401, description: 'The operation needs a logged-in user.' },
  TOKEN_INVALID: { status: 401, description: 'The bearer token is malformed or its signature does not verify.' },
  TOKEN_EXPIRED: { status: 401, description: 'The bearer token has expired.' },
  TOKEN_ISSUER: { status: 401, description: 'The bearer token was not issued by this platform\'s IdP.' },
  TOKEN_AUDIENCE: { status: 401, description: 'The bearer token was issued for another resource.' },
  FORBIDDEN: { status: 403, description: 'The caller is known but may not do this (role, agency or ownership).' },
  GATEWAY_IDENTITY_REQUIRED: { status: 401, description: 'A subgraph was called without a valid identity assertion from the gateway.' },

  // --- identity ---------------------------------------------------------------------------
  ID_NUMBER_INVALID: { status: 400, description: 'The resident ID number (GB 11643) is malformed or its check digit is wrong.' },
  CREDIT_CODE_INVALID: { status: 400, description: 'The unified social credit code (GB 32100) is malformed or its check character is wrong.' },
  MOBILE_INVALID: { status: 400, description: 'The mobile number is not an 11-digit mainland number.' },
  PASSWORD_WEAK: { status: 400, description: 'The password does not meet the policy (length and character classes).' },
  ACCOUNT_EXISTS: { status: 409, description: 'An account with this ID number or mobile already exists.' },
  LOGIN_FAILED: { status: 401, description: 'Wrong login name or password (deliberately not saying which).' },
  ACCOUNT_DISABLED: { status: 403, description: 'The account is disabled.' },
  INTERACTION_EXPIRED: { status: 400, description: 'The login request expired or belongs to another browser; start again from the application.' },
  FACTOR_UNVERIFIED: { status: 400, description: 'A registration factor could not be verified.' },

  // (identity: add new identity codes above this line)

  // --- cases --------------------------------------------------------------------------------
  ITEM_NOT_FOUND: { status: 404, description: 'No service item with that id.' },
  CASE_NOT_FOUND: { status: 404, description: 'No case with that id visible to the caller.' },
  CASE_TRANSITION_INVALID: { status: 409, description: 'The action is not allowed in the case\'s current state.' },
  ROLE_REQUIRED: { status: 403, description: 'The action needs a staff role (receiver, acceptor, reviewer, decider) in the item\'s agency.' },

  // (cases: add new case codes above this line)

  // --- evaluations ------------------------------------------------------------------------
  CASE_NOT_RATEABLE: { status: 409, description: 'Only the applicant may rate, and only once the case is completed.' },
  ALREADY_RATED: { status: 409, description: 'This case has already been rated (one rating per service event).' },
  REASON_REQUIRED: { status: 400, description: 'A dissatisfied or very dissatisfied rating needs a reason.' },

  // --- seals and licences --------------------------------------------------------------
  LICENCE_MALFORMED: { status: 400, description: 'The licence is not a well-formed compact JWS / VC-JWT.' },
  LICENCE_UNSIGNED: { status: 400, description: 'The licence carries no signature (alg none or empty signature).' },
  LICENCE_BAD_SIGNATURE: { status: 400, description: 'The signature does not verify with the seal certificate\'s key.' },
  LICENCE_UNKNOWN_ISSUER: { status: 400, description: 'The certificate chain does not end at a trusted root.' },
  LICENCE_BROKEN_CHAIN: { status: 400, description: 'The x5c chain is missing, unparsable, or a certificate is not signed by the next.' },
  LICENCE_CERT_NOT_VALID_AT_SIGNING: { status: 400, description: 'A certificate in the chain was not valid at the signing time.' },
  LICENCE_CERT_REVOKED: { status: 400, description: 'A certificate in the chain has been revoked.' },
  LICENCE_WRONG_KEY_USAGE: { status: 400, description: 'The signing certificate is not a seal certificate (keyUsage / extended key usage), or a CA lacks CA constraints.' },
  LICENCE_ISSUER_MISMATCH: { status: 400, description: 'The licence names an issuing agency other than the one its seal certificate belongs to.' },
  LICENCE_REVOKED: { status: 400, description: 'The licence has been revoked by its issuer.' },
  LICENCE_SUSPENDED: { status: 400, description: 'The licence is suspended.' },
  LICENCE_EXPIRED: { status: 400, description: 'The licence\'s validity period has ended.' },
  LICENCE_NOT_YET_VALID: { status: 400, description: 'The licence\'s validity period has not begun.' },
  SEAL_NOT_FOUND: { status: 404, description: 'The issuing agency has no seal certificate.' },
  KEY_DECRYPT_FAILED: { status: 500, description: 'A private key could not be decrypted (wrong passphrase).' },
  // (seals and licences: add new licence codes above this line)
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}

/** RFC 9457 problem document for an error; unknown errors become INTERNAL without leaking text. */
export function toProblem(e: unknown): { status: number; body: Record<string, unknown> } {
  if (isAppError(e)) {
    return {
      status: e.status,
      body: { type: `urn:yiwang:error:${e.code}`, title: e.message, status: e.status, code: e.code, ...(e.details ? { details: e.details } : {}) },
    };
  }
  return { status: 500, body: { type: 'urn:yiwang:error:INTERNAL', title: 'Internal error', status: 500, code: 'INTERNAL' } };
}

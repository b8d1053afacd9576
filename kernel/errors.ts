/**
 * One registry of error codes for the whole platform: the gateway, the subgraphs, the IdP and
 * the seal CLI all throw `AppError` with one of these codes. GraphQL puts the code in
 * `extensions.code`, HTTP answers with problem+json carrying `code`, the CLI prints it and exits
 * with `exit`. docs/errors.md is generated from this list (npm run docs) and checked by `test/docs.test.ts`.
 *
 * Add a code here (in its area) rather than inventing strings at the throw site.
 */
export interface CodeInfo {
  /** HTTP status when the error ends an HTTP request. */
  readonly status: number;
  /** What the code means, in English, for docs/errors.md. */
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

  OTP_INVALID: { status: 400, description: 'The SMS code is wrong, expired or already used; request a new one.' },
  OTP_TOO_MANY_ATTEMPTS: { status: 429, description: 'Too many wrong entries: the SMS code is void; request a new one.' },
  OTP_RESEND_TOO_SOON: { status: 429, description: 'A code was sent to this number moments ago; wait before asking again (`details.retryAfter` seconds).' },
  RATE_LIMITED: { status: 429, description: 'Too many requests of this kind from this address or for this number; `details.retryAfter` says when to retry.' },
  LOGIN_LOCKED: { status: 429, description: 'Too many failed logins for this account or from this address; locked for `details.retryAfter` seconds (doubling with further failures).' },
  GRAPH_RATE_LIMITED: { status: 429, description: 'Too many requests to the graph from this address, for this account or from this client application in the current window (GATEWAY_RATE_LIMIT_*); retry after the `Retry-After` seconds.' },
  ACCOUNT_PENDING: { status: 403, description: 'The account was registered at a counter and is not yet activated by staff.' },
  ASSURANCE_INSUFFICIENT: { status: 403, description: 'The account was not proven at the assurance level this needs (binding a company needs L3; a step-up needs a bound mobile).' },
  QR_EXPIRED: { status: 400, description: 'The login QR code expired or is unknown; show a new one.' },
  QR_NOT_APPROVED: { status: 409, description: 'The login QR code has not been approved on the mobile app (yet).' },
  COMPANY_EXISTS: { status: 409, description: 'A company with this unified social credit code is already registered.' },
  COMPANY_UNVERIFIED: { status: 400, description: 'The business registry does not confirm this company with this legal representative.' },
  POWER_OF_ATTORNEY_REQUIRED: { status: 400, description: 'A delegate registering a company at a counter must carry the legal representative\'s power of attorney (its number).' },
  SECOND_APPROVER_REQUIRED: { status: 403, description: 'Re-enabling an account needs a second staff member with the department-head role, other than the one who asked (R-ID-9).' },
  DELEGATION_DEPTH_EXCEEDED: { status: 409, description: 'A delegation may be passed on at most 3 levels (R-ID-8).' },
  DELEGATION_INVALID: { status: 403, description: 'The delegation is not in force (expired, revoked, not yet valid, pending) or does not cover this.' },
  LIMIT_DEPTH: { status: 400, description: 'The operation nests fields deeper than the gateway allows (GATEWAY_MAX_DEPTH).' },
  LIMIT_ALIASES: { status: 400, description: 'The operation uses more aliases than the gateway allows (GATEWAY_MAX_ALIASES).' },
  LIMIT_TOKENS: { status: 400, description: 'The document has more lexical tokens than the gateway allows (GATEWAY_MAX_TOKENS).' },
  LIMIT_DIRECTIVES: { status: 400, description: 'The operation uses more directives than the gateway allows (GATEWAY_MAX_DIRECTIVES).' },
  LIMIT_COST: { status: 400, description: 'The operation\'s estimated cost (`@cost`, `@listSize`) is above the gateway\'s limit (GATEWAY_MAX_COST); `details` gives both.' },
  PERSISTED_QUERY_ONLY: { status: 400, description: 'The gateway serves only trusted (persisted) documents (GATEWAY_PERSISTED_ONLY) and this one is not in its manifest, or its id is unknown.' },
  TOKEN_DELEGATION_ENDED: { status: 401, description: 'The access token acts for a company under a delegation that has since been revoked (or one above it), changed, or has expired: get a new token (without `yw_acting_for`, or naming a delegation in force).' },
  TOKEN_DPOP_REQUIRED: { status: 401, description: 'The access token is bound to a key (DPoP, `cnf.jkt`): send it as `Authorization: DPoP <token>` with a `DPoP` proof signed by that key, never as a Bearer token.' },
  DPOP_PROOF_INVALID: { status: 401, description: 'The `DPoP` proof is missing, malformed, signed by another key than the token is bound to, for another method or URL (`htm`, `htu`), for another token (`ath`), outside the `iat` window, or already used (`jti` replayed); `details.reason` says which.' },
  DPOP_NONCE_REQUIRED: { status: 401, description: 'The gateway wants a server nonce in the `DPoP` proof (or the one sent has expired): retry with the `DPoP-Nonce` value of this answer.' },
  TOKEN_REVOKED: { status: 401, description: 'The access token has been revoked: its authorization (grant) was revoked (logout, revoked refresh token, a replayed authorization code) or its account was disabled. Log in again.' },
  PASSWORD_CHANGE_REQUIRED: { status: 403, description: 'The account must change the initial password it was given at a counter: log in with that password (not an SMS code or QR) first.' },
  UPSTREAM_UNKNOWN: { status: 404, description: 'No trusted real-name platform with that id is configured here (IDP_UPSTREAMS, R-ID-3).' },
  UPSTREAM_UNAVAILABLE: { status: 503, description: 'The real-name platform could not be reached, or its metadata does not match its configuration; retry later.' },
  LINK_STATE_INVALID: { status: 400, description: 'The platform\'s callback names no login in progress in this browser: unknown, expired, already used (replayed) or forged `state`.' },
  LINK_CALLBACK_INVALID: { status: 400, description: 'The platform\'s answer failed verification (issuer, nonce, ID token, code exchange, subject) or it returned an error; `details` says which.' },
  UPSTREAM_ATTRIBUTE_UNVERIFIED: { status: 400, description: 'The platform did not vouch for a required attribute (name and resident ID number as `verified_claims`, at level 3 or higher); `details.missing` names them.' },
  LINK_EXISTS: { status: 409, description: 'This account on that platform is already linked to an account here, or this account already has a link to that platform.' },
  LINK_IDENTITY_MISMATCH: { status: 403, description: 'Linking a platform to an existing account: the platform vouches for another person (name or ID number differ).' },
  LINK_LAST_LOGIN: { status: 409, description: 'Removing this platform link would leave the account with no way to log in (no password, no bound mobile, no other linked platform): set a password or bind a mobile first.' },
  FEATURE_NOT_CONFIGURED: { status: 503, description: 'This route needs trust this platform has not configured (no licence trust bundle, no enterprise CA).' },
  BUSINESS_LICENCE_INVALID: { status: 400, description: 'The licence verified but is not an electronic business licence of a company naming its legal representative (type, holder or legal representative); `details.reason` says which.' },
  LEGAL_REP_MISMATCH: { status: 403, description: 'The business licence names another legal representative than the logged-in person.' },
  CHALLENGE_INVALID: { status: 400, description: 'The certificate challenge is unknown, expired, already used or was issued to another account: ask for a new one.' },
  ENTERPRISE_CERT_INVALID: { status: 400, description: 'The enterprise certificate (chain) is missing, unparsable, signed with a refused algorithm, or not linked to its CA.' },
  ENTERPRISE_CERT_UNTRUSTED: { status: 400, description: 'The enterprise certificate was not issued by a trusted enterprise CA (IDP_ENTERPRISE_CA_BUNDLE).' },
  ENTERPRISE_CERT_EXPIRED: { status: 400, description: 'The enterprise certificate, or a CA certificate above it, is not valid now.' },
  ENTERPRISE_CERT_REVOKED: { status: 400, description: 'The enterprise certificate, or a CA certificate above it, is listed in its CA\'s CRL.' },
  ENTERPRISE_CERT_KEY_USAGE: { status: 400, description: 'The certificate is not an end-entity signing certificate for client authentication (basicConstraints, keyUsage, extKeyUsage), or a CA above it lacks CA constraints.' },
  ENTERPRISE_CERT_CREDIT_CODE: { status: 400, description: 'The enterprise certificate carries no valid unified social credit code in its subject\'s organizationIdentifier.' },
  ENTERPRISE_SIGNATURE_INVALID: { status: 400, description: 'The signature over the challenge does not verify with the enterprise certificate\'s public key.' },
  // (identity: add new identity codes above this line)

  // --- cases --------------------------------------------------------------------------------
  ITEM_NOT_FOUND: { status: 404, description: 'No service item with that id.' },
  CASE_NOT_FOUND: { status: 404, description: 'No case with that id visible to the caller.' },
  CASE_TRANSITION_INVALID: { status: 409, description: 'The action is not allowed in the case\'s current state.' },
  ROLE_REQUIRED: { status: 403, description: 'The action needs a staff role (receiver, acceptor, reviewer, decider) in the item\'s agency.' },

  WORKFLOW_INVALID: { status: 400, description: 'A workflow definition is broken (unknown state, unreachable state, action without roles…); `details` lists every problem.' },
  SUPPLEMENT_ALREADY_REQUESTED: { status: 409, description: 'A supplement notice was already given for this case: it is given once, listing everything missing (R-CA-4).' },
  VISITS_EXCEEDED: { status: 409, description: 'The case\'s application mode allows no more in-person visits (R-CA-2: 2 pre-review, 1 pickup verification, 0 fully online).' },
  EXTENSION_NOT_REQUESTED: { status: 409, description: 'No extension request is pending for this case (an extension needs a request, then approval).' },
  // appointments (R-CA-5)
  APPOINTMENT_DATE_OUT_OF_RANGE: { status: 400, description: 'Appointments are booked from the next day up to seven days ahead (R-CA-5).' },
  APPOINTMENT_OUTSIDE_HOURS: { status: 400, description: 'Not a working day, or not a slot within the window\'s opening hours for the item (R-CA-5).' },
  APPOINTMENT_SLOT_FULL: { status: 409, description: 'The time slot has reached its maximum number of appointments and is closed (R-CA-5).' },
  APPOINTMENT_ALREADY_BOOKED: { status: 409, description: 'This ID number already holds an active appointment for the item; finish or cancel it first (R-CA-5).' },
  APPOINTMENT_BOOKING_SUSPENDED: { status: 403, description: 'Online booking is suspended for this user after more than three no-shows in one month (R-CA-5).' },
  APPOINTMENT_NOT_FOUND: { status: 404, description: 'No such appointment visible to the caller (or no valid appointment today for that ID number).' },
  APPOINTMENT_NOT_CANCELLABLE: { status: 409, description: 'The appointment can no longer be cancelled (its slot has begun, or it was checked in, done, cancelled or missed).' },
  APPOINTMENT_CALENDAR_INVALID: { status: 400, description: 'An appointment calendar definition is broken (periods, slot length, capacity); `details` lists every problem.' },
  HALL_WINDOW_NOT_FOUND: { status: 404, description: 'No hall window with that id in the caller\'s agency.' },
  QUEUE_TICKET_NOT_FOUND: { status: 404, description: 'No queue ticket with that id in the caller\'s agency.' },
  QUEUE_TICKET_NOT_CALLED: { status: 409, description: 'Only a called ticket can be finished (served or absent).' },
  MATERIAL_TOO_LARGE: { status: 413, description: 'The uploaded material exceeds CASE_MATERIAL_MAX_BYTES.' },
  MATERIAL_TYPE_REFUSED: { status: 415, description: 'The uploaded material is not an accepted type (PDF, JPEG, PNG, OFD), judged by its content, not its name.' },
  MATERIAL_NOT_ALLOWED: { status: 409, description: 'Materials can be added only by the case\'s applicant while it is submitted or waiting for a supplement.' },
  UPLOAD_TOKEN_INVALID: { status: 401, description: 'The upload or download address is malformed, expired, or for another material.' },
  LICENCE_NOT_ACCEPTED: { status: 409, description: 'The licence given instead of a material was refused by the licence service; `details.reason` says why (R-LI-2).' },
  MATERIAL_NOT_REPLACEABLE: { status: 409, description: 'The item\'s material cannot be replaced by a licence (it does not name a licence type, or the item is not known with its materials) (R-LI-2).' },
  MATERIAL_LIMIT_REACHED: { status: 409, description: 'The case already holds the most material rows allowed (uploads and licences, re-uploads included).' },
  // (cases: add new case codes above this line)

  // --- evaluations ------------------------------------------------------------------------
  CASE_NOT_RATEABLE: { status: 409, description: 'Only the applicant may rate, and only once the case is completed.' },
  ALREADY_RATED: { status: 409, description: 'This case has already been rated (one rating per service event).' },
  REASON_REQUIRED: { status: 400, description: 'A dissatisfied or very dissatisfied rating needs a reason.' },
  FEEDBACK_TARGET_UNKNOWN: { status: 404, description: 'The agency or item a complaint, consultation or suggestion names is not known.' },
  FEEDBACK_NOT_FOUND: { status: 404, description: 'No such complaint, consultation or suggestion (or it is not the caller\'s agency\'s).' },
  FEEDBACK_ANSWERED: { status: 409, description: 'The complaint, consultation or suggestion has already been answered; it cannot be answered or dispatched again.' },
  CHAT_NOT_FOUND: { status: 404, description: 'No such live chat (or it is neither the caller\'s nor their agency\'s).' },
  CHAT_CLOSED: { status: 409, description: 'The live chat is closed: no more messages; it is kept as a consultation.' },
  CHAT_TAKEN: { status: 409, description: 'Another member of the agency\'s staff has taken this live chat.' },
  CHAT_TICKET_INVALID: { status: 401, description: 'The live chat stream ticket is missing, forged, expired or not for this chat; ask the graph for a new one (chatStreamTicket).' },
  FOLLOW_UP_NOT_FOUND: { status: 404, description: 'No follow-up for this rating in the caller\'s agency (only bad ratings have one).' },
  FOLLOW_UP_STATE_INVALID: { status: 409, description: 'The bad rating\'s follow-up is not in the state this step needs (verify, then rectify).' },

  // --- seals and licences --------------------------------------------------------------
  LICENCE_MALFORMED: { status: 400, description: 'The licence is not a well-formed compact JWS / VC-JWT.' },
  LICENCE_UNSIGNED: { status: 400, description: 'The licence carries no signature (alg none or empty signature).' },
  LICENCE_BAD_SIGNATURE: { status: 400, description: 'The signature does not verify with the seal certificate\'s key.' },
  LICENCE_UNKNOWN_ISSUER: { status: 400, description: 'The certificate chain does not end at a trusted root.' },
  LICENCE_OUTSIDE_FEDERATION: { status: 400, description: 'A federated licence service refuses the licence: its seal does not chain to the national root, or the platform that issued it is not a trusted member of the federation (its status list is not at the licence service a member publishes in its federation metadata, or is sealed under another platform\'s CA) (R-LI-3).' },
  LICENCE_BROKEN_CHAIN: { status: 400, description: 'The x5c chain is missing, unparsable, or a certificate is not signed by the next.' },
  LICENCE_CERT_NOT_VALID_AT_SIGNING: { status: 400, description: 'A certificate in the chain was not valid at the signing time.' },
  LICENCE_CERT_REVOKED: { status: 400, description: 'A certificate in the chain has been revoked.' },
  LICENCE_WRONG_KEY_USAGE: { status: 400, description: 'The signing certificate is not a seal certificate (keyUsage / extended key usage), or a CA lacks CA constraints.' },
  LICENCE_ISSUER_MISMATCH: { status: 400, description: 'The licence names an issuing agency other than the one its seal certificate belongs to.' },
  LICENCE_REVOKED: { status: 400, description: 'The licence has been revoked by its issuer.' },
  LICENCE_SUSPENDED: { status: 400, description: 'The licence is suspended.' },
  LICENCE_EXPIRED: { status: 400, description: 'The licence\'s validity period has ended.' },
  LICENCE_NOT_YET_VALID: { status: 400, description: 'The licence\'s validity period has not begun.' },
  SEAL_NOT_FOUND: { status: 404, description: 'The issuing agency has no usable seal certificate (with LICENCE_SEAL_MODE=external: none installed, valid now and unrevoked), or the platform TSA has none.' },
  KEY_DECRYPT_FAILED: { status: 500, description: 'A private key could not be decrypted (wrong passphrase).' },
  LICENCE_STATUS_UNAVAILABLE: { status: 400, description: 'No current status list for the licence: none cached, or the cached copy has expired (refresh it online).' },
  LICENCE_STATUS_LIST_INVALID: { status: 400, description: 'The status-list credential is malformed, not sealed by the licence\'s issuer, or is another list than the licence names.' },
  LICENCE_TIMESTAMP_INVALID: { status: 400, description: 'The platform timestamp is malformed, not signed by a trusted timestamp authority, or does not match the licence.' },
  LICENCE_TIMESTAMP_REQUIRED: { status: 400, description: 'The seal certificate is no longer valid and the licence carries no platform timestamp proving when it was sealed.' },
  LICENCE_CHECK_FAILED: { status: 422, description: 'The licence reference does not belong to the holder, is of another type, or is not currently valid (internal licence check).' },
  SHARE_LINK_INVALID: { status: 404, description: 'The share link is unknown, malformed or has expired.' },
  SEAL_CSR_INVALID: { status: 400, description: 'The certificate request (PKCS #10) is unparsable, its self-signature does not verify, or its key is not RSA of at least 2048 bits.' },
  SEAL_CHAIN_INVALID: { status: 400, description: 'The certificate chain offered for a seal or TSA key is unparsable, broken, not valid now, or does not end at a configured trust anchor; `details.reason` names the failed check (LICENCE_UNKNOWN_ISSUER for a foreign root).' },
  SEAL_KEY_MISMATCH: { status: 400, description: 'The certificate does not certify the key of the pending certificate request.' },
  SEAL_USAGE_INVALID: { status: 400, description: 'The certificate is not a seal certificate (keyUsage digitalSignature/nonRepudiation, extKeyUsage documentSigning, not a CA), or not a TSA certificate when one was requested.' },
  SEAL_AGENCY_MISMATCH: { status: 400, description: 'The certificate or request names another agency (credit code or name) than the one the seal is for.' },
  SEAL_CRL_INVALID: { status: 400, description: 'The CRL offered for import is not a parsable X.509 v2 CRL (PEM or base64 DER, at most 512 KB of DER), lacks nextUpdate or cRLNumber, or carries a critical extension the service does not process (delta CRL, issuing distribution point, indirect CRL).' },
  SEAL_CRL_UNKNOWN_ISSUER: { status: 400, description: 'The CRL names an issuer that is not a CA the licence service trusts (a LICENCE_TRUST_ANCHORS certificate or a CA of an installed chain, allowed to sign CRLs).' },
  SEAL_CRL_SIGNATURE_INVALID: { status: 400, description: 'The CRL\'s signature does not verify with the key of the CA it names: another CA signed it (one with the same name), or it was altered.' },
  SEAL_CRL_NOT_CURRENT: { status: 400, description: 'The CRL is past its nextUpdate, or its thisUpdate lies in the future: import the CA\'s current CRL.' },
  SEAL_CRL_REPLAYED: { status: 409, description: 'The CRL\'s cRLNumber is lower than that of the last CRL imported from the same CA (or the same number with other content): an older CRL replayed.' },
  // (seals and licences: add new licence codes above this line)

  // --- federation (OpenID Federation 1.0, R-ID-12) -----------------------------------------
  FEDERATION_UNTRUSTED: { status: 403, description: 'No trust chain leads from the entity to a configured trust anchor (no authority hints, a superior that does not know it, or an anchor not configured here).' },
  FEDERATION_CHAIN_EXPIRED: { status: 403, description: 'A statement in the trust chain has expired (`exp`) or is not yet valid (`iat` in the future).' },
  FEDERATION_SIGNATURE_INVALID: { status: 403, description: 'A statement in the trust chain is not signed by a key its superior (or the configured trust anchor) vouches for.' },
  FEDERATION_STATEMENT_INVALID: { status: 400, description: 'An entity statement is malformed: not a JWT of type `entity-statement+jwt`, wrong `iss`/`sub`, missing claims, or a `crit` claim not understood.' },
  FEDERATION_POLICY_INVALID: { status: 403, description: 'A metadata policy in the chain is broken: an operator with a wrong value, a combination the specification forbids, a merge conflict between tiers, or a critical operator not understood.' },
  FEDERATION_POLICY_VIOLATION: { status: 403, description: 'The entity\'s metadata violates the federation\'s metadata policy (`one_of`, `superset_of`, `essential`, …); `details` names the parameter.' },
  FEDERATION_CONSTRAINT_VIOLATION: { status: 403, description: 'The trust chain breaks a superior\'s `constraints` (max_path_length, naming_constraints, allowed_entity_types).' },
  FEDERATION_UNREACHABLE: { status: 503, description: 'An entity or superior in the federation could not be reached in time, answered with an error, or sent too much; retry later.' },
  FEDERATION_ENTITY_ID_REFUSED: { status: 400, description: 'The entity identifier or endpoint is not an allowed URL (https, or http only on a configured development host; no query, fragment or credentials; host on the allow-list).' },
  FEDERATION_SUBORDINATE_UNKNOWN: { status: 404, description: 'This platform issues no statement about that entity (not registered, or removed).' },
  FEDERATION_METADATA_MISSING: { status: 403, description: 'The entity is trusted but its resolved metadata lacks the entity type or parameter needed here (e.g. no `openid_relying_party`, no `jwks`).' },
  RECOGNITION_HOME_UNKNOWN: { status: 404, description: 'Mutual recognition (R-ID-12): no trusted platform of the federation has that identifier, or none holds accounts for that region.' },
  RECOGNITION_HOME_UNTRUSTED: { status: 403, description: 'Cross-tier login (R-ID-12): the home platform\'s trust chain does not validate now (expired, revoked, tampered, policy or constraint broken); `details.reason` is the federation code.' },
  RECOGNITION_HOME_UNAVAILABLE: { status: 503, description: 'Cross-tier login (R-ID-12): the home platform (or its superiors) cannot be reached right now; local accounts are unaffected; retry later.' },
  LOGIN_AT_PROVINCE: { status: 400, description: 'Hybrid mode (R-ID-12): a city\'s citizens and companies log in at its province; only the city\'s agency staff log in at the city\'s own login form.' },
  RECOGNITION_LEVEL_INVALID: { status: 403, description: 'Cross-tier login (R-ID-12): the home platform\'s ID token states an assurance level (`acr`) off the urn:yiwang:loa scale or above what its resolved metadata allows it (`acr_values_supported`); nothing is created.' },
  // (federation: add new federation codes above this line)

  // Item catalogue (R-IT-6)
  CATALOGUE_INCONSISTENT: { status: 409, description: 'The same item (basic code) must keep its name, type and legal basis at every directory level and in every implementation; `details` names what differs.' },
  CHANGE_SELF_APPROVAL: { status: 403, description: 'A catalogue change must be approved by a second person: the requester cannot approve their own change.' },
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

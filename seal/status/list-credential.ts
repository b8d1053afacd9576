/**
 * The status-list credential (Bitstring Status List v1.0 §2.2): a VC 2.0 sealed by the issuing
 * agency with the same seal (and so the same chain to the national root) as its licences, one
 * per agency and purpose. `ttl` (milliseconds, §2.2) tells caches how long to keep it, and
 * `validUntil` = validFrom + ttl makes the credential itself expire, so a verifier offline
 * uses a cached copy until then and an old copy replayed later is refused (stale).
 */
import { AppError } from '../../kernel/errors.ts';
import { VC_CONTEXT_V2, type StatusPurpose } from '../licence/credential.ts';
import { LICENCE_TYP } from '../licence/compact.ts';
import { loadSignerChain, signJws, type Signer } from '../licence/jws.ts';
import { encodeList } from './bitstring.ts';

export const STATUS_LIST_CREDENTIAL_TYPE = 'BitstringStatusListCredential';

export interface StatusListCredential {
  '@context': string[];
  id: string;
  type: string[];
  issuer: { id: string; name: string };
  validFrom: string;
  validUntil: string;
  credentialSubject: { id: string; type: 'BitstringStatusList'; statusPurpose: StatusPurpose; encodedList: string; ttl: number };
}

export function buildStatusListCredential(o: {
  url: string; issuer: { id: string; name: string }; purpose: StatusPurpose; bits: Uint8Array; now: Date; ttlMs: number;
}): StatusListCredential {
  if (!(o.ttlMs > 0)) throw new AppError('BAD_INPUT', 'ttl 须为正数 / ttl must be positive');
  const from = new Date(Math.floor(o.now.getTime() / 1000) * 1000);
  return {
    '@context': [VC_CONTEXT_V2],
    id: o.url,
    type: ['VerifiableCredential', STATUS_LIST_CREDENTIAL_TYPE],
    issuer: o.issuer,
    validFrom: from.toISOString(),
    validUntil: new Date(from.getTime() + o.ttlMs).toISOString(),
    credentialSubject: { id: `${o.url}#list`, type: 'BitstringStatusList', statusPurpose: o.purpose, encodedList: encodeList(o.bits), ttl: o.ttlMs },
  };
}

/** Seal it (vc+jwt, x5c) with the agency's seal; iss = issuer.id, iat = now. */
export async function signStatusList(c: StatusListCredential, seal: Signer, now: Date): Promise<string> {
  const chain = loadSignerChain(seal);
  const claims = { ...c, iss: c.issuer.id, jti: c.id, iat: Math.floor(now.getTime() / 1000) };
  return signJws(new TextEncoder().encode(JSON.stringify(claims)), seal, chain, { typ: LICENCE_TYP });
}

/**
 * Pairwise subject identifiers (OIDC Core §8.1) for partner clients: sub = HMAC-SHA256 over the
 * sector and the account id, under a key derived from the internal secret. The sector is the
 * client's `yw_sector` (an administrator may put several clients of one partner in one sector)
 * or else oidc-provider's sector identifier (the host of the redirect URIs). Two partners in
 * different sectors see unrelated subjects for the same person and cannot correlate them; the
 * same partner always sees the same subject. Deterministic, so nothing needs storing.
 */
import { createHash, createHmac, createSecretKey, type KeyObject } from 'node:crypto';

export function pairwiseKey(internalSecret: string): KeyObject {
  return createSecretKey(createHash('sha256').update('yiwang.idp.pairwise-key\n').update(internalSecret).digest());
}

interface SectorClient { sectorIdentifier?: string; clientId: string; [k: string]: unknown }

export function sectorOf(client: SectorClient): string {
  const explicit = client.ywSector ?? client.yw_sector;
  return typeof explicit === 'string' && explicit ? explicit : client.sectorIdentifier ?? client.clientId;
}

export function pairwiseSubject(key: KeyObject, sector: string, accountId: string): string {
  return createHmac('sha256', key).update(`${sector}\n${accountId}`).digest('base64url');
}

/** oidc-provider's `pairwiseIdentifier(ctx, accountId, client)`. */
export function pairwiseIdentifier(key: KeyObject) {
  return async (_ctx: unknown, accountId: string, client: SectorClient): Promise<string> => pairwiseSubject(key, sectorOf(client), accountId);
}

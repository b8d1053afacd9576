/**
 * The IdP's half of revocation reaching the gateway (kernel/revocation-markers.ts): the graph's
 * access tokens are self-contained JWTs that live ten minutes, so the IdP tells the gateway, through
 * the shared cache, which ones have ended before that:
 *
 * - every access token carries `yw_grant`, a reference to the grant it was issued under;
 * - when oidc-provider revokes a grant (`grant.revoked`: a logout that revokes, a revoked refresh
 *   token, a reused rotated refresh token, a replayed authorization code) the grant is marked;
 * - when an administrator disables an account (idp/admin/accounts.ts) the account is marked in
 *   the same transaction, before it commits.
 *
 * A marker that cannot be written is logged as an error: the revoke itself has happened (the
 * grant is gone from the IdP, so no new token comes from it), only the gateway's early refusal is
 * missing for the rest of the token's ten minutes.
 */
import type { Provider } from 'oidc-provider';
import type { Cache } from '../../kernel/cache.ts';
import type { Logger } from '../../kernel/log.ts';
import { grantRef, markAccountRevoked, markGrantRevoked } from '../../kernel/revocation-markers.ts';

/** The claim an access token carries to name its grant. */
export function grantClaim(token: { grantId?: string | undefined }): { yw_grant?: string } {
  return token.grantId ? { yw_grant: grantRef(token.grantId) } : {};
}

/** `ttlSeconds`: at least the longest access-token lifetime (REVOCATION_MARKER_TTL in provider.ts). */
export function watchRevocations(provider: Provider, cache: Cache, ttlSeconds: number, log: Logger): void {
  provider.on('grant.revoked', (_ctx: unknown, grantId: string) => {
    markGrantRevoked(cache, grantId, ttlSeconds).catch((err: unknown) => {
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'grant revoked but its revocation marker was not written: its access tokens work at the gateway until they expire');
    });
  });
}

export async function markAccountDisabled(cache: Cache, accountId: string, at: Date, ttlSeconds: number): Promise<void> {
  await markAccountRevoked(cache, accountId, at.getTime(), ttlSeconds);
}

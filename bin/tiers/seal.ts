/**
 * Seals across the tiers of `npm run tiers` (R-LI-3: licences recognised across levels and
 * regions, one trusted seal service). The national platform's licence service holds the
 * national seal root (LICENCE_SEAL_MODE=platform); every other platform runs its own seal CA
 * (LICENCE_SEAL_MODE=subordinate) whose key it makes itself and whose PKCS #10 request the
 * national root certifies at start-up, orchestrated by bin/tiers.ts as the federation
 * registration is: the platform reports its request when ready, the national process certifies
 * it, the platform installs the chain. Every platform is configured with the national root only
 * (LICENCE_TRUST_ANCHORS, `<dir>/seal-trust-anchors.pem`), so a licence sealed in one city
 * verifies in any other with that root and the chain its x5c carries.
 *
 * Messages (parent ↔ platform process):
 *   { type: 'seal-certify', platform, csr, commonName, region } → national
 *        answered { type: 'seal-certified', platform, chain } or { type: 'seal-failed', platform, error }
 *   { type: 'seal-install', platform, chain } → the platform
 *        answered { type: 'seal-installed', platform } or { type: 'seal-failed', platform, error }
 */
import type { Config } from '../../kernel/config.ts';
import type { Deps } from '../../kernel/service.ts';
import { isAppError } from '../../kernel/errors.ts';
import { createTrustStore, readConfiguredAnchors, sealCaSubject, type TrustStore } from '../../subgraphs/licence/trust.ts';
import type { PlatformSpec } from './plan.ts';

/** The file bin/tiers.ts writes the national seal root to (what every platform configures). */
export const SEAL_ANCHORS_FILE = 'seal-trust-anchors.pem';

export interface SealCertify { type: 'seal-certify'; platform: string; csr: string; commonName: string; region: string }
export interface SealInstall { type: 'seal-install'; platform: string; chain: string }
export type SealMessage = SealCertify | SealInstall;
export type SealAnswer =
  | { type: 'seal-certified'; platform: string; chain: string }
  | { type: 'seal-installed'; platform: string }
  | { type: 'seal-failed'; platform: string; error: string };

/** The common name of a platform's seal CA: its Chinese name before the build-mode note. */
export function sealCaName(spec: Pick<PlatformSpec, 'name'>): string {
  return `${spec.name.split(/[（(/]/)[0]!.trim()}政务服务电子印章CA（演示）`;
}

/**
 * Licence configuration of a platform: below the national one, its seal CA under the national
 * root; everywhere, other platforms' status lists fetched at every verification (a revocation
 * shows across the federation at once; the cached copy serves while the issuer is down).
 */
export function sealEnvironment(spec: PlatformSpec): Record<string, string> {
  const fresh = { LICENCE_STATUS_REFRESH_SECONDS: '0' };
  if (!spec.sealAnchors) return fresh;
  return { ...fresh, LICENCE_SEAL_MODE: 'subordinate', LICENCE_TRUST_ANCHORS: spec.sealAnchors, LICENCE_SEAL_CA_NAME: sealCaName(spec) };
}

/** The platform's licence trust store, over the database its licence service uses. */
function trustOf(deps: Deps, config: Config): TrustStore {
  return createTrustStore({
    db: deps.db, passphrase: deps.secrets.keyPassphrase, clock: deps.clock, crlBase: config.LICENCE_PUBLIC_URL,
    mode: config.LICENCE_SEAL_MODE, externalAnchors: readConfiguredAnchors(config.LICENCE_TRUST_ANCHORS), caSubject: sealCaSubject(config),
  });
}

/** The platform's seal CA request while its CA is not certified yet (null at the national platform, or once installed). */
export async function pendingSealCa(deps: Deps, config: Config): Promise<string | null> {
  return config.LICENCE_SEAL_MODE === 'subordinate' ? trustOf(deps, config).caRequest() : null;
}

/** Answer the parent's seal messages in this platform's process. */
export function answerSealMessages(deps: Deps, config: Config, send: (m: SealAnswer) => Promise<void>): void {
  const trust = trustOf(deps, config);
  process.on('message', (m: SealMessage) => {
    if (m?.type !== 'seal-certify' && m?.type !== 'seal-install') return;
    const failed = (e: unknown) => send({ type: 'seal-failed', platform: m.platform, error: isAppError(e) ? `${e.code}: ${e.message}` : String(e) });
    if (m.type === 'seal-certify') {
      void trust.certifySubordinateCa(m.csr, { commonName: m.commonName, regionCode: m.region })
        .then((chain) => send({ type: 'seal-certified', platform: m.platform, chain }), failed);
    } else {
      void trust.installCa(m.chain).then(() => send({ type: 'seal-installed', platform: m.platform }), failed);
    }
  });
}

/**
 * The certificate path of a signed JWS (licence, status list, timestamp): x5c read, each
 * certificate in its role, each issued by the next, ending at a configured anchor. Shared so
 * every signed object the platform publishes is judged by exactly the same rules
 * (RFC 5280 §6.1; the checks are in ./constraints.ts, ./links.ts, ./anchor.ts).
 */
import { OID_KP_DOCUMENT_SIGNING } from '../lib/oids.ts';
import { anchorPath } from './anchor.ts';
import type { ChainCertificate } from './certificate.ts';
import { checkRole, checkRoles } from './constraints.ts';
import { checkLinks } from './links.ts';
import { readX5c } from './x5c.ts';

/** The full path, end certificate first, anchor last; throws a Rejection. */
export function buildPath(x5c: unknown, anchors: readonly ChainCertificate[], leafPurpose: string = OID_KP_DOCUMENT_SIGNING): ChainCertificate[] {
  const chain = readX5c(x5c);
  checkRoles(chain, 0, leafPurpose);
  checkLinks(chain);
  const path = anchorPath(chain, anchors);
  for (let i = chain.length; i < path.length; i++) checkRole(path[i]!, i, leafPurpose);
  return path;
}

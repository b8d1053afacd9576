import type { Queryable } from '../../kernel/db.ts';
import type { ChainCertificate, ParsedCrl } from '../../seal/index.ts';

/** What the service knows of imported CRLs (made once per service, ./service.ts). */
export interface CrlImports {
  /** The latest CRL of each CA, parsed: for verification and installation. */
  current(q: Queryable): Promise<ParsedCrl[]>;
  /** The CAs whose CRLs are taken: the configured anchors and the CA certificates of installed chains. */
  knownCas(q: Queryable): Promise<ChainCertificate[]>;
  /** The latest CRL (DER) of the CA whose certificates name <publicBase>/crl/<file>; null when none. */
  servedAt(file: string): Promise<Buffer | null>;
  /** The distribution points at this service that certificates of this CA key name. */
  urlsOf(q: Queryable, issuerKey: string): Promise<string[]>;
}

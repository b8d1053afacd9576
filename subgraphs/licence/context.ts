/** What every resolver of the licence subgraph gets (./resolvers.ts, ./seal-resolvers.ts). */
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../../kernel/clock.ts';
import type { Db } from '../../kernel/db.ts';
import type { SubgraphContext } from '../../kernel/subgraph.ts';
import type { SealAdmin } from './seal-admin.ts';
import type { TrustStore } from './trust.ts';

export interface LicenceContext extends SubgraphContext {
  db: Db;
  trust: TrustStore;
  clock: Clock;
  statusBase: string;
  statusTtlMs: number;
  /** Signs the holder's view links and share links (./links.ts). */
  linkKey: KeyObject;
  /** Seal requests, installation, revocation (./seal-admin.ts). */
  sealAdmin: SealAdmin;
}

/**
 * Work a consumer's handler needs done *outside* its transaction: the IdP lookup of the holder.
 *
 * kernel/events.ts runs each handler inside the transaction that records the event as processed.
 * Calling the IdP from in there would hold a database connection across an HTTP call, and in the
 * embedded set-up (`npm start`: every service in one process on one PGlite, which runs one
 * transaction at a time) the IdP's own query would wait for that transaction to end: a deadlock
 * broken only by the HTTP timeout, on every attempt.
 *
 * So the handler asks instead of calling: `holders.take(id)` either returns the account fetched
 * a moment ago or throws `OutsideTransaction`. The Db wrapper given to the consumer catches it
 * after the rollback, does the lookup with no transaction open, and runs the transaction again.
 * When the lookup itself fails, its error propagates: the consumer leaves the event pending and
 * claims it again later (at-least-once delivery, exactly-once effect unchanged).
 */
import type { Db } from '../../kernel/db.ts';
import type { AccountDirectory, HolderAccount } from './directory.ts';

export class OutsideTransaction extends Error {
  /** Does the work; may return a clean-up to run once the transaction is finally over. */
  readonly work: () => Promise<(() => void) | void>;
  constructor(work: () => Promise<(() => void) | void>) {
    super('work to do outside the transaction');
    this.name = 'OutsideTransaction';
    this.work = work;
  }
}

/** A Db whose tx() performs requested outside work between attempts (a bounded number of times). */
export function withOutsideWork(db: Db, maxRounds = 3): Db {
  return {
    engine: db.engine,
    query: (sql, params) => db.query(sql, params),
    close: () => db.close(),
    async tx(fn) {
      const cleanups: Array<() => void> = [];
      try {
        for (let round = 0; ; round++) {
          try {
            return await db.tx(fn);
          } catch (e) {
            if (!(e instanceof OutsideTransaction) || round >= maxRounds) throw e;
            const cleanup = await e.work();
            if (cleanup) cleanups.push(cleanup);
          }
        }
      } finally {
        for (const c of cleanups) c();
      }
    },
  };
}

/** Holder lookups for handlers: fetched outside the transaction, kept only until taken. */
export interface HolderLookup {
  take(id: string): HolderAccount;
}

export function holderLookup(directory: AccountDirectory): HolderLookup {
  // Held for the moment between the lookup and the retried transaction; names and ID numbers
  // do not stay in memory longer than that.
  const fetched = new Map<string, HolderAccount>();
  return {
    take(id) {
      const a = fetched.get(id);
      if (a) {
        fetched.delete(id);
        return a;
      }
      throw new OutsideTransaction(async () => {
        fetched.set(id, await directory.get(id));
        return () => { fetched.delete(id); }; // e.g. when the retry found the licence already issued
      });
    },
  };
}

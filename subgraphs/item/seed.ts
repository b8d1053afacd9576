/**
 * Demo catalogue (SEED_DEMO): the shared agencies and items of kernel/demo.ts, written through
 * upsertAgency/upsertItem so a re-run with unchanged data changes nothing and emits no event.
 */
import type { Db } from '../../kernel/db.ts';
import type { Clock } from '../../kernel/clock.ts';
import { DEMO_AGENCIES, DEMO_ITEMS } from '../../kernel/demo.ts';
import { upsertAgency, upsertItem, type UpsertOutcome } from './upsert.ts';

export interface SeedResult {
  agencies: Record<UpsertOutcome, number>;
  items: Record<UpsertOutcome, number>;
}

export async function seedItemCatalogue(db: Db, clock: Clock): Promise<SeedResult> {
  const now = clock.now();
  const count = (): Record<UpsertOutcome, number> => ({ inserted: 0, updated: 0, unchanged: 0 });
  const result: SeedResult = { agencies: count(), items: count() };
  await db.tx(async (q) => {
    for (const a of DEMO_AGENCIES) result.agencies[await upsertAgency(q, a, now)] += 1;
    for (const i of DEMO_ITEMS) result.items[await upsertItem(q, i, now)] += 1;
  });
  return result;
}

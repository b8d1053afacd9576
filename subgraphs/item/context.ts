/**
 * What every resolver of the item subgraph gets: the batch loaders of one request (items,
 * agencies, an agency's items, popularity) on top of the caller the subgraph shell verified.
 */
import type { SubgraphContext } from '../../kernel/subgraph.ts';
import { batchLoader, type Load } from '../../kernel/loader.ts';
import type { Agency, Item } from './model.ts';
import type { ItemRepository } from './repository.ts';

export interface ItemLoaders {
  item: Load<string, Item | null>;
  agency: Load<string, Agency | null>;
  itemsOfAgency: Load<string, Item[]>;
  popularity: Load<string, number>;
}

export interface ItemContext extends SubgraphContext {
  loaders: ItemLoaders;
}

export function createLoaders(repo: ItemRepository): ItemLoaders {
  return {
    item: batchLoader(async (ids) => new Map((await repo.itemsByIds(ids)).map((i) => [i.id, i])), null),
    agency: batchLoader(async (codes) => new Map((await repo.agenciesByCodes(codes)).map((a) => [a.code, a])), null),
    itemsOfAgency: batchLoader(async (codes) => {
      const by = new Map<string, Item[]>();
      for (const i of await repo.itemsByAgencies(codes)) by.set(i.agencyCode, [...(by.get(i.agencyCode) ?? []), i]);
      return by;
    }, []),
    popularity: batchLoader(async (ids) => new Map((await repo.popularity(ids)).map((r) => [r.id, r.popularity])), 0),
  };
}

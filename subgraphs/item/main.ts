/** Run the item subgraph alone: `node subgraphs/item/main.ts` (port ITEM_PORT). */
import { runStandalone } from '../../kernel/service.ts';
import { startItemService } from './service.ts';

await runStandalone('item', startItemService, (c) => c.ITEM_PORT);

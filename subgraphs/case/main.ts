/** `node subgraphs/case/main.ts`: the case subgraph alone (production: one process per service). */
import { runStandalone } from '../../kernel/service.ts';
import { startCaseService } from './service.ts';

await runStandalone('case', startCaseService, (c) => c.CASE_PORT);

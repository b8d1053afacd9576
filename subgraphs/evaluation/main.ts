/** Run the evaluation subgraph alone: `node subgraphs/evaluation/main.ts` (port EVALUATION_PORT). */
import { runStandalone } from '../../kernel/service.ts';
import { startEvaluationService } from './service.ts';

await runStandalone('evaluation', startEvaluationService, (c) => c.EVALUATION_PORT);

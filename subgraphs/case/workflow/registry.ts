/**
 * Which workflow a case follows. Shipped definitions (./shipped.ts) plus custom ones stored in
 * `cases.workflows` (validated on save, immutable: a change is a new id, so a running case keeps
 * the rules it was submitted under). An item's implementation picks its workflow through
 * `cases.item_workflows`; without a binding, case type 1 (即办) gets `instant`, others `promised`.
 */
import type { Queryable } from '../../../kernel/db.ts';
import { AppError } from '../../../kernel/errors.ts';
import { CASE_SCHEMA as S } from '../migrations.ts';
import type { ItemReplica } from '../repository.ts';
import { validateWorkflow, type WorkflowDef } from './definition.ts';
import { SHIPPED } from './shipped.ts';

const shipped = new Map<string, WorkflowDef>(SHIPPED.map((w) => [w.id, validateWorkflow(w)]));
/** Custom definitions never change once stored, so a process may keep them. */
const custom = new Map<string, WorkflowDef>();

export async function workflowById(q: Queryable, id: string): Promise<WorkflowDef> {
  const known = shipped.get(id) ?? custom.get(id);
  if (known) return known;
  const { rows } = await q.query<{ definition: WorkflowDef }>(`select definition from ${S}.workflows where id = $1`, [id]);
  if (!rows[0]) throw new AppError('WORKFLOW_INVALID', `未知流程 / unknown workflow ${id}`, { problems: [`unknown workflow ${id}`] });
  custom.set(id, rows[0].definition);
  return rows[0].definition;
}

/** Shipped and already-seen custom definitions, without a query (the hot path). */
export const knownWorkflows = (): WorkflowDef[] => [...shipped.values(), ...custom.values()];

/** Every definition known to this process (for the pre-lookup role check and the work queue). */
export async function allWorkflows(q: Queryable): Promise<WorkflowDef[]> {
  const { rows } = await q.query<{ id: string; definition: WorkflowDef }>(`select id, definition from ${S}.workflows`);
  for (const r of rows) custom.set(r.id, r.definition);
  return [...shipped.values(), ...custom.values()];
}

/** Store a custom definition; WORKFLOW_INVALID lists every problem, and nothing is stored. */
export async function saveWorkflow(q: Queryable, def: WorkflowDef, now: Date): Promise<WorkflowDef> {
  validateWorkflow(def);
  if (shipped.has(def.id)) throw new AppError('WORKFLOW_INVALID', `流程 ${def.id} 为内置流程 / ${def.id} is a shipped workflow`, { problems: ['id taken by a shipped workflow'] });
  const { rowCount } = await q.query(`insert into ${S}.workflows (id, definition, created_at) values ($1, $2, $3) on conflict (id) do nothing`,
    [def.id, JSON.stringify(def), now]);
  if (rowCount === 0) throw new AppError('WORKFLOW_INVALID', `流程 ${def.id} 已存在 / workflow ${def.id} exists (definitions are immutable)`, { problems: ['id exists'] });
  return def;
}

/** Bind an item's implementation to a workflow (and, for parallel approval, its co-agencies). */
export async function bindItemWorkflow(q: Queryable, itemId: string, workflowId: string, coAgencies: string[], now: Date): Promise<void> {
  const def = await workflowById(q, workflowId);
  if (def.actions.some((a) => a.effects?.includes('parallelApproval')) && coAgencies.length === 0) {
    throw new AppError('WORKFLOW_INVALID', '并联审批需要协办部门 / parallel approval needs co-agencies', { problems: ['no co-agencies'] });
  }
  await q.query(
    `insert into ${S}.item_workflows (item_id, workflow_id, co_agencies, updated_at) values ($1, $2, $3, $4)
     on conflict (item_id) do update set workflow_id = excluded.workflow_id, co_agencies = excluded.co_agencies, updated_at = excluded.updated_at`,
    [itemId, workflowId, coAgencies, now]);
}

export async function workflowForItem(q: Queryable, item: ItemReplica): Promise<{ def: WorkflowDef; coAgencies: string[] }> {
  const { rows } = await q.query<{ workflow_id: string; co_agencies: string[] }>(
    `select workflow_id, co_agencies from ${S}.item_workflows where item_id = $1`, [item.id]);
  if (rows[0]) return { def: await workflowById(q, rows[0].workflow_id), coAgencies: rows[0].co_agencies };
  return { def: shipped.get(item.caseType === '1' ? 'instant' : 'promised')!, coAgencies: [] };
}

/**
 * Staff work queues by agency and role (R-CA-7): the cases of the caller's agency in a
 * state where one of the caller's roles has an action that moves the case on, by the case's own
 * workflow definition; for parallel approval (R-CA-9) also the cases a co-agency still has to
 * approve. Most urgent first: nearest deadline, then oldest.
 */
import type { Queryable } from '../../kernel/db.ts';
import type { StaffRole } from '../../kernel/internal-auth.ts';
import { CASE_SCHEMA as S } from './migrations.ts';
import { LIST_LIMIT, casesWhere, type CaseRecord } from './repository.ts';
import { allWorkflows } from './workflow/registry.ts';

/**
 * Voiding (GB/T 39046 outcome 2) and deleting (3) correct mistakes; a case one could void is not
 * work waiting for that role, so those actions do not put a case in a queue.
 */
const CORRECTIONS: readonly string[] = ['2', '3'];

export async function workQueue(q: Queryable, agency: string, roles: readonly StaffRole[]): Promise<CaseRecord[]> {
  const own: string[] = [];
  const co: string[] = [];
  const params: unknown[] = [agency];
  const p = (v: unknown) => { params.push(v); return `$${params.length}`; };
  for (const def of await allWorkflows(q)) {
    const mine = def.actions.filter((a) => a.to !== undefined && !CORRECTIONS.includes(a.outcome ?? '') && a.roles.some((r) => (roles as readonly string[]).includes(r)));
    const states = [...new Set(mine.flatMap((a) => a.from))];
    if (states.length) own.push(`(workflow_id = ${p(def.id)} and status = any(${p(states)}::text[]))`);
    const parallel = [...new Set(mine.filter((a) => a.effects?.includes('parallelApproval')).flatMap((a) => a.from))];
    if (parallel.length) co.push(`(workflow_id = ${p(def.id)} and status = any(${p(parallel)}::text[]))`);
  }
  if (!own.length && !co.length) return [];
  const notYetApproved = `not exists (select 1 from ${S}.case_approvals ap where ap.case_id = cases.id and ap.agency_code = $1)`;
  const where = [
    own.length ? `(agency_code = $1 and (${own.join(' or ')}))` : null,
    co.length ? `($1 = any(co_agencies) and (${co.join(' or ')}) and ${notYetApproved})` : null,
  ].filter(Boolean).join(' or ');
  return casesWhere(q, where, params, `order by deadline_at nulls last, submitted_at, case_number limit ${LIST_LIMIT}`);
}

/**
 * Who may see a rating: the applicant who gave it, and staff of the agency that handled the case
 * (they must call back and rectify bad ratings, R-EV-4). Everyone else sees null, as if unrated.
 */
import type { Caller } from '../../kernel/internal-auth.ts';
import type { EvaluationRecord } from './repository.ts';

export function canSeeEvaluation(caller: Caller, e: EvaluationRecord): boolean {
  if (caller.kind === 'person') return caller.sub === e.applicantId;
  if (caller.kind === 'staff') return caller.agency === e.agencyCode;
  return false;
}

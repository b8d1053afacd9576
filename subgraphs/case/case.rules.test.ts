import { describe, expect, test } from '@jest/globals';
import { checksFor } from './workflow/index.ts';
import { caseExists, holdsRole, reasonGiven, roleInCaseAgency, signedIn, statusAllows, versionCurrent } from './workflow/checks.ts';
import { TRANSITIONS, canTransition } from './workflow/transitions.ts';
import type { CaseRecord } from './repository.ts';

describe('case.rules', () => {
  test('every staff action: logged in, role held, case found, role in its agency, current version, allowed status — in that order', () => {
    for (const action of ['accept', 'reject', 'approve'] as const) {
      const checks = checksFor(action);
      const order = [signedIn, holdsRole, caseExists, roleInCaseAgency, versionCurrent, statusAllows].map((c) => checks.indexOf(c));
      expect(order.every((i) => i >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      expect(checks.at(-1)).toBe(statusAllows);
    }
  });

  test('only a refusal needs a reason', () => {
    expect(checksFor('reject')).toContain(reasonGiven);
    expect(checksFor('accept')).not.toContain(reasonGiven);
    expect(checksFor('approve')).not.toContain(reasonGiven);
  });

  test('state machine: roles, sources and outcome codes (R-CA-7, R-CA-10)', () => {
    expect(TRANSITIONS.accept.by).toBe('acceptor');
    expect(TRANSITIONS.reject.by).toBe('acceptor');
    expect(TRANSITIONS.approve.by).toBe('decider');
    expect(canTransition('accept', 'SUBMITTED')).toBe(true);
    expect(canTransition('approve', 'SUBMITTED')).toBe(false);
    expect(canTransition('complete', 'APPROVED')).toBe(true);
    for (const s of ['REJECTED', 'COMPLETED'] as const) {
      for (const a of ['accept', 'reject', 'approve', 'complete'] as const) expect(canTransition(a, s)).toBe(false);
    }
    const base = { licenceType: null } as CaseRecord;
    expect(TRANSITIONS.reject.to(base)).toEqual({ status: 'REJECTED', outcomeCode: '6' });
    expect(TRANSITIONS.approve.to(base)).toEqual({ status: 'COMPLETED', outcomeCode: '0' });
    expect(TRANSITIONS.approve.to({ ...base, licenceType: { code: 'X', name: 'x' } })).toEqual({ status: 'APPROVED', outcomeCode: null });
    expect(TRANSITIONS.complete.to(base)).toEqual({ status: 'COMPLETED', outcomeCode: '0' });
  });
});

import { describe, expect, test } from '@jest/globals';
import { CHECKS } from './workflow/index.ts';
import {
  actorAllowed, caseExists, holdsRole, reasonGiven, signedIn, statusAllows, versionCurrent, workflowLoaded,
} from './workflow/checks.ts';
import { canTake } from './workflow/transitions.ts';
import { actionOf } from './workflow/definition.ts';
import { INSTANT, PARALLEL, PROMISED, SHIPPED } from './workflow/shipped.ts';

const order = CHECKS.map(([c]) => c);

describe('case.rules', () => {
  test('every action: logged in, role held, case found, its workflow, actor in its agency, reason, current version, allowed status — in that order', () => {
    const idx = [signedIn, holdsRole, caseExists, workflowLoaded, actorAllowed, reasonGiven, versionCurrent, statusAllows].map((c) => order.indexOf(c));
    expect(idx.every((i) => i >= 0)).toBe(true);
    expect([...idx].sort((a, b) => a - b)).toEqual(idx);
    expect(order.at(-1)).toBe(statusAllows);
  });

  test('the first release\'s actions keep their roles, sources and outcome codes (R-CA-7, R-CA-10)', () => {
    for (const def of SHIPPED) {
      expect(actionOf(def, 'accept')).toMatchObject({ roles: ['acceptor'], from: ['SUBMITTED'], to: 'ACCEPTED' });
      expect(actionOf(def, 'reject')).toMatchObject({ roles: ['acceptor'], to: 'REJECTED', outcome: '6', reasonRequired: true });
      expect(actionOf(def, 'approve')).toMatchObject({ to: 'APPROVED', toWithoutLicence: 'COMPLETED', outcomeWithoutLicence: '0' });
      expect(actionOf(def, 'complete')).toMatchObject({ roles: ['system'], from: ['APPROVED'], to: 'COMPLETED', outcome: '0' });
      expect(actionOf(def, 'accept')?.reasonRequired).toBeUndefined();
      expect(actionOf(def, 'deny')).toMatchObject({ outcome: '1', reasonRequired: true });
    }
    expect(actionOf(PROMISED, 'approve')?.roles).toEqual(['decider']);
    expect(actionOf(INSTANT, 'approve')?.roles).toEqual(['acceptor', 'decider']); // 即办: decided on the spot
    expect(actionOf(PARALLEL, 'approve')?.effects).toEqual(['parallelApproval']);
    expect(canTake(PROMISED, 'accept', 'SUBMITTED')).not.toBeNull();
    expect(canTake(PROMISED, 'approve', 'SUBMITTED')).toBeNull();
    expect(canTake(PROMISED, 'complete', 'APPROVED')).not.toBeNull();
    for (const s of ['REJECTED', 'COMPLETED'] as const) {
      for (const a of ['accept', 'reject', 'approve', 'complete', 'requestSupplement', 'startProcedure']) expect(canTake(PROMISED, a, s)).toBeNull();
    }
    expect(canTake(PROMISED, 'deliver', 'COMPLETED')).not.toBeNull(); // a recorded step: the case stays COMPLETED
    expect(actionOf(PROMISED, 'deliver')?.to).toBeUndefined();
  });
});

import { describe, expect, test } from '@jest/globals';
import { validateWorkflow, workflowProblems, type WorkflowDef } from './workflow/definition.ts';
import { PROMISED, SHIPPED } from './workflow/shipped.ts';

const base: WorkflowDef = {
  id: 'tiny', name: 'tiny', initial: 'SUBMITTED',
  states: [{ code: 'SUBMITTED', label: 's', deadline: 5 }, { code: 'COMPLETED', label: 'c', final: true }],
  actions: [{ name: 'approve', label: 'a', from: ['SUBMITTED'], to: 'COMPLETED', outcome: '0', roles: ['decider'] }],
};
const broken = (patch: Partial<WorkflowDef>) => workflowProblems({ ...base, ...patch });

describe('case.definition', () => {
  test('the shipped workflows are valid', () => {
    for (const w of SHIPPED) expect(workflowProblems(w)).toEqual([]);
    expect(workflowProblems(base)).toEqual([]);
  });

  test('the validator refuses a broken definition and says what is wrong', () => {
    expect(broken({ initial: 'ACCEPTED' })).toEqual(expect.arrayContaining([expect.stringMatching(/initial: unknown state ACCEPTED/)]));
    expect(broken({ states: [...base.states, { code: 'NOWHERE', label: 'x' }] })).toEqual([expect.stringMatching(/NOWHERE: not a case status/)]);
    expect(broken({ actions: [{ ...base.actions[0]!, roles: [] }] })).toEqual([expect.stringMatching(/no role may take it/)]);
    expect(broken({ actions: [{ ...base.actions[0]!, roles: ['janitor' as never] }] })).toEqual([expect.stringMatching(/unknown role janitor/)]);
    expect(broken({ actions: [{ ...base.actions[0]!, to: 'APPROVED' }] })).toEqual([expect.stringMatching(/unknown target state APPROVED/)]);
    expect(broken({ actions: [{ ...base.actions[0]!, outcome: '9' }] })).toEqual([expect.stringMatching(/not a GB\/T 39046 code/)]);
    expect(broken({ actions: [{ ...base.actions[0]!, outcome: undefined }] } as never)).toEqual([expect.stringMatching(/without an outcome code/)]);
    expect(broken({ actions: [{ ...base.actions[0]!, effects: ['teleport' as never] }] })).toEqual([expect.stringMatching(/unknown effect teleport/)]);
    expect(broken({ actions: [base.actions[0]!, base.actions[0]!] })).toEqual([expect.stringMatching(/defined twice/)]);
    expect(broken({ states: [{ code: 'SUBMITTED', label: 's', deadline: -1 }, base.states[1]!] })).toEqual([expect.stringMatching(/deadline/)]);
    expect(broken({ states: [base.states[0]!, { code: 'COMPLETED', label: 'c' }] })).toEqual(expect.arrayContaining(['states: no final state']));
    expect(broken({
      actions: [...base.actions, { name: 'reopen', label: 'r', from: ['COMPLETED'], to: 'SUBMITTED', roles: ['decider'] }],
    })).toEqual([expect.stringMatching(/leaves final state COMPLETED/)]);
  });

  test('graph checks: unreachable states and dead ends', () => {
    expect(broken({ states: [...base.states, { code: 'ACCEPTED', label: 'a' }] }))
      .toEqual(expect.arrayContaining([expect.stringMatching(/ACCEPTED: unreachable/), expect.stringMatching(/ACCEPTED: no way to a final state/)]));
    expect(broken({
      states: [...base.states, { code: 'SUSPENDED', label: 'p', clock: 'paused' }],
      actions: [...base.actions, { name: 'pause', label: 'p', from: ['SUBMITTED'], to: 'SUSPENDED', roles: ['reviewer'] }],
    })).toEqual([expect.stringMatching(/SUSPENDED: no way to a final state \(dead end\)/)]);
  });

  test('validateWorkflow throws WORKFLOW_INVALID listing every problem', () => {
    expect(() => validateWorkflow({ ...base, id: 'X Y', name: '' })).toThrow(expect.objectContaining({
      code: 'WORKFLOW_INVALID', details: { problems: [expect.stringMatching(/^id/), 'name: required'] },
    }));
    expect(validateWorkflow(PROMISED)).toBe(PROMISED);
  });
});

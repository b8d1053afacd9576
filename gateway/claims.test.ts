/**
 * Access-token claims → Caller for a person acting for a company (R-ID-8):
 * `yw_act` becomes `actingFor`, which the gateway's identity assertion carries to subgraphs
 * unchanged; its end and last change are kept for the per-request check (gateway/delegations.ts);
 * a malformed `yw_act` refuses the token; tokens without it are as before.
 */
import { describe, expect, test } from '@jest/globals';
import { actingTermsOf, callerFromClaims } from './claims.ts';
import { internalKey, operationHash, signIdentity, verifyIdentity } from '../kernel/internal-auth.ts';
import { creditCodeCheckChar } from '../kernel/ids.ts';

const COMPANY = `91330106MA2B00000${creditCodeCheckChar('91330106MA2B00000')}`;
const PERSON = { sub: 'acc-person-1', yw_kind: 'person', yw_name: '张三', acr: 'urn:yiwang:loa:3' };
const ACTING_FOR = { company: COMPANY, scope: ['b0f7c1f2-0001-4000-8000-000000000001'], delegationId: 'd0000000-0000-4000-8000-000000000001' };
const ACT = { ...ACTING_FOR, validUntil: '2026-12-31T16:00:00.000Z', changedAt: 1_767_225_600_000 };

describe('claims.actingFor (R-ID-8)', () => {
  test('yw_act becomes actingFor on the person caller; its end and last change are the terms the gateway checks', () => {
    expect(callerFromClaims({ ...PERSON, yw_act: ACT })).toEqual({ kind: 'person', sub: 'acc-person-1', name: '张三', acr: 'urn:yiwang:loa:3', actingFor: ACTING_FOR });
    expect(actingTermsOf({ ...PERSON, yw_act: ACT })).toEqual({ delegationId: ACT.delegationId, validUntil: Date.parse(ACT.validUntil), changedAt: ACT.changedAt });
    expect(actingTermsOf(PERSON)).toBeUndefined();
  });

  test('without yw_act the caller is exactly as before (no actingFor key)', () => {
    expect(callerFromClaims(PERSON)).toEqual({ kind: 'person', sub: 'acc-person-1', name: '张三', acr: 'urn:yiwang:loa:3' });
    expect('actingFor' in callerFromClaims(PERSON)).toBe(false);
  });

  test.each([
    ['not an object', 'company'],
    ['an invalid credit code', { ...ACT, company: '91330106MA2B000000' }],
    ['an empty scope', { ...ACT, scope: [] }],
    ['a scope that is not strings', { ...ACT, scope: [1] }],
    ['no delegation id', { ...ACT, delegationId: '' }],
    ['no end', { ...ACT, validUntil: undefined }],
    ['an end that is not a time', { ...ACT, validUntil: 'soon' }],
    ['no last change', { ...ACT, changedAt: '2026-01-01' }],
  ])('yw_act with %s is TOKEN_INVALID', (_what, act) => {
    expect(() => callerFromClaims({ ...PERSON, yw_act: act })).toThrow(expect.objectContaining({ code: 'TOKEN_INVALID' }));
  });

  test('the identity assertion carries actingFor to the subgraph', async () => {
    const key = internalKey('x'.repeat(40));
    const caller = callerFromClaims({ ...PERSON, yw_act: ACT });
    const op = operationHash('{ me { id } }', {});
    expect(await verifyIdentity(key, await signIdentity(key, caller, op), op)).toEqual(caller);
  });
});

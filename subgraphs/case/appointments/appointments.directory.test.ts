import { describe, expect, test } from '@jest/globals';
import { ManualClock } from '../../../kernel/clock.ts';
import { AppError } from '../../../kernel/errors.ts';
import { internalKey, verifyServiceToken } from '../../../kernel/internal-auth.ts';
import { TEST_SECRET } from '../../../test/support/infra.ts';
import { idpApplicantDirectory } from './directory.ts';

const key = internalKey(TEST_SECRET);
const clock = new ManualClock('2026-11-23T01:00:00Z');
const ID = '7c1d5c4e-0000-4000-8000-000000000001';

function fakeFetch(answer: () => Response | Promise<Response>) {
  const seen: Array<{ url: string; auth: string }> = [];
  const f = (async (url: string | URL | Request, init?: RequestInit) => {
    seen.push({ url: String(url), auth: new Headers(init?.headers).get('authorization') ?? '' });
    return answer();
  }) as typeof fetch;
  return { f, seen };
}

const codeOf = async (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (e instanceof AppError ? e.code : 'other'));

describe('appointments.directory (IdP internal account API)', () => {
  test('reads ID number and mobile with a service token for the IdP audience', async () => {
    const { f, seen } = fakeFetch(() => Response.json({ id: ID, kind: 'person', name: '张三', idNumber: '11010519491231002X', mobile: '13800138000' }));
    const dir = idpApplicantDirectory({ baseUrl: 'http://idp.test/', key, clock, fetch: f });
    expect(await dir.get(ID)).toEqual({ id: ID, name: '张三', idNumber: '11010519491231002X', mobile: '13800138000' });
    expect(seen[0]!.url).toBe(`http://idp.test/internal/accounts/${ID}`);
    const token = seen[0]!.auth.replace(/^Bearer /, '');
    expect(await verifyServiceToken(key, token, 'urn:yiwang:idp', clock.now())).toBe('case');
  });

  test('no mobile in the answer → mobile null (the reminder is skipped, not failed)', async () => {
    const { f } = fakeFetch(() => Response.json({ id: ID, name: '张三', idNumber: '11010519491231002X' }));
    expect((await idpApplicantDirectory({ baseUrl: 'http://idp.test', key, clock, fetch: f }).get(ID)).mobile).toBeNull();
  });

  test('IdP down, an error status or no ID number → SERVICE_UNAVAILABLE', async () => {
    const down = idpApplicantDirectory({ baseUrl: 'http://idp.test', key, clock, fetch: (async () => { throw new TypeError('fetch failed'); }) as typeof fetch });
    expect(await codeOf(down.get(ID))).toBe('SERVICE_UNAVAILABLE');
    const status = idpApplicantDirectory({ baseUrl: 'http://idp.test', key, clock, fetch: fakeFetch(() => new Response('{}', { status: 404 })).f });
    expect(await codeOf(status.get(ID))).toBe('SERVICE_UNAVAILABLE');
    const empty = idpApplicantDirectory({ baseUrl: 'http://idp.test', key, clock, fetch: fakeFetch(() => Response.json({ id: ID, name: 'x' })).f });
    expect(await codeOf(empty.get(ID))).toBe('SERVICE_UNAVAILABLE');
  });
});

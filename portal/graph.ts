/**
 * The guide pages' only data source: the one graph, through the gateway, as an anonymous
 * visitor (R-ID-13: items, agencies, search and navigation are public), or on behalf of the
 * person logged in (`asPerson`: the live chat, R-EV-2). No database, no subgraph called directly.
 */
import { AppError } from '../kernel/errors.ts';

export interface GraphClient {
  query<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
  /** As a person (their access token): the data, or the first error's code and message. */
  asPerson?<T>(token: string, query: string, variables?: Record<string, unknown>): Promise<{ data: T } | { code: string; message: string }>;
}

export function graphClient(url: string, timeoutMs = 5000): GraphClient {
  return {
    async query<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ query, variables }), signal: AbortSignal.timeout(timeoutMs),
        });
      } catch {
        throw new AppError('SERVICE_UNAVAILABLE', '服务暂时不可用 / the service is unavailable');
      }
      const body = await res.json().catch(() => null) as { data?: T; errors?: Array<{ message: string; extensions?: { code?: string; details?: Record<string, string> } }> } | null;
      const err = body?.errors?.[0];
      if (err) {
        const code = err.extensions?.code;
        if (code === 'BAD_INPUT') throw new AppError('BAD_INPUT', err.message, err.extensions?.details);
        throw new AppError('SERVICE_UNAVAILABLE', '服务暂时不可用 / the service is unavailable');
      }
      if (!res.ok || !body?.data) throw new AppError('SERVICE_UNAVAILABLE', '服务暂时不可用 / the service is unavailable');
      return body.data;
    },
    async asPerson<T>(token: string, query: string, variables: Record<string, unknown> = {}) {
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query, variables }), signal: AbortSignal.timeout(timeoutMs),
        });
      } catch {
        return { code: 'SERVICE_UNAVAILABLE', message: '服务暂时不可用 / the service is unavailable' };
      }
      const body = await res.json().catch(() => null) as { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> } | null;
      const err = body?.errors?.[0];
      if (err) return { code: err.extensions?.code ?? 'INTERNAL', message: err.message };
      if (!res.ok || !body?.data) return { code: 'SERVICE_UNAVAILABLE', message: '服务暂时不可用 / the service is unavailable' };
      return { data: body.data };
    },
  };
}

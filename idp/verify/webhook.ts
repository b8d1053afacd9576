/**
 * The production verifier: the operator's registry gateway (which fronts the population
 * registry, the carriers' real-name check, banks, social security, housing fund, traffic police
 * and the business registry). One POST per question, signed like the SMS webhook
 * (`x-yiwang-signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, kernel/notify.ts):
 *
 *   { "check": "person" | "factor" | "company", ...fields }  →  { "result": "match" | "mismatch" | "unknown" }
 *
 * A gateway failure is `unknown` (never `match`): a factor that could not be checked does not count.
 */
import { signWebhook } from '../../kernel/notify.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Logger } from '../../kernel/log.ts';
import type { Verifier, VerifyResult } from './verifier.ts';

export function webhookVerifier(o: { url: string; secret: string; clock: Clock; log: Logger; timeoutMs?: number }): Verifier {
  async function ask(payload: Record<string, unknown>): Promise<VerifyResult> {
    const body = JSON.stringify(payload);
    try {
      const res = await fetch(o.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-yiwang-signature': signWebhook(o.secret, body, Math.floor(o.clock.now().getTime() / 1000)) },
        body,
        signal: AbortSignal.timeout(o.timeoutMs ?? 5000),
      });
      if (!res.ok) throw new Error(`registry gateway answered ${res.status}`);
      const r = (await res.json() as { result?: unknown }).result;
      return r === 'match' || r === 'mismatch' ? r : 'unknown';
    } catch (err) {
      // Which check failed, never the values asked about.
      o.log.warn({ check: payload.check, err: (err as Error).message }, 'registry gateway unavailable');
      return 'unknown';
    }
  }
  return {
    name: 'webhook',
    person: (p) => ask({ check: 'person', name: p.name, idNumber: p.idNumber }),
    factor: (p, kind, value) => ask({ check: 'factor', name: p.name, idNumber: p.idNumber, kind, value }),
    company: (c) => ask({ check: 'company', ...c }),
  };
}

/**
 * Notifications to people (SMS today; app push later): one-time codes (R-ID-5/6/7), case
 * notices (R-CA-3), account notices (R-ID-9). A `Notifier` has one method; sinks:
 * - `devNotifier`: logs a masked line and appends the full message to a JSON-lines file that
 *   tests (and a developer) read. Never for production.
 * - `webhookNotifier`: POSTs JSON to the operator's SMS gateway, signed with HMAC-SHA256 over
 *   `<timestamp>.<body>` (header `x-yiwang-signature: t=<unix>,v1=<hex>`), so the gateway can refuse
 *   forged or replayed calls; non-2xx is an error the caller sees (a code not sent is not a code).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from './errors.ts';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { maskMobile } from './ids.ts';
import type { Logger } from './log.ts';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import { join, resolve } from 'node:path';

export interface Notice {
  /** Mainland mobile number. */
  to: string;
  /** Stable template name, e.g. `otp.login`, `case.accepted`. */
  template: string;
  /** Text as the person reads it (zh-CN first). */
  text: string;
  /** Template parameters; never logged. */
  params?: Record<string, string>;
}

export interface Notifier {
  send(n: Notice): Promise<void>;
}

export interface SentNotice extends Notice {
  at: string;
}

export function devNotifier(o: { file: string; log: Logger; clock: Clock }): Notifier & { read(): Promise<SentNotice[]> } {
  return {
    async send(n) {
      const line = `${JSON.stringify({ ...n, at: o.clock.now().toISOString() })}\n`;
      // The directory is made when the first append finds it missing, not before every notice.
      await appendFile(o.file, line, { mode: 0o600 }).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
        await mkdir(dirname(o.file), { recursive: true });
        await appendFile(o.file, line, { mode: 0o600 });
      });
      // The text may hold a one-time code: only the template and the masked number are logged.
      o.log.info({ to: maskMobile(n.to), template: n.template }, 'notice sent (development sink)');
    },
    async read() {
      const text = await readFile(o.file, 'utf8').catch(() => '');
      return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as SentNotice);
    },
  };
}

export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** For the receiving side (and tests): true when the signature matches and is recent. */
export function verifyWebhook(secret: string, body: string, header: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!m) return false;
  const t = Number(m[1]);
  if (Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, body, t).split('v1=')[1]!, 'hex');
  return timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'));
}

export function webhookNotifier(o: { url: string; secret: string; log: Logger; clock: Clock; timeoutMs?: number }): Notifier {
  return {
    async send(n) {
      const body = JSON.stringify({ to: n.to, template: n.template, text: n.text, params: n.params ?? {} });
      const t = Math.floor(o.clock.now().getTime() / 1000);
      const res = await fetch(o.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-yiwang-signature': signWebhook(o.secret, body, t) },
        body,
        signal: AbortSignal.timeout(o.timeoutMs ?? 5000),
      });
      if (!res.ok) {
        o.log.error({ to: maskMobile(n.to), template: n.template, status: res.status }, 'notice refused by the SMS gateway');
        // 5xx and 429: the gateway is down or busy; the notice waits (kernel/events.ts notYet). 4xx: a real refusal.
        if (res.status >= 500 || res.status === 429) throw new AppError('SERVICE_UNAVAILABLE', `SMS gateway answered ${res.status}`);
        throw new Error(`SMS gateway answered ${res.status}`);
      }
    },
  };
}

/** The notifier configuration asks for (NOTIFY_SINK). */
export function createNotifier(config: Config, log: Logger, clock: Clock): Notifier & { read?: () => Promise<SentNotice[]> } {
  if (config.NOTIFY_SINK === 'webhook') {
    return webhookNotifier({ url: config.NOTIFY_WEBHOOK_URL!, secret: config.NOTIFY_WEBHOOK_SECRET!, log, clock });
  }
  return devNotifier({ file: config.NOTIFY_DEV_FILE ?? join(resolve(config.DATA_DIR), 'notifications.jsonl'), log, clock });
}

/**
 * Development only: the development SMS sink (kernel/notify.ts devNotifier, a file) of each IdP
 * running in this process, by issuer, so test helpers (test/support/oidc.ts registerPerson) can
 * read the code a registration needs without knowing where the IdP keeps its file. Never filled
 * in production: NOTIFY_SINK=dev is refused there (kernel/config.ts), and idp/wire.ts registers
 * only a sink that can be read.
 */
import type { SentNotice } from '../../kernel/notify.ts';

type Read = () => Promise<SentNotice[]>;
const sinks = new Map<string, Read>();
const norm = (issuer: string) => issuer.replace(/\/+$/, '');

export function registerDevSink(issuer: string, read: Read): void {
  sinks.set(norm(issuer), read);
}

export function devSink(issuer: string): Read | undefined {
  return sinks.get(norm(issuer));
}

/**
 * Registration as a front end does it (R-ID-1): read the agreement version from the IdP's
 * registration page (the box the person ticks), ask for the SMS code that proves the mobile
 * number, read it where the platform sent it, and post the registration as JSON.
 */
import { loadConfig } from '../../kernel/config.ts';
import { systemClock } from '../../kernel/clock.ts';
import { silentLogger } from '../../kernel/log.ts';
import { createNotifier } from '../../kernel/notify.ts';

/** The last registration code sent to a mobile number; undefined when none was sent. */
export type CodeReader = (mobile: string) => Promise<string | undefined>;

export interface Citizen { name: string; idNumber: string; mobile: string; password: string }

/**
 * Codes from the development SMS sink's file of a platform running elsewhere (`npm start`):
 * NOTIFY_DEV_FILE, default `<DATA_DIR>/notifications.jsonl`, as configured in this environment.
 */
export function devSinkCodes(env: Record<string, string | undefined> = process.env): CodeReader {
  const config = loadConfig(env);
  if (config.NOTIFY_SINK !== 'dev') throw new Error('the journey reads SMS codes from the development sink: run the platform with NOTIFY_SINK=dev');
  const sink = createNotifier(config, silentLogger(), systemClock);
  return async (mobile) => ((await sink.read?.()) ?? []).filter((n) => n.to === mobile && n.template === 'otp.register').at(-1)?.params?.code;
}

async function json(res: Response): Promise<Record<string, unknown>> {
  const text = await res.text();
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { code: `HTTP_${res.status}`, title: text.slice(0, 200) };
  }
}

/**
 * Register a person with two verifiable factors: the mobile number (by its SMS code) and a
 * social-security card number, which the development registry confirms for people it does not list.
 */
export async function registerCitizen(issuer: string, c: Citizen, codes: CodeReader): Promise<{ id: string }> {
  const page = await fetch(new URL('/register', issuer), { headers: { accept: 'text/html' } });
  const agreementVersion = /name="agreementVersion" value="([^"]+)"/.exec(await page.text())?.[1];
  if (!agreementVersion) throw new Error(`the registration page (HTTP ${page.status}) shows no agreement to accept`);

  const sent = await fetch(new URL('/register/code', issuer), {
    method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ mobile: c.mobile }),
  });
  if (sent.status !== 202) {
    const b = await json(sent);
    throw Object.assign(new Error(`no SMS code sent: ${String(b.code)} ${String(b.title)}`), { code: b.code, status: sent.status });
  }
  const mobileCode = await codes(c.mobile);
  if (!mobileCode) throw new Error(`no registration code found for ${c.mobile.slice(0, 3)}****${c.mobile.slice(7)} in the development SMS sink`);

  const res = await fetch(new URL('/register', issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ ...c, factorType: 'socialSecurityCard', factorValue: 'A12345678', agreementVersion, mobileCode }),
  });
  const body = await json(res);
  if (res.status !== 201) throw Object.assign(new Error(`registration refused: ${String(body.code)} ${String(body.title)}`), { code: body.code, status: res.status });
  return { id: String(body.id) };
}

/**
 * Licences across platforms (R-LI-3), for journeys over `npm run tiers`: a licence issued on one
 * platform (./steps.ts runJourney against that platform's endpoints) is verified on another —
 * its JSON endpoint, its verify page and `yiwang verify` with only the national seal root — and
 * revoked where it was issued. Each function is one HTTP call (or one CLI run) and throws on an
 * answer that is not the protocol's, never on a verdict: the verdict is returned.
 *
 * Where things are: tiers.json (bin/tiers/plan.ts TiersJson) names each platform's `licence`
 * service and `gateway`, and `sealTrustAnchors` (the national root).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVerify } from '../../seal/index.ts';
import { gqlOk } from './steps.ts';

/** The answer of `POST <licence>/verify` (subgraphs/licence/verify-answer.ts). */
export interface LicenceVerdict {
  valid: boolean;
  reason: string | null;
  message: string | null;
  licence: { identifier: string; issuerName: string; issuerCode: string; holderCodeMasked: string; timestamped: boolean } & Record<string, unknown> | null;
}

/** `POST <licence>/verify` with `{ credential }` at any platform's licence service. */
export async function verifyLicenceAt(licence: string, credential: string): Promise<LicenceVerdict> {
  const res = await fetch(`${licence}/verify`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ credential }), signal: AbortSignal.timeout(15_000),
  });
  if (res.status !== 200) throw new Error(`${licence}/verify answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return await res.json() as LicenceVerdict;
}

/** The verify page's form (`POST <licence>/verify`, multipart, the pasted text): valid, or the code it shows. */
export async function verifyPageAt(licence: string, credential: string): Promise<{ valid: boolean; code: string | null }> {
  const form = new FormData();
  form.set('credential', credential);
  const res = await fetch(`${licence}/verify`, { method: 'POST', body: form, signal: AbortSignal.timeout(15_000) });
  const html = await res.text();
  if (!res.headers.get('content-type')?.startsWith('text/html')) throw new Error(`${licence}/verify answered ${res.status} without a page`);
  return { valid: html.includes('data-valid="true"'), code: /data-code="([A-Z_]+)"/.exec(html)?.[1] ?? null };
}

/** `yiwang verify --trust <root> --online` (status lists and CRLs fetched, then cached) in a scratch directory: exit code and output. */
export async function verifyWithCli(credential: string, trustAnchorsFile: string): Promise<{ code: number; out: string; err: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'yw-verify-'));
  try {
    writeFileSync(join(dir, 'licence.jws'), credential);
    const out: string[] = [];
    const err: string[] = [];
    const code = await runVerify(['licence.jws', '--trust', trustAnchorsFile, '--status-cache', 'cache', '--online'], {
      out: (l) => out.push(l), err: (l) => err.push(l), env: {}, cwd: dir,
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The holder's licence id for its identifier (`myLicences` on the issuing platform's gateway). */
export async function myLicenceId(gateway: string, citizenToken: string, identifier: string): Promise<string> {
  const d = await gqlOk<{ myLicences: Array<{ id: string; identifier: string }> }>(gateway, citizenToken, '{ myLicences { id identifier } }');
  const found = d.myLicences.find((l) => l.identifier === identifier);
  if (!found) throw new Error(`no licence ${identifier} in myLicences`);
  return found.id;
}

/** `revokeLicence` on the issuing platform's gateway, as a decider of the issuing agency; returns the new state. */
export async function revokeLicenceAt(gateway: string, deciderToken: string, licenceId: string, reason: string): Promise<string> {
  const d = await gqlOk<{ revokeLicence: { state: string } }>(gateway, deciderToken,
    'mutation ($id: ID!, $reason: String!) { revokeLicence(id: $id, reason: $reason) { state } }', { id: licenceId, reason });
  return d.revokeLicence.state;
}

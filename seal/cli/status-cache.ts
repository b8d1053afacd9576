/**
 * The verifier's cache of status-list credentials (`yiwang verify`): one file per list URL
 * (<cache>/<sha256 of the URL>.jws). Offline, the cached copy is used until the credential's
 * own validUntil (the list's ttl) — the verifier checks that, not this file.
 *
 * `--online` refreshes only the lists of a licence whose seal signature and chain already
 * verified (URLs from an unverified payload could point anywhere), fetches each
 * with a size limit and a timeout, and writes an answer only after it verified as that
 * licence's list (seal chain, issuing agency, id, purpose, not expired): a bad or older answer
 * never replaces the cached copy.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChainCertificate } from '../chain/certificate.ts';
import type { LicenceCredential } from '../licence/credential.ts';
import type { ParsedCrl } from '../x509/index.ts';
import { readStatusList, statusEntries, type StatusListSource } from '../status/check.ts';
import { fetchLimited } from '../status/fetch.ts';

const fileFor = (dir: string, url: string) => join(dir, `${createHash('sha256').update(url).digest('hex')}.jws`);

export function cachedStatusLists(dir: string): StatusListSource {
  return {
    async get(url) {
      const f = fileFor(dir, url);
      return existsSync(f) ? readFileSync(f, 'utf8') : null;
    },
  };
}

const validFromOf = (jws: string): number => {
  try {
    return Date.parse((JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString()) as { validFrom?: string }).validFrom ?? '') || 0;
  } catch {
    return 0;
  }
};

/**
 * Fetch, verify and store each status list of a verified licence; returns the lists that could
 * not be refreshed, each with why (the cached copy, if any, stays).
 */
export async function refreshStatusLists(
  dir: string, credential: LicenceCredential, o: { anchors: readonly ChainCertificate[]; crls: readonly ParsedCrl[]; now: Date; fetch: typeof fetch },
): Promise<Array<{ url: string; why: string }>> {
  const failed: Array<{ url: string; why: string }> = [];
  const issuerCode = credential.credentialSubject.licence.issuerCode;
  mkdirSync(dir, { recursive: true });
  for (const entry of statusEntries(credential)) {
    const url = entry.statusListCredential;
    try {
      const jws = (await fetchLimited(o.fetch, url, { accept: 'application/vc+jwt' })).toString('utf8').trim();
      await readStatusList(jws, entry, issuerCode, o.anchors, o.now, undefined, o.crls);
      const file = fileFor(dir, url);
      // A verified but older list than the cached one (a replay) does not replace it.
      if (existsSync(file) && validFromOf(readFileSync(file, 'utf8')) > validFromOf(jws)) throw new Error('older than the cached list');
      writeFileSync(`${file}.tmp`, jws);
      renameSync(`${file}.tmp`, file);
    } catch (e) {
      failed.push({ url, why: e instanceof Error ? e.message : String(e) });
    }
  }
  return failed;
}

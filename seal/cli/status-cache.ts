/**
 * The verifier's cache of status-list credentials (`yiwang verify`): one file per list URL
 * (<cache>/<sha256 of the URL>.jws). Offline, the cached copy is used until the credential's
 * own validUntil (the list's ttl) — the verifier checks that, not this file. `--online` fetches
 * the lists a licence names and replaces the cached copies.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StatusListSource } from '../status/check.ts';

const fileFor = (dir: string, url: string) => join(dir, `${createHash('sha256').update(url).digest('hex')}.jws`);

export function cachedStatusLists(dir: string): StatusListSource {
  return {
    async get(url) {
      const f = fileFor(dir, url);
      return existsSync(f) ? readFileSync(f, 'utf8') : null;
    },
  };
}

/** Fetch each list and store it; returns the URLs that could not be fetched. */
export async function refreshStatusLists(dir: string, urls: readonly string[], doFetch: typeof fetch): Promise<string[]> {
  const failed: string[] = [];
  mkdirSync(dir, { recursive: true });
  for (const url of new Set(urls)) {
    try {
      if (!/^https?:\/\//.test(url)) throw new Error('not an http(s) URL');
      const res = await doFetch(url, { headers: { accept: 'application/vc+jwt' }, signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      writeFileSync(fileFor(dir, url), (await res.text()).trim());
    } catch {
      failed.push(url);
    }
  }
  return failed;
}

/** The status-list URLs a licence names (read without verifying: the verifier checks them). */
export function statusListUrls(jws: string): string[] {
  try {
    const payload = JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as { credentialStatus?: unknown };
    const s = payload.credentialStatus;
    const entries = (Array.isArray(s) ? s : s ? [s] : []) as Array<{ statusListCredential?: unknown }>;
    return entries.map((e) => e.statusListCredential).filter((u): u is string => typeof u === 'string');
  } catch {
    return [];
  }
}

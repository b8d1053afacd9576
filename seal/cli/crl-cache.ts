/**
 * The verifier's cache of CRLs (`yiwang verify`), next to the status lists:
 * <cache>/<sha256 of the URL>.crl, one per CRL distribution point named in a seal chain.
 *
 * The chains are the licence's seal chain (x5c) and its timestamp's TSA chain (the `tst`
 * token's x5c). `--online` reads the distribution points only from a licence that verified, fetches
 * each with a size limit and a timeout (DER or PEM, kept as fetched: seal/x509/crl.ts parseCrl
 * reads both), and stores a CRL only when its signature
 * verifies with the key of the certificate's issuer, it is before its nextUpdate, and it is not
 * older than the cached one: a bad, stale or replayed answer never replaces the cached copy.
 */
import { createHash, type X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChainCertificate } from '../chain/certificate.ts';
import { loadCertificate } from '../chain/certificate.ts';
import { fetchLimited } from '../status/fetch.ts';
import { crlSignedBy as signedBy } from '../trust/crl.ts';
import { parseCrl, type ParsedCrl } from '../x509/index.ts';

const fileFor = (dir: string, url: string) => join(dir, `${createHash('sha256').update(url).digest('hex')}.crl`);

/** Each certificate of a licence's x5c with its issuer (the next one, else the anchor that issued it). */
export function chainWithIssuers(x5c: readonly string[], anchors: readonly ChainCertificate[]): Array<{ cert: ChainCertificate; issuer: X509Certificate | undefined }> {
  const chain = x5c.map((b64) => loadCertificate(Buffer.from(b64, 'base64')));
  return chain.map((cert, i) => ({
    cert,
    issuer: chain[i + 1]?.cert ?? anchors.find((a) => cert.cert.checkIssued(a.cert) && cert.cert.verify(a.cert.publicKey))?.cert,
  }));
}

/** The licence's x5c (read from a JWS whose signature and chain already verified). */
export function x5cOf(jws: string): string[] {
  const header = JSON.parse(Buffer.from(jws.split('.')[0] ?? '', 'base64url').toString()) as { x5c?: unknown };
  return Array.isArray(header.x5c) ? header.x5c.filter((c): c is string => typeof c === 'string') : [];
}

/** The seal chain and the platform timestamp's TSA chain of a licence, each certificate with its issuer. */
export function licenceCertificates(jws: string, anchors: readonly ChainCertificate[]): ReturnType<typeof chainWithIssuers> {
  const tst = (JSON.parse(Buffer.from(jws.split('.')[0] ?? '', 'base64url').toString()) as { tst?: unknown }).tst;
  return [...chainWithIssuers(x5cOf(jws), anchors), ...(typeof tst === 'string' ? chainWithIssuers(x5cOf(tst), anchors) : [])];
}


/** The cached CRLs for the distribution points of a chain (as stored: PEM or DER), each once. */
export function cachedCrls(dir: string, chain: ReturnType<typeof chainWithIssuers>): Buffer[] {
  const urls = new Set(chain.flatMap(({ cert }) => cert.profile.crlDistributionPoints));
  return [...urls].map((url) => fileFor(dir, url)).filter((f) => existsSync(f)).map((f) => readFileSync(f));
}

/** Fetch, check and store the CRL of each distribution point; returns what could not be refreshed. */
export async function refreshCrls(
  dir: string, chain: ReturnType<typeof chainWithIssuers>, o: { now: Date; fetch: typeof fetch },
): Promise<Array<{ url: string; why: string }>> {
  const failed: Array<{ url: string; why: string }> = [];
  mkdirSync(dir, { recursive: true });
  const seen = new Set<string>();
  for (const { cert, issuer } of chain) {
    for (const url of cert.profile.crlDistributionPoints) {
      if (seen.has(url)) continue; // a CA's CRL named by several certificates it issued
      seen.add(url);
      try {
        if (!issuer) throw new Error('issuer of the certificate not at hand');
        const bytes = await fetchLimited(o.fetch, url, { accept: 'application/pkix-crl' });
        const crl = parseCrl(bytes);
        if (!signedBy(crl, issuer)) throw new Error('CRL not signed by the certificate\'s issuer');
        if (!crl.nextUpdate || crl.nextUpdate <= o.now) throw new Error('CRL past its nextUpdate');
        const file = fileFor(dir, url);
        if (existsSync(file)) {
          let cached: ParsedCrl | null = null;
          try {
            cached = parseCrl(readFileSync(file));
          } catch {
            cached = null;
          }
          if (cached && signedBy(cached, issuer) && cached.thisUpdate > crl.thisUpdate) throw new Error('older than the cached CRL');
        }
        writeFileSync(`${file}.tmp`, bytes);
        renameSync(`${file}.tmp`, file);
      } catch (e) {
        failed.push({ url, why: e instanceof Error ? e.message : String(e) });
      }
    }
  }
  return failed;
}

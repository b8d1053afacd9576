/**
 * Fetching a status list (or a CRL) named by a VERIFIED licence or certificate: http(s) only,
 * no redirects (a redirect could point anywhere), a timeout, and a size limit read from the
 * stream (a Content-Length can lie), so a list URL cannot make the verifier download without
 * bound. The caller verifies what comes back before keeping it.
 */

/** A sealed status list with a 16 KB bitstring is a few KB; CRLs of a demo hierarchy are smaller still. */
export const MAX_FETCH_BYTES = 256 * 1024;
export const FETCH_TIMEOUT_MS = 10_000;

export async function fetchLimited(
  doFetch: typeof fetch, url: string, o: { accept: string; maxBytes?: number; timeoutMs?: number },
): Promise<Buffer> {
  if (!/^https?:\/\//.test(url)) throw new Error('not an http(s) URL');
  const max = o.maxBytes ?? MAX_FETCH_BYTES;
  const res = await doFetch(url, { headers: { accept: o.accept }, redirect: 'error', signal: AbortSignal.timeout(o.timeoutMs ?? FETCH_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > max) throw new Error(`answer larger than ${max} bytes`);
  if (!res.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw new Error(`answer larger than ${max} bytes`);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}

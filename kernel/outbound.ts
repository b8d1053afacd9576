/**
 * Outbound HTTP with a network policy: calls a service makes on behalf of others (back-channel
 * logout deliveries, a partner's keys) must not reach special-use addresses (loopback, private
 * networks, link-local, cloud metadata …: the IANA special-purpose registries) unless the operator
 * allows those ranges. Government partners often live on private networks, so the allowed ranges
 * are configuration (CIDR lists), not a fixed rule.
 *
 * The check runs where the socket is opened (the resolver hook of node:http), on every address the
 * name resolves to, so a name cannot pass the check and then connect elsewhere (DNS rebinding).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import { AppError } from './errors.ts';

const SPECIAL_V4 = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24', '192.0.2.0/24',
  '192.31.196.0/24', '192.52.193.0/24', '192.88.99.0/24', '192.168.0.0/16', '192.175.48.0/24', '198.18.0.0/15', '198.51.100.0/24',
  '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4',
];
const SPECIAL_V6 = ['::/128', '::1/128', '64:ff9b::/96', '64:ff9b:1::/48', '100::/64', '2001::/23', '2001:db8::/32', '2002::/16', 'fc00::/7', 'fe80::/10', 'ff00::/8'];

function blockList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const c of cidrs) {
    const [net, bits] = c.split('/') as [string, string];
    list.addSubnet(net, Number(bits), isIP(net) === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

const SPECIAL = blockList([...SPECIAL_V4, ...SPECIAL_V6]);

/** Parse a comma-separated CIDR list (`10.0.0.0/8, 127.0.0.1/32`); throws on a malformed entry. */
export function parseNetworks(value: string | undefined): string[] {
  const out: string[] = [];
  for (const raw of (value ?? '').split(',')) {
    const c = raw.trim();
    if (!c) continue;
    const [net, bits, extra] = c.split('/');
    const family = net ? isIP(net) : 0;
    const n = Number(bits);
    if (!family || extra !== undefined || !Number.isInteger(n) || n < 0 || n > (family === 6 ? 128 : 32)) throw new Error(`not a CIDR network: ${c}`);
    out.push(`${net}/${n}`);
  }
  return out;
}

export interface NetworkPolicy {
  /** Why an address may not be reached, or null when it may. */
  refusal(address: string): string | null;
  /** Resolve a URL's host and check every address (for checks at registration time). */
  check(url: string): Promise<void>;
}

/** IPv4-mapped IPv6 (::ffff:a.b.c.d) is judged as the IPv4 address it maps. */
function normalise(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m) return { address: m[1]!, family: 'ipv4' };
  return { address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

export function networkPolicy(allowed: readonly string[]): NetworkPolicy {
  const allow = blockList(allowed);
  const refusal = (raw: string): string | null => {
    const { address, family } = normalise(raw);
    if (!SPECIAL.check(address, family)) return null;
    if (allow.check(address, family)) return null;
    return `${address} is a special-use address outside the allowed networks`;
  };
  return {
    refusal,
    async check(url) {
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      const addresses = isIP(host) ? [{ address: host }] : await new Promise<LookupAddress[]>((resolve, reject) =>
        dnsLookup(host, { all: true }, (err, a) => (err ? reject(err) : resolve(a))));
      for (const a of addresses) {
        const why = refusal(a.address);
        if (why) throw new AppError('BAD_INPUT', `${url}: ${why}; it would never be called`, { url: 'special-use address' });
      }
    },
  };
}

export interface OutboundOptions {
  policy: NetworkPolicy;
  /** Largest answer read (bytes). */
  maxBytes?: number;
  timeoutMs?: number;
}

/**
 * A `fetch` (the subset servers use: method, headers, string body, signal) whose connections obey
 * the network policy. A refused address fails the request with an error saying why; nothing is sent.
 */
export function outboundFetch(o: OutboundOptions): (url: string | URL, init?: RequestInit) => Promise<Response> {
  const maxBytes = o.maxBytes ?? 512 * 1024;
  return (input, init = {}) => new Promise<Response>((resolve, reject) => {
    const url = new URL(String(input));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') { reject(new Error(`outbound: ${url.protocol} is not allowed`)); return; }
    const headers = new Headers(init.headers);
    const body = init.body === undefined || init.body === null ? undefined : typeof init.body === 'string' ? init.body : String(init.body);
    if (body !== undefined && !headers.has('content-length')) headers.set('content-length', String(Buffer.byteLength(body)));
    // A literal IP skips the resolver: judge it before anything is opened.
    const literal = url.hostname.replace(/^\[|\]$/g, '');
    const literalRefusal = isIP(literal) ? o.policy.refusal(literal) : null;
    if (literalRefusal) { reject(new Error(`outbound refused: ${literalRefusal}`)); return; }
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, {
      method: init.method ?? 'GET',
      headers: Object.fromEntries(headers.entries()),
      timeout: o.timeoutMs ?? 5000,
      lookup: (hostname, options, callback) => {
        dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
          if (err) { (callback as (e: Error | null, a: LookupAddress[]) => void)(err, []); return; }
          for (const a of addresses) {
            const why = o.policy.refusal(a.address);
            if (why) { (callback as (e: Error | null, a: LookupAddress[]) => void)(new Error(`outbound refused: ${why}`), []); return; }
          }
          if ((options as { all?: boolean }).all) (callback as (e: Error | null, a: LookupAddress[]) => void)(null, addresses);
          else (callback as (e: Error | null, a: string, f: number) => void)(null, addresses[0]!.address, addresses[0]!.family);
        });
      },
    }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) { req.destroy(new Error(`outbound: answer larger than ${maxBytes} bytes`)); return; }
        chunks.push(c);
      });
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
        const status = res.statusCode ?? 502;
        resolve(new Response([204, 205, 304].includes(status) ? null : Buffer.concat(chunks), { status, headers: h }));
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('outbound: timed out')));
    req.on('error', reject);
    init.signal?.addEventListener('abort', () => req.destroy(new Error('outbound: aborted')), { once: true });
    if (body !== undefined) req.write(body);
    req.end();
  });
}

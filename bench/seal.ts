/**
 * `npm run bench seal`: licences sealed and verified per second, each as a ratio to raw native
 * RSA-2048 sign/verify (node:crypto, SHA-256, PKCS #1 v1.5) of the same seal key over the same
 * payload, measured in the same run (the machine is shared and noisy: only ratios hold).
 *
 * - sign:                 signLicence (credential → compact JWS with x5c)
 * - sign + timestamp:     the same with the platform TSA's token (a second RSA signature)
 * - verify cold:          verifyLicence with no cache: anchors parsed, chain validated, JWS, TSA token
 * - verify cached chain:  a VerifyCache reuses the anchors and the validated certificate path
 * - verify + status cold: also both status lists (revocation, suspension) verified each time
 * - verify + status cached: chain and verified status lists reused until they expire
 */
import { sign, verify } from 'node:crypto';
import { ManualClock } from '../kernel/clock.ts';
import {
  buildLicenceCredential, buildStatusListCredential, createRootCa, createTimestamper, createVerifyCache, emptyBitstring, issueCa,
  issueSealCertificate, issueTsaCertificate, issuerId, signLicence, signStatusList, verifyLicence, type StatusEntry, type StatusPurpose,
} from '../seal/index.ts';
import { licenceFields, HANGZHOU_SAMR } from '../seal/testing/hierarchy.ts';
import type { BenchResult } from './run.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ROUNDS = 10;

/** Operations per second of fn over `ms` milliseconds. */
async function burst(fn: () => unknown, ms: number): Promise<{ n: number; ms: number }> {
  let n = 0;
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) {
    await fn();
    n++;
  }
  return { n, ms: performance.now() - start };
}

/**
 * fn and its baseline measured in alternating short bursts, so load from other processes on a
 * shared machine falls on both alike and the ratio holds even when the absolute rates drift.
 */
async function paired(fn: () => unknown, base: () => unknown): Promise<{ rate: number; baseRate: number; ratio: number }> {
  for (let i = 0; i < 5; i++) { await fn(); await base(); } // warm-up
  let n = 0, t = 0, bn = 0, bt = 0;
  const slice = (SECONDS * 1000) / (2 * ROUNDS);
  for (let r = 0; r < ROUNDS; r++) {
    const a = await burst(fn, slice);
    const b = await burst(base, slice);
    n += a.n; t += a.ms; bn += b.n; bt += b.ms;
  }
  const rate = n / (t / 1000), baseRate = bn / (bt / 1000);
  return { rate, baseRate, ratio: rate / baseRate };
}

export default async function bench(): Promise<BenchResult> {
  const now = new Date('2026-03-01T00:00:00Z');
  const root = createRootCa({ commonName: '根CA', now });
  const ca = issueCa(root, { commonName: '省CA', regionCode: '330000', now, pathLen: 0 });
  const seal = issueSealCertificate(ca, { agencyName: HANGZHOU_SAMR.name, agencyCode: HANGZHOU_SAMR.code, sealName: '电子证照专用章', now });
  const tsa = issueTsaCertificate(root, { commonName: 'TSA', now });
  const signer = { privateKey: seal.privateKey, chainPem: [seal.certPem, ca.certPem] };
  const timestamper = createTimestamper({ privateKey: tsa.privateKey, chainPem: [tsa.certPem] }, new ManualClock(now));
  const url = (p: StatusPurpose) => `https://licence.example.gov.cn/status/${HANGZHOU_SAMR.code}/${p}`;
  const entries: StatusEntry[] = (['revocation', 'suspension'] as const).map((p) => ({
    id: `${url(p)}#7`, type: 'BitstringStatusListEntry', statusPurpose: p, statusListIndex: '7', statusListCredential: url(p),
  }));
  const credential = buildLicenceCredential(licenceFields(), entries);
  const lists = new Map<string, string>();
  for (const p of ['revocation', 'suspension'] as const) {
    lists.set(url(p), await signStatusList(buildStatusListCredential({
      url: url(p), issuer: { id: issuerId(HANGZHOU_SAMR.code), name: HANGZHOU_SAMR.name }, purpose: p, bits: emptyBitstring(), now, ttlMs: 3600_000,
    }), signer, now));
  }
  const statusLists = { get: async (u: string) => lists.get(u) ?? null };
  const jws = await signLicence(credential, signer, now, { timestamper });
  const at = new Date(now.getTime() + 60_000);
  const anchors = [root.certPem];
  const payload = Buffer.from(jws.split('.')[1]!);
  const rawSignature = sign('sha256', payload, seal.privateKey);

  const rawSign = () => sign('sha256', payload, seal.privateKey);
  const rawVerify = () => verify('sha256', payload, seal.certPem, rawSignature);
  const check = async (o: Parameters<typeof verifyLicence>[1]) => {
    const r = await verifyLicence(jws, o);
    if (!r.valid) throw new Error(`bench licence invalid: ${r.reason}`);
  };
  const signs = await paired(() => signLicence(credential, signer, now), rawSign);
  const signsStamped = await paired(() => signLicence(credential, signer, now, { timestamper }), rawSign);
  const cold = await paired(() => check({ trustAnchorsPem: anchors, now: at }), rawVerify);
  const cache = createVerifyCache();
  const cachedChain = await paired(() => check({ trustAnchorsPem: anchors, now: at, cache }), rawVerify);
  const statusCold = await paired(() => check({ trustAnchorsPem: anchors, now: at, statusLists }), rawVerify);
  const cacheAll = createVerifyCache();
  const statusCached = await paired(() => check({ trustAnchorsPem: anchors, now: at, statusLists, cache: cacheAll }), rawVerify);

  const r2 = (x: number) => Math.round(x * 100) / 100;
  const figures = {
    rawSignPerSecond: Math.round(signs.baseRate), rawVerifyPerSecond: Math.round(cold.baseRate),
    signPerSecond: Math.round(signs.rate), signRatio: r2(signs.ratio),
    signTimestampedPerSecond: Math.round(signsStamped.rate), signTimestampedRatio: r2(signsStamped.ratio),
    verifyColdPerSecond: Math.round(cold.rate), verifyColdRatio: r2(cold.ratio),
    verifyCachedChainPerSecond: Math.round(cachedChain.rate), verifyCachedChainRatio: r2(cachedChain.ratio),
    verifyStatusColdPerSecond: Math.round(statusCold.rate), verifyStatusColdRatio: r2(statusCold.ratio),
    verifyStatusCachedPerSecond: Math.round(statusCached.rate), verifyStatusCachedRatio: r2(statusCached.ratio),
    licenceBytes: jws.length,
  };
  return {
    figures,
    summary: [
      `raw RSA-2048 sign ${figures.rawSignPerSecond}/s, verify ${figures.rawVerifyPerSecond}/s (baseline, same key and payload)`,
      `signLicence ${figures.signPerSecond}/s (×${figures.signRatio} of raw sign); with platform timestamp ${figures.signTimestampedPerSecond}/s (×${figures.signTimestampedRatio})`,
      `verify, no cache ${figures.verifyColdPerSecond}/s (×${figures.verifyColdRatio} of raw verify); cached chain ${figures.verifyCachedChainPerSecond}/s (×${figures.verifyCachedChainRatio})`,
      `verify + status lists, no cache ${figures.verifyStatusColdPerSecond}/s (×${figures.verifyStatusColdRatio}); chain and lists cached ${figures.verifyStatusCachedPerSecond}/s (×${figures.verifyStatusCachedRatio})`,
      `licence with chain and timestamp: ${figures.licenceBytes} bytes`,
    ],
  };
}

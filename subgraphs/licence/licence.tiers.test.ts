/**
 * licence.tiers: licences recognised across tiers (R-LI-3), in one process. A national licence
 * service holds the seal root (platform mode); Hangzhou and Nanjing run their own seal CAs
 * (LICENCE_SEAL_MODE=subordinate), each certified by that root from the platform's own PKCS #10
 * request; every one is configured with the national root only. The three are members of an
 * OpenID Federation (real entities over HTTP, the national one the trust anchor) that publishes
 * each licence service in its metadata. A licence sealed in Hangzhou verifies in Nanjing (POST
 * /verify, the verify page, `yiwang verify` with only the root), its revocation in Hangzhou
 * shows in Nanjing, a list fetched once serves offline, and licences from outside the
 * federation (a foreign root, a CA of the national root whose platform is no member, a member's
 * list borrowed by another CA) are LICENCE_OUTSIDE_FEDERATION. A tampered CA chain is refused.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildCsr, buildLicenceCredential, issueSealCertificate, readTrustBundle, runVerify, signLicence, type CertifiedKey, type LicenceCredential,
} from '../../seal/index.ts';
import { makeHierarchy, licenceFields, decodeJws, x5c } from '../../seal/testing/hierarchy.ts';
import { federationFromConfig, type FederationEntity } from '../../federation/index.ts';
import { loadConfig } from '../../kernel/config.ts';
import { systemClock } from '../../kernel/clock.ts';
import { createHttpApp, listen, type Listening } from '../../kernel/http.ts';
import { silentLogger } from '../../kernel/log.ts';
import type { CliIo } from '../../kernel/cli.ts';
import { freePort } from '../../test/support/infra.ts';
import { caseApproved, HZ_SAMR, issue, staffOf, startLicenceFixture, type LicenceFixture } from '../../test/support/licence.ts';
import { DEMO_AGENCIES } from '../../kernel/demo.ts';
import { createTrustStore, sealCaSubject, type TrustStore } from './trust.ts';
import type { VerifyAnswer } from './verify-answer.ts';

const HOST = '127.0.0.1';
const HZ_HRSS = DEMO_AGENCIES[2];
const log = silentLogger();
let dir: string;
let rootFile: string;
let rootPem: string;
let national: LicenceFixture, hz: LicenceFixture, nj: LicenceFixture;
const entities: Array<{ entity: FederationEntity; server: Listening }> = [];

/** A platform's licence trust store, as bin/tiers/seal.ts opens it next to the service. */
const trustOf = (f: LicenceFixture): TrustStore => createTrustStore({
  db: f.db, passphrase: f.deps.secrets.keyPassphrase, clock: systemClock, crlBase: f.deps.config.LICENCE_PUBLIC_URL,
  mode: f.deps.config.LICENCE_SEAL_MODE, externalAnchors: f.deps.config.LICENCE_SEAL_MODE === 'platform' ? [] : [rootPem],
  caSubject: sealCaSubject(f.deps.config),
});

/** A federation entity for a platform (its Entity Configuration names its licence service), on its own port. */
async function entityFor(f: LicenceFixture, name: string, hints: string[], anchors: string): Promise<FederationEntity> {
  const port = await freePort();
  const id = `http://${HOST}:${port}`;
  const config = loadConfig({
    NODE_ENV: 'test', FEDERATION_ENTITY_ID: id, FEDERATION_ORGANIZATION_NAME: name, FEDERATION_AUTHORITY_HINTS: hints.join(','),
    FEDERATION_HTTP_HOSTS: HOST, LICENCE_PUBLIC_URL: f.deps.config.LICENCE_PUBLIC_URL, ...(anchors ? { FEDERATION_TRUST_ANCHORS: anchors } : {}),
  });
  const entity = (await federationFromConfig({
    config, keyPassphrase: `passphrase-of-${name}-0123456789abcdef`, db: f.db, clock: systemClock,
    metadata: () => ({ openid_provider: { issuer: id } }), isAuthority: hints.length === 0,
  }))!;
  const { app, router } = createHttpApp({ name, log });
  app.use(router.routes());
  const { federationRouter } = await import('../../federation/index.ts');
  app.use(federationRouter(entity, log).routes());
  entities.push({ entity, server: await listen(app, port, HOST) });
  return entity;
}

/** A licence service listening where its LICENCE_PUBLIC_URL says (others fetch its lists and CRLs there). */
async function platform(env: Record<string, string>): Promise<LicenceFixture> {
  const port = await freePort();
  return startLicenceFixture({ port, env: { LICENCE_PUBLIC_URL: `http://${HOST}:${port}`, FEDERATION_HTTP_HOSTS: HOST, ...env } });
}

async function verifyAt(f: LicenceFixture, credential: string): Promise<VerifyAnswer> {
  const res = await fetch(`${f.svc.url}/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ credential }) });
  expect(res.status).toBe(200);
  return await res.json() as VerifyAnswer;
}

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env: {}, cwd: dir };
  const code = await runVerify(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** Certify a subordinate platform's seal CA request with the national root and install the chain. */
async function certify(f: LicenceFixture, region: string): Promise<string> {
  const csr = (await trustOf(f).caRequest())!;
  const chain = await trustOf(national).certifySubordinateCa(csr, { regionCode: region });
  await trustOf(f).installCa(chain);
  return chain;
}

let hzLicence: { id: string; credential: string };

const now = () => new Date();

/** A seal of HZ_SAMR under `ca`, sealing a licence that names `status` as its lists. */
async function sealedUnder(ca: CertifiedKey, chainAbove: string[], status: LicenceCredential['credentialStatus']): Promise<string> {
  const seal = issueSealCertificate(ca, { agencyName: HZ_SAMR.name, agencyCode: HZ_SAMR.code, sealName: `${HZ_SAMR.name}电子证照专用章`, now: now() });
  const fields = licenceFields({ validFrom: new Date(Date.now() - 60_000).toISOString(), validUntil: new Date(Date.now() + 86_400_000).toISOString() });
  const entries = status === undefined ? undefined : Array.isArray(status) ? status : [status];
  return signLicence(buildLicenceCredential(fields, entries), { privateKey: seal.privateKey, chainPem: [seal.certPem, ca.certPem, ...chainAbove] }, now());
}

/** A CA the national root certified for a platform that is not a member of the federation. */
async function rogueCa(): Promise<CertifiedKey> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
  const chain = await trustOf(national).certifySubordinateCa(buildCsr({ subject: { commonName: '某市政务服务电子印章CA' }, privateKey }), { regionCode: '110100' });
  return { certPem: readTrustBundle(chain)[0]!, privateKey };
}


beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'yw-licence-tiers-'));
  national = await platform({ IDP_PLATFORM_ID: 'national' });
  rootPem = readTrustBundle(await (await fetch(`${national.svc.url}/trust-bundle.pem`)).text())[0]!;
  rootFile = join(dir, 'national-root.pem');
  writeFileSync(rootFile, rootPem);
  const anchor = await entityFor(national, '国家政务服务平台', [], '');
  const anchors = JSON.stringify([{ entityId: anchor.entityId, jwks: await anchor.keys.publicJwks() }]);
  const member = { LICENCE_SEAL_MODE: 'subordinate', LICENCE_TRUST_ANCHORS: rootFile, FEDERATION_TRUST_ANCHORS: anchors };
  [hz, nj] = await Promise.all([
    platform({ ...member, IDP_PLATFORM_ID: 'zj-hz', IDP_PLATFORM_REGION: '330100', LICENCE_SEAL_CA_NAME: '杭州市政务服务电子印章CA' }),
    // Nanjing fetches Hangzhou's lists at every verification (falling back to its copy when it cannot).
    platform({ ...member, IDP_PLATFORM_ID: 'js-nj', IDP_PLATFORM_REGION: '320100', LICENCE_SEAL_CA_NAME: '南京市政务服务电子印章CA', LICENCE_STATUS_REFRESH_SECONDS: '0' }),
  ]);
  for (const [f, name] of [[hz, '杭州市'], [nj, '南京市']] as const) {
    const e = await entityFor(f, name, [anchor.entityId], anchors);
    await anchor.registry.put({ entityId: e.entityId, jwks: await e.keys.publicJwks(), entityTypes: ['openid_provider'] }, 'test');
  }
}, 120_000);

afterAll(async () => {
  for (const e of entities) await e.server.close().catch(() => undefined);
  for (const f of [hz, nj, national]) await f?.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe('licence.tiers: a seal CA under the national root', () => {
  test('a subordinate platform seals nothing until the national root certifies its own CA request; a tampered or foreign chain is refused (R-LI-3)', async () => {
    // Its request exists from the first start; issuing waits (SEAL_NOT_FOUND) meanwhile.
    const csr = await trustOf(hz).caRequest();
    expect(csr).toContain('BEGIN CERTIFICATE REQUEST');
    await expect(hz.db.tx((q) => trustOf(hz).sealFor(q, HZ_SAMR))).rejects.toMatchObject({ code: 'SEAL_NOT_FOUND' });

    const chain = await trustOf(national).certifySubordinateCa(csr!, { regionCode: '330100' });
    const [caPem] = readTrustBundle(chain);
    // Tampered: one byte of the CA certificate's signature changed.
    const der = Buffer.from(caPem!.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    der[der.length - 5]! ^= 0x01;
    const tampered = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n${rootPem}`;
    await expect(trustOf(hz).installCa(tampered)).rejects.toMatchObject({ code: 'SEAL_CHAIN_INVALID' });
    // Another platform's certified CA is not the key of this request.
    const njChain = await trustOf(national).certifySubordinateCa((await trustOf(nj).caRequest())!, { regionCode: '320100' });
    await expect(trustOf(hz).installCa(njChain)).rejects.toMatchObject({ code: 'SEAL_KEY_MISMATCH' });
    // A CA for this key under a foreign root.
    const foreign = makeHierarchy(new Date(), '境外根证书');
    const { certifyCaKey, readCsr } = await import('../../seal/index.ts');
    const foreignCa = certifyCaKey(foreign.root, { publicKey: readCsr(csr!).publicKey, commonName: '冒名CA', now: new Date(), pathLen: 0 });
    await expect(trustOf(hz).installCa(`${foreignCa}${foreign.root.certPem}`)).rejects.toMatchObject({ code: 'SEAL_CHAIN_INVALID', details: { reason: 'LICENCE_UNKNOWN_ISSUER' } });
    // A seal certificate is not a CA.
    const seal = issueSealCertificate(foreign.ca, { agencyName: HZ_SAMR.name, agencyCode: HZ_SAMR.code, sealName: '章', now: new Date() });
    await expect(trustOf(hz).installCa(`${seal.certPem}${foreign.ca.certPem}`)).rejects.toMatchObject({ code: 'SEAL_KEY_MISMATCH' });
    expect((await hz.db.query(`select id from licence.certificates where role = 'ca'`)).rows).toEqual([]);

    await trustOf(hz).installCa(chain);
    await trustOf(nj).installCa(njChain);
    expect(await trustOf(hz).caRequest()).toBeNull();
    await expect(trustOf(hz).installCa(chain)).rejects.toMatchObject({ code: 'CONFLICT' });
    const audit = (await hz.db.query<{ action: string; role: string }>(`select action, role from licence.seal_audit where role = 'ca' order by seq`)).rows;
    expect(audit).toEqual([{ action: 'request', role: 'ca' }, { action: 'install', role: 'ca' }]);
    expect((await national.db.query(`select count(*)::int as n from licence.seal_audit where role = 'ca' and action = 'issue'`)).rows[0]).toEqual({ n: 2 });
  }, 60_000);

  test('a licence sealed in Hangzhou carries the chain to the national root: seal, Hangzhou CA, root (R-LI-3)', async () => {
    const payload = caseApproved({ agency: HZ_SAMR });
    const stored = await issue(hz, payload);
    hzLicence = { id: stored.id, credential: stored.credential };
    const chain = (decodeJws(stored.credential).header.x5c as string[]);
    expect(chain).toHaveLength(3);
    expect(chain[2]).toBe(x5c([rootPem])[0]);
    const { X509Certificate } = await import('node:crypto');
    expect(new X509Certificate(Buffer.from(chain[1]!, 'base64')).subject).toContain('杭州市政务服务电子印章CA');
  }, 30_000);
});

describe('licence.tiers: verified in another city with only the national root', () => {
  test('POST /verify and the verify page in Nanjing answer valid; the national platform too (R-LI-3, R-LI-4)', async () => {
    expect(await verifyAt(nj, hzLicence.credential)).toMatchObject({ valid: true, reason: null, licence: { issuerCode: HZ_SAMR.code, timestamped: true } });
    expect(await verifyAt(national, hzLicence.credential)).toMatchObject({ valid: true });
    const form = new FormData();
    form.set('credential', hzLicence.credential);
    const html = await (await fetch(`${nj.svc.url}/verify`, { method: 'POST', body: form })).text();
    expect(html).toContain('data-valid="true"');
  }, 30_000);

  test('yiwang verify with only the national root: --online fetches the Hangzhou lists and CRLs, then offline from its cache (R-LI-3, R-LI-4)', async () => {
    writeFileSync(join(dir, 'hz.jws'), hzLicence.credential);
    const online = await cli('hz.jws', '--trust', rootFile, '--status-cache', 'cache', '--online');
    expect(online.err).toBe('');
    expect(online.out).toContain('VALID');
    const offline = await cli('hz.jws', '--trust', rootFile, '--status-cache', 'cache');
    expect(offline).toMatchObject({ code: 0 });
    // Without the root, the same licence is of an unknown issuer.
    writeFileSync(join(dir, 'other-root.pem'), makeHierarchy(new Date(), '别的根').root.certPem);
    expect((await cli('hz.jws', '--trust', 'other-root.pem', '--status-cache', 'cache')).out).toContain('INVALID LICENCE_UNKNOWN_ISSUER');
  }, 30_000);

  test('a licence revoked in Hangzhou is revoked in Nanjing at once; the national platform, which keeps its copy a minute, sees it when it refetches (R-LI-3)', async () => {
    const revoked = await issue(hz, caseApproved({ agency: HZ_HRSS }));
    const kept = await issue(hz, caseApproved({ agency: HZ_HRSS }));
    expect(await verifyAt(nj, revoked.credential)).toMatchObject({ valid: true });
    expect(await verifyAt(national, revoked.credential)).toMatchObject({ valid: true });
    const r = await hz.call(staffOf(HZ_HRSS.code), 'mutation ($id: ID!, $reason: String!) { revokeLicence(id: $id, reason: $reason) { state } }', { id: revoked.id, reason: '依法撤销' });
    expect(r.data).toEqual({ revokeLicence: { state: 'REVOKED' } });
    expect(await verifyAt(nj, revoked.credential)).toMatchObject({ valid: false, reason: 'LICENCE_REVOKED' });
    expect(await verifyAt(nj, kept.credential)).toMatchObject({ valid: true });
    // The national service (LICENCE_STATUS_REFRESH_SECONDS 60) still has the list it fetched.
    expect(await verifyAt(national, revoked.credential)).toMatchObject({ valid: true });
  }, 60_000);
});

describe('licence.tiers: outside the federation', () => {
  test('a licence under a foreign root is LICENCE_OUTSIDE_FEDERATION in Nanjing (R-LI-3)', async () => {
    const foreign = makeHierarchy(now(), '境外根证书');
    const jws = await sealedUnder(foreign.ca, [foreign.root.certPem], undefined);
    expect(await verifyAt(nj, jws)).toMatchObject({ valid: false, reason: 'LICENCE_OUTSIDE_FEDERATION' });
  }, 30_000);

  test('a CA of the national root whose platform is no member: its status lists are not fetched, LICENCE_OUTSIDE_FEDERATION (R-LI-3)', async () => {
    const ca = await rogueCa();
    const url = `http://${HOST}:9/status/${HZ_SAMR.code}/revocation`;
    const jws = await sealedUnder(ca, [rootPem], [{ id: `${url}#7`, type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: '7', statusListCredential: url }]);
    expect(await verifyAt(nj, jws)).toMatchObject({ valid: false, reason: 'LICENCE_OUTSIDE_FEDERATION' });
  }, 30_000);

  test('a member\'s status list does not vouch for a licence sealed under another CA (R-LI-3)', async () => {
    const ca = await rogueCa();
    // Hangzhou's own status entries, copied into a licence another CA sealed.
    const { credentialStatus } = decodeJws(hzLicence.credential).payload as { credentialStatus: LicenceCredential['credentialStatus'] };
    expect(credentialStatus).toBeDefined();
    const jws = await sealedUnder(ca, [rootPem], credentialStatus);
    expect(await verifyAt(nj, jws)).toMatchObject({ valid: false, reason: 'LICENCE_OUTSIDE_FEDERATION' });
    // The same licence from Hangzhou itself still verifies.
    expect(await verifyAt(nj, hzLicence.credential)).toMatchObject({ valid: true });
  }, 30_000);
});

describe('licence.tiers: offline', () => {
  test('Hangzhou stopped: Nanjing still verifies its licence from the status list it cached, and a rogue CA cannot ride on that copy (R-LI-3, R-LI-4)', async () => {
    await hz.svc.close();
    expect(await verifyAt(nj, hzLicence.credential)).toMatchObject({ valid: true });
    expect(await verifyAt(national, hzLicence.credential)).toMatchObject({ valid: true });
    const { credentialStatus } = decodeJws(hzLicence.credential).payload as { credentialStatus: LicenceCredential['credentialStatus'] };
    expect(await verifyAt(nj, await sealedUnder(await rogueCa(), [rootPem], credentialStatus))).toMatchObject({ valid: false, reason: 'LICENCE_OUTSIDE_FEDERATION' });
  }, 30_000);
});

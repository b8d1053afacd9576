/**
 * The seal trust hierarchy the licence service signs with (R-LI-1, R-LI-3), in one of two modes
 * (LICENCE_SEAL_MODE):
 *
 * platform (the demonstration set-up):
 *   national root (demo) ──► Zhejiang provincial CA (demo) ──► one seal certificate per agency
 *          └──────────────► platform timestamp authority (TSA)
 *   The root, the provincial CA and the TSA are generated on the first start, under an advisory
 *   lock so processes starting together create one of each. An agency's seal certificate is
 *   issued the first time the agency issues a licence, and again when the previous one has
 *   expired or was revoked (under a per-agency advisory lock); a new TSA likewise. Each
 *   certificate names the CRL distribution point `<LICENCE_PUBLIC_URL>/crl/<issuing CA id>.crl`.
 *
 * subordinate (a platform of the federation, R-LI-3):
 *   national root (LICENCE_TRUST_ANCHORS) ──► this platform's seal CA ──► one seal per agency
 *                                                                └──► platform TSA
 *   The service makes its CA's key pair and a PKCS #10 request on the first start (caRequest);
 *   the national root certifies it (`yiwang seal issue-ca --csr`, or the national platform's
 *   licence service in `npm run tiers`: certifySubordinateCa) and the chain is installed
 *   (installCa, from LICENCE_SEAL_CA_CHAIN). Until then nothing can be sealed (SEAL_NOT_FOUND);
 *   afterwards agency seals and the TSA are issued under that CA as in platform mode, and every
 *   licence's x5c ends at the national root, so any platform verifies it with only that root.
 *
 * external (production):
 *   nothing is self-issued. Seal and TSA certificates come from an outside CA (the province's
 *   offline `yiwang seal`): the service makes the key pair and a PKCS #10 request, the CA
 *   certifies it, staff install the chain (./seal-admin.ts). An agency without an installed,
 *   valid, unrevoked seal gets SEAL_NOT_FOUND; so does issuance without a TSA.
 *
 * In every mode the trust anchors are the service's own root (platform) plus the configured
 * LICENCE_TRUST_ANCHORS, and installed certificates are used like self-issued ones (the newest
 * valid one of an agency signs). Private keys are kept encrypted (KEY_PASSPHRASE) — or, with a
 * KeyStore (HSM, KMS), kept there — and decrypted on first use into this instance's memory only.
 */
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../../kernel/config.ts';
import type { Db, Queryable } from '../../kernel/db.ts';
import type { Clock } from '../../kernel/clock.ts';
import { AppError, isAppError } from '../../kernel/errors.ts';
import {
  acceptCertifiedCa, buildCrl, buildCsr, certifyCaKey, createRootCa, createTimestamper, decryptPrivateKey, describeCertificate, encryptPrivateKey, issueCa,
  issueSealCertificate, issueTsaCertificate, readCsr, readTrustBundle, type CertifiedKey, type CrlReason, type KeyStore, type RevocationRecord, type Timestamper,
} from '../../seal/index.ts';
import { LICENCE_SCHEMA as S } from './migrations.ts';
import { recordSealAct, SYSTEM_ACTOR } from './seal-audit.ts';
import { renderSealPng, SEAL_PURPOSE } from './seal-image.ts';

export const ROOT_NAME = '国家政务服务电子印章根证书（演示）';
export const ROOT_ORGANIZATION = '国家政务服务平台（演示）';
export const PROVINCIAL_CA_NAME = '浙江省政务服务电子印章CA（演示）';
export const PROVINCIAL_CA_ORGANIZATION = '浙江省政务服务平台（演示）';
export const PROVINCIAL_REGION = '330000';
export const TSA_NAME = '国家政务服务平台时间戳服务（演示）';
/** Years: the root outlives every CA it certifies, each CA every seal (validity is cut at the issuer's end anyway). */
const ROOT_YEARS = 20, CA_YEARS = 10, SEAL_YEARS = 5;

export type SealMode = 'platform' | 'subordinate' | 'external';
type Role = 'root' | 'ca' | 'seal' | 'tsa';

export interface CertRow {
  id: string; role: Role; agency_code: string | null; issuer_id: string | null; serial_hex: string; issuer_dn: string; subject: string;
  cert_pem: string; key_pem: string; not_before: Date | string; not_after: Date | string; status: 'active' | 'revoked';
  source: 'platform' | 'external'; chain_pem: string | null; revoked_at: Date | string | null; revocation_reason: CrlReason | null;
  invalidity_date: Date | string | null; revoked_by_crl: string | null;
}

/** What signLicence needs: the seal's key and the chain, seal certificate first, root last. */
export interface SealSigner {
  certificateId: string;
  /** The agency's name as the seal certificate's subject gives it (O): the name a licence it seals must carry. */
  agencyName: string;
  privateKey: KeyObject;
  chainPem: string[];
}

export interface TrustStore {
  readonly mode: SealMode;
  /**
   * Platform mode: make sure the root, the provincial CA and the TSA exist. Returns the trust
   * anchors (PEM each): the service's own root in platform mode, then LICENCE_TRUST_ANCHORS.
   */
  ensureHierarchy(): Promise<string[]>;
  /** The agency's current seal; platform mode issues one when there is none valid now. Runs in the caller's transaction. */
  sealFor(q: Queryable, agency: { code: string; name: string }): Promise<SealSigner>;
  /** The platform TSA (its certificate valid now), for signLicence's timestamper. */
  timestamper(q: Queryable): Promise<Timestamper>;
  /** For verifyLicence's revocation callback: when and why this service revoked the certificate, or null. */
  isRevoked(serialHex: string, issuerDn: string): Promise<RevocationRecord | null>;
  /**
   * The current CRL (PEM) of a CA of this store, signed now and valid CRL_HOURS, listing the
   * revoked certificates it issued with their reasons; null for an unknown id (GET /crl/<id>.crl).
   */
  crl(caId: string): Promise<string | null>;
  /** Keep a new private key (encrypted in the row, or in the KeyStore); returns the key_pem column's value. */
  storeKey(id: string, key: KeyObject): Promise<string>;
  /**
   * Subordinate mode: the PKCS #10 request (PEM) of this platform's seal CA while none is
   * installed (made on the first call, kept until its chain is installed); null once one is.
   */
  caRequest(): Promise<string | null>;
  /**
   * Subordinate mode: install the certified chain (CA certificate for the pending request first,
   * then its issuers) — checked like any installed chain (seal/chain/accept.ts acceptCertifiedCa:
   * SEAL_KEY_MISMATCH, SEAL_USAGE_INVALID, SEAL_CHAIN_INVALID); CONFLICT without a pending request.
   */
  installCa(chainPem: string): Promise<void>;
  /**
   * Platform mode (the national platform): certify another platform's seal CA request with this
   * service's root (pathLenConstraint 0: it certifies seals and its TSA, no CA below it);
   * returns its chain (PEM, CA certificate then root). Audited as `issue` of role `ca`.
   */
  certifySubordinateCa(csrPem: string, o: { commonName?: string | undefined; regionCode?: string | undefined }): Promise<string>;
}

/** How long a published CRL is current (nextUpdate): verifiers refetch it at least this often. */
export const CRL_HOURS = 24;

/** The CRL distribution point URL of the certificates a CA issues. */
export const crlUrl = (base: string, caId: string): string => `${base.replace(/\/$/, '')}/crl/${caId}.crl`;

/** The per-agency lock issuance holds while it seals (and seal revocation takes). */
export const sealLock = (agencyCode: string): string => `yiwang.licence.seal.${agencyCode}`;
/**
 * Held shared by every issuance while it timestamps, exclusively by a TSA revocation: no token
 * is made with a TSA certificate after it was revoked.
 */
export const TSA_USE_LOCK = 'yiwang.licence.tsa.use';
/** Exclusive for a CRL import (./crl-import.ts), shared by installations: no listed chain is installed meanwhile. */
export const CRL_IMPORT_LOCK = 'yiwang.licence.crl-import';

/** key_pem of a certificate whose key lives in the KeyStore: this prefix and the key's id. */
export const KEYSTORE_REF = 'keystore:';

/** LICENCE_TRUST_ANCHORS: the PEM file read once at start; a missing, empty or bad file stops the service. */
export function readConfiguredAnchors(file: string | undefined): string[] {
  if (!file) return [];
  let pems: string[];
  try {
    pems = readTrustBundle(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new AppError('CONFIG_INVALID', `LICENCE_TRUST_ANCHORS: ${isAppError(e) ? e.message : `cannot read ${file}`}`);
  }
  if (pems.length === 0) throw new AppError('CONFIG_INVALID', `LICENCE_TRUST_ANCHORS: no certificate in ${file}`);
  return pems;
}

/** Subordinate mode: what the platform's seal CA request asks for (LICENCE_SEAL_CA_NAME, IDP_PLATFORM_REGION). */
export function sealCaSubject(config: Config): { commonName: string; regionCode?: string | undefined } {
  return { commonName: config.LICENCE_SEAL_CA_NAME ?? `政务服务电子印章CA（${config.IDP_PLATFORM_ID}）`, regionCode: config.IDP_PLATFORM_REGION };
}

/** The file the pending seal CA request is written to, for the operator to take to the national CA. */
export const CA_REQUEST_FILE = 'seal-ca-request.pem';

/**
 * Subordinate mode at start: while no seal CA is installed, write its request to
 * `<DATA_DIR>/seal-ca-request.pem` and install LICENCE_SEAL_CA_CHAIN when it is configured (a
 * chain that is refused stops the service with its code: the operator gave the wrong file).
 */
export async function installConfiguredCa(trust: TrustStore, config: Config): Promise<void> {
  if (trust.mode !== 'subordinate') return;
  const csr = await trust.caRequest();
  if (!csr) return;
  if (config.LICENCE_SEAL_CA_CHAIN) {
    let chain: string;
    try {
      chain = readFileSync(config.LICENCE_SEAL_CA_CHAIN, 'utf8');
    } catch {
      throw new AppError('CONFIG_INVALID', `LICENCE_SEAL_CA_CHAIN: cannot read ${config.LICENCE_SEAL_CA_CHAIN}`);
    }
    await trust.installCa(chain);
    return;
  }
  const dir = resolve(config.DATA_DIR);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, CA_REQUEST_FILE), csr);
}

/**
 * Private keys: by default encrypted PKCS#8 in the certificates row (KEY_PASSPHRASE); with a
 * `keyStore` (seal/keys/store.ts KeyStore — an HSM or cloud KMS adapter) the key goes there
 * and the row keeps only a reference.
 */
export function createTrustStore(o: {
  db: Db; passphrase: string; clock: Clock; keyStore?: KeyStore | undefined;
  /** LICENCE_PUBLIC_URL: certificates then name `<crlBase>/crl/<CA id>.crl` as their CRL distribution point. */
  crlBase?: string | undefined;
  mode?: SealMode | undefined;
  /** LICENCE_TRUST_ANCHORS, read (readConfiguredAnchors). */
  externalAnchors?: readonly string[] | undefined;
  /** Subordinate mode: the subject the seal CA request asks for. */
  caSubject?: { commonName: string; organization?: string | undefined; regionCode?: string | undefined } | undefined;
}): TrustStore {
  const mode = o.mode ?? 'platform';
  const keys = new Map<string, KeyObject>(); // certificate id → decrypted key, this instance only
  const timestampers = new Map<string, Timestamper>();
  const cdp = (caId: string) => (o.crlBase ? crlUrl(o.crlBase, caId) : undefined);

  /** In the row (encrypted PEM), or a reference into the configured KeyStore (an HSM or KMS). */
  const keyOf = async (row: CertRow): Promise<KeyObject> => {
    let k = keys.get(row.id);
    if (!k) {
      k = row.key_pem.startsWith(KEYSTORE_REF) ? await o.keyStore!.get(row.key_pem.slice(KEYSTORE_REF.length)) : decryptPrivateKey(row.key_pem, o.passphrase);
      keys.set(row.id, k);
    }
    return k;
  };
  const certified = async (row: CertRow): Promise<CertifiedKey> => ({ certPem: row.cert_pem, privateKey: await keyOf(row) });

  async function storeKey(id: string, key: KeyObject): Promise<string> {
    if (!o.keyStore) return encryptPrivateKey(key, o.passphrase);
    // Put before the row: a rolled-back transaction leaves an unused key behind, never a row without its key.
    await o.keyStore.put(id, key);
    return `${KEYSTORE_REF}${id}`;
  }

  async function insert(q: Queryable, role: Role, issuerId: string | null, agencyCode: string | null, c: CertifiedKey): Promise<CertRow> {
    const d = describeCertificate(c.certPem);
    const id = randomUUID();
    const { rows } = await q.query<CertRow>(
      `insert into ${S}.certificates (id, role, agency_code, issuer_id, serial_hex, subject, issuer_dn, cert_pem, key_pem, not_before, not_after, created_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) returning *`,
      [id, role, agencyCode, issuerId, d.serialHex, d.subject, d.issuer, c.certPem, await storeKey(id, c.privateKey),
        // Copies: node:crypto's Dates come from another realm under Jest's VM, which PGlite rejects.
        new Date(d.notBefore.getTime()), new Date(d.notAfter.getTime()), o.clock.now()]);
    keys.set(id, c.privateKey);
    return rows[0]!;
  }

  /** The newest active certificate of a role (and agency) valid at `now`, self-issued or installed. */
  async function usable(q: Queryable, role: Role, now: Date, agencyCode: string | null = null): Promise<CertRow | null> {
    const { rows } = await q.query<CertRow>(
      `select * from ${S}.certificates where role = $1 and status = 'active' and not_before <= $2 and not_after > $2
         and agency_code is not distinct from $3 order by created_at desc, not_after desc limit 1`, [role, now, agencyCode]);
    return rows[0] ?? null;
  }

  async function byId(q: Queryable, id: string): Promise<CertRow> {
    const { rows } = await q.query<CertRow>(`select * from ${S}.certificates where id = $1`, [id]);
    if (!rows[0]) throw new AppError('SEAL_NOT_FOUND', '证书链不完整 / the certificate chain is incomplete');
    return rows[0];
  }

  /** The last CRL signed per CA, with the revocations it lists, reused until they change or it is half-way to nextUpdate. */
  const signedCrls = new Map<string, { pem: string; listed: string; thisUpdate: number; refreshAfter: number }>();

  /** Chains by leaf id: a certificate and its issuers never change once stored. */
  const chains = new Map<string, string[]>();

  /** End certificate first, then each issuer up to the root (x5c order, RFC 7515 §4.1.6). */
  async function chainOf(q: Queryable, leaf: CertRow): Promise<string[]> {
    const known = chains.get(leaf.id);
    if (known) return known;
    const out = await walkChain(q, leaf);
    chains.set(leaf.id, out);
    return out;
  }

  async function walkChain(q: Queryable, leaf: CertRow): Promise<string[]> {
    const out = [leaf.cert_pem];
    let c = leaf;
    while (c.issuer_id && out.length < 5) {
      c = await byId(q, c.issuer_id);
      out.push(c.cert_pem);
    }
    // An installed certificate (an outside CA's seal, or this platform's CA certified by the
    // national root) carries its issuers as installed: the chain goes on with them.
    if (c.chain_pem !== null) out.push(...readTrustBundle(c.chain_pem));
    return out;
  }

  const caNotCertified = () => new AppError('SEAL_NOT_FOUND',
    '本平台的印章CA尚未经国家根证书签发（请提交证书申请并安装证书链）/ this platform\'s seal CA is not certified by the national root yet '
    + '(LICENCE_SEAL_MODE=subordinate: have the request certified, install the chain with LICENCE_SEAL_CA_CHAIN)');

  async function pendingCaRequest(q: Queryable): Promise<{ id: string; csr_pem: string; key_pem: string } | null> {
    const { rows } = await q.query<{ id: string; csr_pem: string; key_pem: string }>(
      `select id, csr_pem, key_pem from ${S}.seal_requests where role = 'ca' and state = 'pending' order by requested_at desc limit 1`);
    return rows[0] ?? null;
  }

  const notInstalled = (what: string) => new AppError('SEAL_NOT_FOUND',
    `${what}尚未安装（外部CA模式：请申请证书并安装CA签发的证书链）/ ${what === '时间戳证书' ? 'no platform TSA certificate' : 'no seal certificate'} installed `
    + '(LICENCE_SEAL_MODE=external: request one, have the CA certify it, install its chain)');

  const store: TrustStore = {
    mode,

    async ensureHierarchy() {
      const external = [...(o.externalAnchors ?? [])];
      if (mode === 'external') return external;
      if (mode === 'subordinate') {
        await store.caRequest();
        return external;
      }
      const rootPem = await o.db.tx(async (q) => {
        await q.query('select pg_advisory_xact_lock(hashtext($1))', ['yiwang.licence.trust']);
        const now = o.clock.now();
        const { rows } = await q.query<CertRow>(`select * from ${S}.certificates where role = 'root' and status = 'active' order by not_after desc limit 1`);
        const root = rows[0]
          ?? await insert(q, 'root', null, null, createRootCa({ commonName: ROOT_NAME, organization: ROOT_ORGANIZATION, now, years: ROOT_YEARS }));
        if (!await usable(q, 'ca', now)) {
          await insert(q, 'ca', root.id, null, issueCa(await certified(root), {
            commonName: PROVINCIAL_CA_NAME, organization: PROVINCIAL_CA_ORGANIZATION, regionCode: PROVINCIAL_REGION, now, years: CA_YEARS, pathLen: 0,
            crlUrl: cdp(root.id),
          }));
        }
        if (!await usable(q, 'tsa', now)) await store.timestamper(q);
        return root.cert_pem;
      });
      return [rootPem, ...external];
    },

    async timestamper(q) {
      await q.query('select pg_advisory_xact_lock_shared(hashtext($1))', [TSA_USE_LOCK]);
      const now = o.clock.now();
      let tsa = await usable(q, 'tsa', now);
      if (!tsa && mode === 'external') throw notInstalled('时间戳证书');
      if (!tsa) {
        await q.query('select pg_advisory_xact_lock(hashtext($1))', ['yiwang.licence.tsa']);
        tsa = await usable(q, 'tsa', now);
        if (!tsa) {
          // Platform mode: the root certifies the TSA; subordinate mode: this platform's CA.
          const { rows } = mode === 'subordinate'
            ? { rows: [await usable(q, 'ca', now)].filter((r): r is CertRow => r !== null) }
            : await q.query<CertRow>(`select * from ${S}.certificates where role = 'root' and status = 'active' order by not_after desc limit 1`);
          if (!rows[0]) throw mode === 'subordinate' ? caNotCertified() : new AppError('SEAL_NOT_FOUND', '未初始化根证书 / the root is not set up');
          tsa = await insert(q, 'tsa', rows[0].id, null, issueTsaCertificate(await certified(rows[0]), {
            commonName: TSA_NAME, organization: mode === 'subordinate' ? describeCertificate(rows[0].cert_pem).organization ?? undefined : ROOT_ORGANIZATION,
            now, years: CA_YEARS, crlUrl: cdp(rows[0].id),
          }));
          await recordSealAct(q, SYSTEM_ACTOR, { action: 'issue', role: 'tsa', agencyCode: null, certificateId: tsa.id, details: { serialHex: tsa.serial_hex } }, now);
        }
      }
      let t = timestampers.get(tsa.id);
      if (!t) {
        t = createTimestamper({ privateKey: await keyOf(tsa), chainPem: await chainOf(q, tsa) }, o.clock);
        timestampers.set(tsa.id, t);
      }
      return t;
    },

    async sealFor(q, agency) {
      // Shared: issuances of one agency run side by side; a revocation (./seal-admin.ts) takes
      // it exclusively, so it waits for the issuances in flight and none starts meanwhile.
      await q.query('select pg_advisory_xact_lock_shared(hashtext($1))', [sealLock(agency.code)]);
      const now = o.clock.now();
      let seal = await usable(q, 'seal', now, agency.code);
      if (!seal && mode === 'external') throw notInstalled('印章证书');
      if (!seal) {
        // Making one: one maker at a time, and the others use what it made.
        await q.query('select pg_advisory_xact_lock(hashtext($1))', [`yiwang.licence.seal-issue.${agency.code}`]);
        seal = await usable(q, 'seal', now, agency.code);
      }
      if (!seal) {
        const ca = await usable(q, 'ca', now);
        if (!ca) throw mode === 'subordinate' ? caNotCertified() : new AppError('SEAL_NOT_FOUND', '未初始化印章CA / the seal CA is not set up');
        // The agency's seal image (a generated round seal for the demo), stored with the
        // certificate that carries its SHA-256 (so only the certified impression is ever shown).
        const sealImage = renderSealPng(agency.name, SEAL_PURPOSE);
        seal = await insert(q, 'seal', ca.id, agency.code, issueSealCertificate(await certified(ca), {
          agencyName: agency.name, agencyCode: agency.code, sealName: `${agency.name}${SEAL_PURPOSE}`, now, years: SEAL_YEARS,
          crlUrl: cdp(ca.id), sealImage,
        }));
        await q.query(`update ${S}.certificates set seal_image = $2 where id = $1`, [seal.id, sealImage]);
        await recordSealAct(q, SYSTEM_ACTOR, { action: 'issue', role: 'seal', agencyCode: agency.code, certificateId: seal.id, details: { serialHex: seal.serial_hex } }, now);
      }
      const agencyName = describeCertificate(seal.cert_pem).organization;
      if (!agencyName) throw new AppError('SEAL_NOT_FOUND', '印章证书未载明机构名称 / the seal certificate names no organization');
      return { certificateId: seal.id, agencyName, privateKey: await keyOf(seal), chainPem: await chainOf(q, seal) };
    },

    async isRevoked(serialHex, issuerDn) {
      const { rows } = await o.db.query<CertRow>(
        `select status, revoked_at, revocation_reason, invalidity_date from ${S}.certificates where serial_hex = $1 and issuer_dn = $2`, [serialHex, issuerDn]);
      const r = rows[0];
      if (r?.status !== 'revoked') return null;
      return { revokedAt: new Date(r.revoked_at ?? 0), reason: r.revocation_reason ?? 'unspecified', invalidityDate: r.invalidity_date === null ? null : new Date(r.invalidity_date) };
    },

    async crl(caId) {
      if (!/^[0-9a-f-]{36}$/.test(caId)) return null;
      const { rows } = await o.db.query<CertRow>(`select * from ${S}.certificates where id = $1 and role in ('root', 'ca')`, [caId]);
      const ca = rows[0];
      if (!ca) return null;
      const now = o.clock.now();
      const { rows: revoked } = await o.db.query<CertRow>(
        `select serial_hex, revoked_at, revocation_reason, invalidity_date from ${S}.certificates where issuer_id = $1 and status = 'revoked' order by serial_hex`, [caId]);
      // The same list, still well inside its validity: the CRL already signed (so each one a
      // verifier sees has its own cRLNumber and content, and a GET signs nothing).
      const listed = JSON.stringify(revoked.map((r) => [r.serial_hex, r.revoked_at, r.revocation_reason, r.invalidity_date]));
      const cached = signedCrls.get(caId);
      if (cached && cached.listed === listed && cached.refreshAfter > now.getTime() && cached.thisUpdate <= now.getTime()) return cached.pem;
      // cRLNumber must increase for each new CRL of a CA (RFC 5280 §5.2.3), across instances: a
      // counter per CA, never below the signing second (the numbers CRLs carried before it).
      const { rows: numbered } = await o.db.query<{ crl_number: string | number }>(
        `update ${S}.certificates set crl_number = greatest(crl_number + 1, $2) where id = $1 returning crl_number`, [caId, Math.floor(now.getTime() / 1000)]);
      const pem = buildCrl({
        issuerCertPem: ca.cert_pem, issuerKey: await keyOf(ca), thisUpdate: now, nextUpdate: new Date(now.getTime() + CRL_HOURS * 3600_000),
        crlNumber: Number(numbered[0]!.crl_number),
        entries: revoked.map((r) => ({
          serialHex: r.serial_hex, revokedAt: new Date(r.revoked_at ?? now), reason: r.revocation_reason ?? 'unspecified',
          invalidityDate: r.invalidity_date === null ? null : new Date(r.invalidity_date),
        })),
      });
      signedCrls.set(caId, { pem, listed, thisUpdate: now.getTime(), refreshAfter: now.getTime() + (CRL_HOURS * 3600_000) / 2 });
      return pem;
    },

    storeKey,

    async caRequest() {
      if (mode !== 'subordinate') return null;
      return o.db.tx(async (q) => {
        await q.query('select pg_advisory_xact_lock(hashtext($1))', ['yiwang.licence.trust']);
        if (await usable(q, 'ca', o.clock.now())) return null;
        const pending = await pendingCaRequest(q);
        if (pending) return pending.csr_pem;
        const subject = o.caSubject ?? { commonName: '政务服务电子印章CA' };
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
        const csr = buildCsr({ subject, privateKey });
        const id = randomUUID();
        const now = o.clock.now();
        await q.query(
          `insert into ${S}.seal_requests (id, role, subject_name, csr_pem, key_pem, requested_at, requested_by) values ($1, 'ca', $2, $3, $4, $5, $6)`,
          [id, subject.commonName, csr, await storeKey(id, privateKey), now, SYSTEM_ACTOR.name]);
        await recordSealAct(q, SYSTEM_ACTOR, { action: 'request', role: 'ca', agencyCode: null, requestId: id, details: { subject: subject.commonName } }, now);
        return csr;
      });
    },

    async installCa(chainPem) {
      if (mode !== 'subordinate') throw new AppError('CONFLICT', '仅 LICENCE_SEAL_MODE=subordinate 安装本平台印章CA / only a subordinate platform installs its seal CA');
      await o.db.tx(async (q) => {
        await q.query('select pg_advisory_xact_lock(hashtext($1))', ['yiwang.licence.trust']);
        const req = await pendingCaRequest(q);
        if (!req) throw new AppError('CONFLICT', '没有待安装的印章CA申请 / no seal CA request is waiting for its certificate');
        const now = o.clock.now();
        const accepted = acceptCertifiedCa({ pem: chainPem, anchorsPem: o.externalAnchors ?? [], publicKey: readCsr(req.csr_pem).publicKey, now });
        const [leafPem, ...issuers] = accepted.chainPem as [string, ...string[]];
        // x5c carries the issuers up to the anchor: the anchor itself is added when it was not given.
        const anchorPem = accepted.path.at(-1)!.cert.toString();
        const above = issuers.length > 0 ? issuers : [anchorPem];
        const d = describeCertificate(leafPem);
        const id = randomUUID();
        await q.query(
          `insert into ${S}.certificates (id, role, agency_code, issuer_id, serial_hex, subject, issuer_dn, cert_pem, key_pem, not_before, not_after, created_at, source, chain_pem)
           values ($1, 'ca', null, null, $2, $3, $4, $5, $6, $7, $8, $9, 'external', $10)`,
          [id, d.serialHex, d.subject, d.issuer, leafPem, req.key_pem, new Date(d.notBefore.getTime()), new Date(d.notAfter.getTime()), now, above.join('')]);
        await q.query(`update ${S}.seal_requests set state = 'installed', certificate_id = $2 where id = $1`, [req.id, id]);
        await recordSealAct(q, SYSTEM_ACTOR, {
          action: 'install', role: 'ca', agencyCode: null, certificateId: id, requestId: req.id,
          details: { serialHex: d.serialHex, issuer: d.issuer, notAfter: d.notAfter.toISOString() },
        }, now);
      });
    },

    async certifySubordinateCa(csrPem, c) {
      if (mode !== 'platform') throw new AppError('CONFLICT', '仅持有根证书的平台（platform 模式）可签发下级印章CA / only a platform holding the root (platform mode) certifies seal CAs');
      let request;
      try {
        request = readCsr(csrPem);
      } catch (e) {
        throw new AppError('SEAL_CSR_INVALID', `证书申请无效 / the certificate request is not valid: ${(e as Error).message}`);
      }
      if (request.modulusLength < 3072) throw new AppError('SEAL_CSR_INVALID', 'CA 密钥须为 RSA 3072 位以上 / a CA key must be RSA of at least 3072 bits');
      const commonName = c.commonName ?? request.subject.commonName;
      if (!commonName) throw new AppError('SEAL_CSR_INVALID', '证书申请未载明CA名称 / the request names no CA');
      return o.db.tx(async (q) => {
        const now = o.clock.now();
        const { rows } = await q.query<CertRow>(`select * from ${S}.certificates where role = 'root' and status = 'active' order by not_after desc limit 1`);
        const root = rows[0];
        if (!root) throw new AppError('SEAL_NOT_FOUND', '未初始化根证书 / the root is not set up');
        const certPem = certifyCaKey(await certified(root), {
          publicKey: request.publicKey, commonName, organization: request.subject.organization ?? undefined, regionCode: c.regionCode,
          now, years: CA_YEARS, pathLen: 0, crlUrl: cdp(root.id),
        });
        const d = describeCertificate(certPem);
        await recordSealAct(q, SYSTEM_ACTOR, { action: 'issue', role: 'ca', agencyCode: null, details: { serialHex: d.serialHex, subject: d.subject, notAfter: d.notAfter.toISOString() } }, now);
        return `${certPem}${root.cert_pem}`;
      });
    },
  };
  return store;
}

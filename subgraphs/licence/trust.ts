/**
 * The seal trust hierarchy the licence service signs with (R-LI-1, R-LI-3):
 *
 *   national root (demo) ──► Zhejiang provincial CA (demo) ──► one seal certificate per agency
 *
 * The root and the provincial CA are generated once, on the first start, under an advisory lock
 * so processes starting together create one of each. An agency's seal certificate is issued the
 * first time the agency issues a licence (and again when the previous one has expired), under a
 * per-agency advisory lock. Private keys are kept encrypted (KEY_PASSPHRASE) and decrypted on
 * first use into this instance's memory only — or, with a KeyStore (HSM, KMS), kept there.
 *
 * Every agency is certified by the one provincial CA: the demo platform is a Zhejiang tier.
 * The platform timestamp authority (TSA, issue 4 bullet 2) is certified by the root and made
 * with the hierarchy; its tokens bind each licence's signing time (seal/timestamp/token.ts).
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import type { Db, Queryable } from '../../kernel/db.ts';
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import {
  buildCrl, createRootCa, createTimestamper, decryptPrivateKey, describeCertificate, encryptPrivateKey, issueCa, issueSealCertificate, issueTsaCertificate,
  type CertifiedKey, type KeyStore, type Timestamper,
} from '../../seal/index.ts';
import { LICENCE_SCHEMA as S } from './migrations.ts';
import { renderSealPng, SEAL_PURPOSE } from './seal-image.ts';

export const ROOT_NAME = '国家政务服务电子印章根证书（演示）';
export const ROOT_ORGANIZATION = '国家政务服务平台（演示）';
export const PROVINCIAL_CA_NAME = '浙江省政务服务电子印章CA（演示）';
export const PROVINCIAL_CA_ORGANIZATION = '浙江省政务服务平台（演示）';
export const PROVINCIAL_REGION = '330000';
export const TSA_NAME = '国家政务服务平台时间戳服务（演示）';
/** Years: the root outlives every CA it certifies, each CA every seal (validity is cut at the issuer's end anyway). */
const ROOT_YEARS = 20, CA_YEARS = 10, SEAL_YEARS = 5;

type Role = 'root' | 'ca' | 'seal' | 'tsa';

interface CertRow {
  id: string; role: Role; agency_code: string | null; issuer_id: string | null; serial_hex: string; issuer_dn: string;
  cert_pem: string; key_pem: string; not_after: Date | string;
}

/** What signLicence needs: the seal's key and the chain, seal certificate first, root last. */
export interface SealSigner {
  certificateId: string;
  privateKey: KeyObject;
  chainPem: string[];
}

export interface TrustStore {
  /** Make sure the root and the provincial CA exist; returns the root certificate (the trust anchor). */
  ensureHierarchy(): Promise<string>;
  /** The agency's current seal, issuing one when there is none valid now. Runs in the caller's transaction. */
  sealFor(q: Queryable, agency: { code: string; name: string }): Promise<SealSigner>;
  /** The platform TSA (its certificate valid now), for signLicence's timestamper. */
  timestamper(q: Queryable): Promise<Timestamper>;
  /** For verifyLicence's revocation callback. */
  isRevoked(serialHex: string, issuerDn: string): Promise<boolean>;
  /**
   * The current CRL (PEM) of a CA of this store, signed now and valid CRL_HOURS, listing the
   * revoked certificates it issued; null for an unknown id (GET /crl/<id>.crl, review gap D).
   */
  crl(caId: string): Promise<string | null>;
}

/** How long a published CRL is current (nextUpdate): verifiers refetch it at least this often. */
export const CRL_HOURS = 24;

/** The CRL distribution point URL of the certificates a CA issues. */
export const crlUrl = (base: string, caId: string): string => `${base.replace(/\/$/, '')}/crl/${caId}.crl`;

/** key_pem of a certificate whose key lives in the KeyStore: this prefix and the certificate id. */
export const KEYSTORE_REF = 'keystore:';

/**
 * Private keys: by default encrypted PKCS#8 in the certificates row (KEY_PASSPHRASE); with a
 * `keyStore` (seal/keys/store.ts KeyStore — an HSM or cloud KMS adapter) the key goes there
 * and the row keeps only a reference.
 */
export function createTrustStore(o: {
  db: Db; passphrase: string; clock: Clock; keyStore?: KeyStore | undefined;
  /** LICENCE_PUBLIC_URL: seal certificates then name `<crlBase>/crl/<CA id>.crl` as their CRL distribution point. */
  crlBase?: string | undefined;
}): TrustStore {
  const keys = new Map<string, KeyObject>(); // certificate id → decrypted key, this instance only
  const timestampers = new Map<string, Timestamper>();

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

  async function insert(q: Queryable, role: Role, issuerId: string | null, agencyCode: string | null, c: CertifiedKey): Promise<CertRow> {
    const d = describeCertificate(c.certPem);
    const id = randomUUID();
    let keyColumn: string;
    if (o.keyStore) {
      // Put before the row: a rolled-back transaction leaves an unused key behind, never a row without its key.
      await o.keyStore.put(id, c.privateKey);
      keyColumn = `${KEYSTORE_REF}${id}`;
    } else keyColumn = encryptPrivateKey(c.privateKey, o.passphrase);
    const { rows } = await q.query<CertRow>(
      `insert into ${S}.certificates (id, role, agency_code, issuer_id, serial_hex, subject, issuer_dn, cert_pem, key_pem, not_before, not_after)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning *`,
      [id, role, agencyCode, issuerId, d.serialHex, d.subject, d.issuer, c.certPem, keyColumn,
        // Copies: node:crypto's Dates come from another realm under Jest's VM, which PGlite rejects.
        new Date(d.notBefore.getTime()), new Date(d.notAfter.getTime())]);
    keys.set(id, c.privateKey);
    return rows[0]!;
  }

  async function current(q: Queryable, role: 'root' | 'ca' | 'tsa'): Promise<CertRow | null> {
    const { rows } = await q.query<CertRow>(
      `select * from ${S}.certificates where role = $1 and status = 'active' order by not_after desc limit 1`, [role]);
    return rows[0] ?? null;
  }

  async function byId(q: Queryable, id: string): Promise<CertRow> {
    const { rows } = await q.query<CertRow>(`select * from ${S}.certificates where id = $1`, [id]);
    if (!rows[0]) throw new AppError('SEAL_NOT_FOUND', '证书链不完整 / the certificate chain is incomplete');
    return rows[0];
  }

  /** Chains by leaf id: a certificate and its issuers never change once stored. */
  const chains = new Map<string, string[]>();

  /** Seal certificate first, then each issuer up to the root (x5c order, RFC 7515 §4.1.6). */
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
    return out;
  }

  return {
    async ensureHierarchy() {
      return o.db.tx(async (q) => {
        await q.query('select pg_advisory_xact_lock(hashtext($1))', ['yiwang.licence.trust']);
        const now = o.clock.now();
        const root = await current(q, 'root')
          ?? await insert(q, 'root', null, null, createRootCa({ commonName: ROOT_NAME, organization: ROOT_ORGANIZATION, now, years: ROOT_YEARS }));
        if (!await current(q, 'ca')) {
          await insert(q, 'ca', root.id, null, issueCa(await certified(root), {
            commonName: PROVINCIAL_CA_NAME, organization: PROVINCIAL_CA_ORGANIZATION, regionCode: PROVINCIAL_REGION, now, years: CA_YEARS, pathLen: 0,
          }));
        }
        if (!await current(q, 'tsa')) {
          await insert(q, 'tsa', root.id, null, issueTsaCertificate(await certified(root), { commonName: TSA_NAME, organization: ROOT_ORGANIZATION, now, years: CA_YEARS }));
        }
        return root.cert_pem;
      });
    },

    async timestamper(q) {
      const tsa = await current(q, 'tsa');
      if (!tsa) throw new AppError('SEAL_NOT_FOUND', '未初始化时间戳服务 / the platform TSA is not set up');
      let t = timestampers.get(tsa.id);
      if (!t) {
        t = createTimestamper({ privateKey: await keyOf(tsa), chainPem: await chainOf(q, tsa) }, o.clock);
        timestampers.set(tsa.id, t);
      }
      return t;
    },

    async sealFor(q, agency) {
      const now = o.clock.now();
      const valid = async () => (await q.query<CertRow>(
        `select * from ${S}.certificates where role = 'seal' and agency_code = $1 and status = 'active' and not_before <= $2 and not_after > $2
         order by not_after desc limit 1`, [agency.code, now])).rows[0];
      // The usual case takes no lock; only making a seal does, so concurrent issuances make one.
      let seal = await valid();
      if (!seal) {
        await q.query('select pg_advisory_xact_lock(hashtext($1))', [`yiwang.licence.seal.${agency.code}`]);
        seal = await valid();
      }
      if (!seal) {
        const ca = await current(q, 'ca');
        if (!ca) throw new AppError('SEAL_NOT_FOUND', '未初始化印章CA / the seal CA is not set up');
        // The agency's seal image (a generated round seal for the demo), stored with the
        // certificate that carries its SHA-256 (review gap F).
        const sealImage = renderSealPng(agency.name, SEAL_PURPOSE);
        seal = await insert(q, 'seal', ca.id, agency.code, issueSealCertificate(await certified(ca), {
          agencyName: agency.name, agencyCode: agency.code, sealName: `${agency.name}${SEAL_PURPOSE}`, now, years: SEAL_YEARS,
          crlUrl: o.crlBase ? crlUrl(o.crlBase, ca.id) : undefined, sealImage,
        }));
        await q.query(`update ${S}.certificates set seal_image = $2 where id = $1`, [seal.id, sealImage]);
      }
      return { certificateId: seal.id, privateKey: await keyOf(seal), chainPem: await chainOf(q, seal) };
    },

    async isRevoked(serialHex, issuerDn) {
      const { rows } = await o.db.query<{ status: string }>(
        `select status from ${S}.certificates where serial_hex = $1 and issuer_dn = $2`, [serialHex, issuerDn]);
      return rows[0]?.status === 'revoked';
    },

    async crl(caId) {
      if (!/^[0-9a-f-]{36}$/.test(caId)) return null;
      const { rows } = await o.db.query<CertRow>(`select * from ${S}.certificates where id = $1 and role in ('root', 'ca')`, [caId]);
      const ca = rows[0];
      if (!ca) return null;
      const now = o.clock.now();
      const { rows: revoked } = await o.db.query<{ serial_hex: string; revoked_at: Date | string | null }>(
        `select serial_hex, revoked_at from ${S}.certificates where issuer_id = $1 and status = 'revoked' order by serial_hex`, [caId]);
      // cRLNumber must increase (RFC 5280 §5.2.3): the signing second does, for one CA.
      return buildCrl({
        issuerCertPem: ca.cert_pem, issuerKey: await keyOf(ca), thisUpdate: now, nextUpdate: new Date(now.getTime() + CRL_HOURS * 3600_000),
        crlNumber: Math.floor(now.getTime() / 1000),
        entries: revoked.map((r) => ({ serialHex: r.serial_hex, revokedAt: new Date(r.revoked_at ?? now), reason: 'unspecified' as const })),
      });
    },
  };
}

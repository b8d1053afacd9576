/**
 * The outside CA's CRLs, imported into the licence service (R-LI-3, R-LI-4). The province's
 * offline CA (`npx yiwang seal revoke` / `crl`) revokes seal, TSA and CA certificates and writes
 * its CRL; a decider of LICENCE_OPERATOR_AGENCY imports it (importSealCrl). Checked in this
 * order, each refusal with its code, nothing stored:
 *
 *  1. PEM or base64 DER, at most 512 KB of DER; an X.509 v2 CRL with nextUpdate and cRLNumber and no
 *     critical extension (delta CRLs, issuing distribution points and indirect CRLs are not
 *     processed here, RFC 5280 §5.2)                                SEAL_CRL_INVALID
 *  2. its issuer is the subject of a CA the service trusts — a LICENCE_TRUST_ANCHORS certificate
 *     or a CA of an installed chain — entitled to sign CRLs          SEAL_CRL_UNKNOWN_ISSUER
 *  3. its signature verifies with that CA's key (another CA's CRL with the same name, or an
 *     altered one, does not)                                         SEAL_CRL_SIGNATURE_INVALID
 *  4. thisUpdate not in the future, nextUpdate not past              SEAL_CRL_NOT_CURRENT
 *  5. cRLNumber not lower than the last one imported for that CA key (the same number only for
 *     the very same CRL, which changes nothing)                      SEAL_CRL_REPLAYED
 *
 * Then, in one transaction (serialised by CRL_IMPORT_LOCK): the CRL is stored in `crls`
 * (append-only: who imported it and when); every installed seal or TSA certificate it lists —
 * itself, or a CA of its chain — is recorded as revoked with the entry's date, reason and
 * invalidity date (./seal-admin.ts markRevoked: it signs nothing more, so an agency without
 * another seal waits with SEAL_NOT_FOUND; its status lists are sealed again by the next seal)
 * and each such revocation is in the seal audit, by the importer.
 *
 * The latest CRL of each CA is used by POST /verify, the verify page and the internal check (one
 * past its nextUpdate there is LICENCE_STATUS_UNAVAILABLE for what that CA issued: revocation
 * cannot be ruled out, keep importing), refuses installing a chain it lists, and is served at
 * GET /crl/<name> when certificates of that CA name <LICENCE_PUBLIC_URL>/crl/<name> as their
 * CRL distribution point (`yiwang seal … --crl-base <LICENCE_PUBLIC_URL>/crl`).
 */
import { createHash, randomUUID, type X509Certificate } from 'node:crypto';
import type { Db, Queryable } from '../../kernel/db.ts';
import { AppError } from '../../kernel/errors.ts';
import type { Caller } from '../../kernel/internal-auth.ts';
import {
  crlSignedBy, listedIn, loadCertificate, nameText, oneLineName, parseCrl, readTrustBundle, reasonName, subjectDer,
  type ChainCertificate, type ParsedCrl, type ParsedCrlEntry,
} from '../../seal/index.ts';
import { LICENCE_SCHEMA as S } from './migrations.ts';
import { markRevoked, operatorActor, type SealAdmin } from './seal-admin.ts';
import { recordSealAct, type SealRole } from './seal-audit.ts';
import { CRL_IMPORT_LOCK, sealLock, TSA_USE_LOCK, type CertRow } from './trust.ts';
import type { CrlImports } from './imported-crls.ts';

/** DER bytes: its PEM (or base64) still fits the gateway's 1 MB request body. */
export const MAX_CRL_BYTES = 512 * 1024;
/** A CA's clock a little ahead of ours is not a CRL from the future. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface CrlRow {
  id: string; issuer_key: string; issuer_dn: string; ca_cert_pem: string; crl_number: string; this_update: Date | string; next_update: Date | string;
  der: Buffer | Uint8Array; entries: number; imported_at: Date | string; imported_by_id: string; imported_by_name: string; imported_by_agency: string | null;
}

/** A crls row with cRLNumber as text (numeric: up to 20 octets, beyond a JS number). */
const COLUMNS = `id, issuer_key, issuer_dn, ca_cert_pem, crl_number::text as crl_number, this_update, next_update, der, entries,
  imported_at, imported_by_id, imported_by_name, imported_by_agency`;

export type { CrlImports } from './imported-crls.ts';

/** How a CA is known in `crls`: the SHA-256 (hex) of its SubjectPublicKeyInfo. */
export const keyId = (cert: X509Certificate): string => createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('hex');

const issuedBy = (c: ChainCertificate, ca: ChainCertificate): boolean => c.cert.checkIssued(ca.cert) && c.cert.verify(ca.cert.publicKey);

/** Each installed certificate row's path: the certificate, then the chain as installed. */
const pathOf = (row: Pick<CertRow, 'cert_pem' | 'chain_pem'>): ChainCertificate[] => [row.cert_pem, ...readTrustBundle(row.chain_pem ?? '')].map((p) => loadCertificate(p));

export function createCrlImports(o: { db: Db; publicBase: string; externalAnchorsPem: readonly string[] }): CrlImports {
  const anchors = o.externalAnchorsPem.map((p) => loadCertificate(p));
  const parsed = new Map<string, ParsedCrl>(); // crls.id → parsed (a stored CRL never changes)
  const points = new Map<string, Array<{ url: string; issuerKey: string }>>(); // certificates.id → its distribution points

  /** Every CRL distribution point named in an installed chain, with the key of the CA that issued the certificate naming it. */
  async function distributionPoints(q: Queryable): Promise<Array<{ url: string; issuerKey: string }>> {
    const { rows } = await q.query<{ id: string; cert_pem: string; chain_pem: string | null }>(`select id, cert_pem, chain_pem from ${S}.certificates where source = 'external'`);
    return rows.flatMap((r) => {
      let p = points.get(r.id);
      if (!p) {
        const path = pathOf(r);
        p = path.flatMap((c, i) => {
          const issuer = path[i + 1] ?? anchors.find((a) => issuedBy(c, a));
          return issuer && issuer !== c ? c.profile.crlDistributionPoints.map((url) => ({ url, issuerKey: keyId(issuer.cert) })) : [];
        });
        points.set(r.id, p);
      }
      return p;
    });
  }

  return {
    async current(q) {
      const { rows } = await q.query<{ id: string; der: Buffer | Uint8Array }>(
        `select distinct on (issuer_key) id, der from ${S}.crls order by issuer_key, crl_number desc`);
      return rows.map((r) => {
        let crl = parsed.get(r.id);
        if (!crl) {
          crl = parseCrl(Buffer.from(r.der));
          parsed.set(r.id, crl);
        }
        return crl;
      });
    },

    async knownCas(q) {
      const { rows } = await q.query<{ chain_pem: string }>(`select distinct chain_pem from ${S}.certificates where source = 'external'`);
      const chainCas = rows.flatMap((r) => readTrustBundle(r.chain_pem).map((p) => loadCertificate(p)).filter((c) => c.profile.basicConstraints?.cA));
      return [...new Map([...anchors, ...chainCas].map((c) => [c.cert.fingerprint256, c])).values()]; // each once
    },

    async servedAt(file) {
      const url = `${o.publicBase.replace(/\/$/, '')}/crl/${file}`;
      const keys = [...new Set((await distributionPoints(o.db)).filter((p) => p.url === url).map((p) => p.issuerKey))];
      if (keys.length === 0) return null;
      const { rows } = await o.db.query<{ der: Buffer | Uint8Array }>(
        `select der from ${S}.crls where issuer_key = any($1::text[]) order by crl_number desc, imported_at desc limit 1`, [keys]);
      return rows[0] ? Buffer.from(rows[0].der) : null;
    },

    async urlsOf(q, issuerKey) {
      const own = `${o.publicBase.replace(/\/$/, '')}/crl/`;
      return [...new Set((await distributionPoints(q)).filter((p) => p.issuerKey === issuerKey && p.url.startsWith(own)).map((p) => p.url))].sort();
    },
  };
}

const invalid = (why: string) => new AppError('SEAL_CRL_INVALID', `证书吊销列表无效：${why} / the CRL is not usable: ${why}`);

/** Step 1: the CRL as given (PEM, or DER in base64), parsed, with the DER kept as the CA signed it. */
export function readCrlInput(input: string): { der: Buffer; crl: ParsedCrl } {
  const text = (input ?? '').trim();
  const limit = `${MAX_CRL_BYTES / 1024} KB`;
  if (text.length === 0 || text.length > MAX_CRL_BYTES * 2) throw invalid(`需要 ${limit} 以内的 PEM 或 base64 DER / PEM or base64 DER of at most ${limit} is required`);
  const pem = /^-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----$/.exec(text);
  const b64 = pem ? pem[1]!.replace(/\s/g, '') : text.replace(/\s/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw invalid('不是 PEM 或 base64 / neither PEM nor base64');
  const der = Buffer.from(b64, 'base64');
  if (der.length > MAX_CRL_BYTES) throw invalid(`超过 ${limit} / larger than ${limit}`);
  let crl: ParsedCrl;
  try {
    crl = parseCrl(der);
  } catch (e) {
    throw invalid(`无法解析 / cannot be parsed (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!crl.nextUpdate) throw invalid('缺少 nextUpdate / no nextUpdate');
  if (crl.crlNumber === null) throw invalid('缺少 cRLNumber / no cRLNumber');
  if (crl.criticalExtensions.length > 0) throw invalid(`含本服务不处理的关键扩展 / critical extensions not processed here: ${crl.criticalExtensions.join(', ')}`);
  return { der, crl };
}

/** Steps 2 and 3: the trusted CA that signed it. */
export function issuingCa(crl: ParsedCrl, cas: readonly ChainCertificate[]): ChainCertificate {
  const named = cas.filter((ca) => subjectDer(ca.cert.raw).equals(crl.issuer) && (!ca.profile.keyUsage || ca.profile.keyUsage.has('cRLSign')));
  const issuer = nameText(crl.issuer);
  if (named.length === 0) {
    throw new AppError('SEAL_CRL_UNKNOWN_ISSUER', `签发者（${issuer}）不是本服务信任的CA（LICENCE_TRUST_ANCHORS 或已安装证书链中的CA）/ the CRL's issuer is not a CA this service trusts: ${issuer}`, { issuer });
  }
  const signer = named.find((ca) => crlSignedBy(crl, ca.cert));
  if (!signer) {
    throw new AppError('SEAL_CRL_SIGNATURE_INVALID', `签名无法用 ${issuer} 的公钥验证（其他CA签发或内容被篡改）/ the signature does not verify with the key of ${issuer}: signed by another CA, or altered`, { issuer });
  }
  return signer;
}

/** Step 4. */
function checkCurrent(crl: ParsedCrl, now: Date): void {
  const span = `thisUpdate ${crl.thisUpdate.toISOString()}, nextUpdate ${crl.nextUpdate!.toISOString()}`;
  if (crl.nextUpdate! <= now) {
    throw new AppError('SEAL_CRL_NOT_CURRENT', `证书吊销列表已过期（${span}）/ the CRL has expired (${span}): import the CA's current CRL`, { thisUpdate: crl.thisUpdate.toISOString(), nextUpdate: crl.nextUpdate!.toISOString() });
  }
  if (crl.thisUpdate.getTime() > now.getTime() + CLOCK_SKEW_MS || crl.nextUpdate! <= crl.thisUpdate) {
    throw new AppError('SEAL_CRL_NOT_CURRENT', `证书吊销列表的时间不合理（${span}）/ the CRL's times are not sane (${span})`, { thisUpdate: crl.thisUpdate.toISOString(), nextUpdate: crl.nextUpdate!.toISOString() });
  }
}

interface Listed { row: CertRow; entry: ParsedCrlEntry; via: string | null }

/** The service's active installed certificates the CRL lists: each itself, or a CA of its chain. */
async function listedCertificates(q: Queryable, crl: ParsedCrl, ca: ChainCertificate): Promise<Listed[]> {
  const { rows } = await q.query<CertRow>(`select * from ${S}.certificates where source = 'external' and status = 'active' order by created_at`);
  const out: Listed[] = [];
  for (const row of rows) {
    for (const [i, c] of pathOf(row).entries()) {
      const entry = !c.cert.raw.equals(ca.cert.raw) && issuedBy(c, ca) ? listedIn([crl], c.cert, ca.cert) : null;
      if (entry) {
        out.push({ row, entry, via: i === 0 ? null : oneLineName(c.cert.subject) });
        break;
      }
    }
  }
  return out;
}

/** Import a CRL of the outside CA (deciders of LICENCE_OPERATOR_AGENCY); the stored row, as imported now or before. */
export async function importCrl(a: SealAdmin, caller: Caller, input: string): Promise<CrlRow> {
  const actor = operatorActor(a, caller);
  const { der, crl } = readCrlInput(input);
  return a.db.tx(async (q) => {
    await q.query('select pg_advisory_xact_lock(hashtext($1))', [CRL_IMPORT_LOCK]);
    const ca = issuingCa(crl, await a.crls.knownCas(q));
    const now = a.clock.now();
    checkCurrent(crl, now);
    const issuerKey = keyId(ca.cert);
    const number = crl.crlNumber!;
    const { rows: last } = await q.query<CrlRow>(`select ${COLUMNS} from ${S}.crls where issuer_key = $1 order by crl_number desc limit 1`, [issuerKey]);
    const latest = last[0];
    if (latest && BigInt(latest.crl_number) >= number) {
      if (BigInt(latest.crl_number) === number && Buffer.from(latest.der).equals(der)) return latest; // the same CRL again: nothing changes
      throw new AppError('SEAL_CRL_REPLAYED',
        `cRLNumber ${number} 不大于已导入的 ${latest.crl_number}：这是旧的吊销列表 / cRLNumber ${number} is not above ${latest.crl_number}, the last imported from this CA: an older CRL replayed`,
        { crlNumber: number.toString(), latest: latest.crl_number });
    }
    const id = randomUUID();
    const issuerDn = oneLineName(ca.cert.subject);
    const { rows } = await q.query<CrlRow>(
      `insert into ${S}.crls (id, issuer_key, issuer_dn, ca_cert_pem, crl_number, this_update, next_update, der, entries, imported_at, imported_by_id, imported_by_name, imported_by_agency)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) returning ${COLUMNS}`,
      [id, issuerKey, issuerDn, ca.cert.toString(), number.toString(), crl.thisUpdate, crl.nextUpdate, der, crl.revoked.size, now, actor.id, actor.name, actor.agency]);

    const listed = await listedCertificates(q, crl, ca);
    // Locks in issuance's order (seal, then TSA), agencies sorted: wait for what is being sealed now.
    for (const code of [...new Set(listed.filter((l) => l.row.role === 'seal').map((l) => l.row.agency_code!))].sort()) {
      await q.query('select pg_advisory_xact_lock(hashtext($1))', [sealLock(code)]);
    }
    if (listed.some((l) => l.row.role === 'tsa')) await q.query('select pg_advisory_xact_lock(hashtext($1))', [TSA_USE_LOCK]);
    for (const { row, entry, via } of listed) {
      const reason = reasonName(entry.reason) ?? 'unspecified';
      const revoked = await markRevoked(q, row.id, { revokedAt: entry.revokedAt, reason, invalidityDate: entry.invalidityDate, crlId: id });
      if (!revoked) continue;
      await recordSealAct(q, actor, {
        action: 'revoke', role: row.role as SealRole, agencyCode: row.agency_code, certificateId: row.id,
        details: {
          source: 'crl', crlId: id, issuer: issuerDn, crlNumber: number.toString(), serialHex: row.serial_hex, reason, revokedAt: entry.revokedAt.toISOString(),
          ...(entry.invalidityDate ? { invalidityDate: entry.invalidityDate.toISOString() } : {}), ...(via ? { via } : {}),
        },
      }, now);
    }
    return rows[0]!;
  });
}

/** Every imported CRL, newest first. */
export async function listCrls(q: Queryable): Promise<CrlRow[]> {
  const { rows } = await q.query<CrlRow>(`select ${COLUMNS} from ${S}.crls order by imported_at desc, crl_number desc`);
  return rows;
}

/** The certificates an imported CRL revoked when it was imported. */
export async function revokedBy(q: Queryable, crlId: string): Promise<CertRow[]> {
  const { rows } = await q.query<CertRow>(`select * from ${S}.certificates where revoked_by_crl = $1 order by created_at`, [crlId]);
  return rows;
}

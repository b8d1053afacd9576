/**
 * The electronic business licence route of company registration (R-ID-4, G 5.1.2(1)②
 * 法人远程比对注册 …或用户上传电子营业执照): the legal representative presents the company's
 * electronic business licence, a VC-JWT sealed by a business-registration agency as the licence
 * service seals licences (seal/). Checked here, offline:
 *
 * 1. the seal, chain and validity against the configured trust bundle (IDP_LICENCE_TRUST_BUNDLE,
 *    else YIWANG_TRUST_BUNDLE, else <DATA_DIR>/trust-bundle.pem): seal/ verifyLicence, whose
 *    refusal codes (LICENCE_BAD_SIGNATURE, LICENCE_UNKNOWN_ISSUER, LICENCE_EXPIRED, …) are answered as they are;
 * 2. its status lists (revoked, suspended) from the status cache (IDP_LICENCE_STATUS_CACHE),
 *    refreshed first from the URLs the verified licence names when IDP_LICENCE_STATUS_ONLINE
 *    (only lists that verify are kept); a list that is nowhere to be had leaves the status
 *    unchecked, and the company's evidence says so (`statusChecked: false`);
 * 3. a business licence: its type among IDP_BUSINESS_LICENCE_TYPES, its holder a company (credit
 *    code), naming a legal representative (BUSINESS_LICENCE_INVALID with `reason`);
 * 4. that legal representative is the logged-in person: same name and ID number (LEGAL_REP_MISMATCH).
 *
 * The company's code and name are the licence's: nothing is typed in.
 */
import { resolve } from 'node:path';
import type { Config } from '../../kernel/config.ts';
import type { Clock } from '../../kernel/clock.ts';
import { AppError, type ErrorCode } from '../../kernel/errors.ts';
import { isValidCreditCode, normaliseIdNumber } from '../../kernel/ids.ts';
import { cachedStatusLists, createVerifyCache, loadAnchors, readTrustBundle, refreshStatusLists, verifyLicence } from '../../seal/index.ts';
import type { AccountRecord } from '../accounts/store.ts';
import type { Level } from '../accounts/assurance.ts';
import type { CompanyProof } from './companies.ts';
import { notConfigured, readPemSetting } from './trust.ts';

type LicenceConfig = Pick<Config, 'IDP_LICENCE_TRUST_BUNDLE' | 'YIWANG_TRUST_BUNDLE' | 'DATA_DIR' | 'IDP_BUSINESS_LICENCE_TYPES' | 'IDP_LICENCE_STATUS_CACHE' | 'YIWANG_STATUS_CACHE' | 'IDP_LICENCE_STATUS_ONLINE'>;

const MAX_LICENCE = 64 * 1024;

/** The compact JWS: as given, or the `credential` of a JSON object (what the licence service hands out). */
function licenceText(v: unknown): string {
  let text = typeof v === 'string' ? v.trim() : '';
  if (text.startsWith('{')) {
    try {
      const doc = JSON.parse(text) as { credential?: unknown };
      if (typeof doc.credential === 'string') text = doc.credential.trim();
    } catch { /* not JSON: verifyLicence calls it malformed */ }
  }
  if (!text || text.length > MAX_LICENCE) throw new AppError('BAD_INPUT', '请提供电子营业执照（VC-JWT 文本） / provide the electronic business licence (its VC-JWT text)', { fields: ['licence'] });
  return text;
}

const invalid = (reason: string, message: string) => new AppError('BUSINESS_LICENCE_INVALID', message, { reason });

export function createLicenceProof(d: { config: LicenceConfig; clock: Clock; fetch?: typeof fetch }) {
  const { config, clock } = d;
  const types = new Set(config.IDP_BUSINESS_LICENCE_TYPES.split(','));
  const statusDir = resolve(config.IDP_LICENCE_STATUS_CACHE ?? config.YIWANG_STATUS_CACHE ?? resolve(config.DATA_DIR, 'status-cache'));
  const cache = createVerifyCache();

  return async function prove(rep: AccountRecord, licence: unknown): Promise<CompanyProof> {
    const jws = licenceText(licence);
    const pem = readPemSetting('IDP_LICENCE_TRUST_BUNDLE', config.IDP_LICENCE_TRUST_BUNDLE ?? config.YIWANG_TRUST_BUNDLE, resolve(config.DATA_DIR, 'trust-bundle.pem'));
    const anchors = pem ? readTrustBundle(pem) : [];
    if (!anchors.length) throw notConfigured('电子营业执照的信任根证书 / a trust bundle for electronic business licences');
    const now = clock.now();
    const refuse = (r: { reason: ErrorCode; message: string }) => new AppError(r.reason, r.message);

    const sealed = await verifyLicence(jws, { trustAnchorsPem: anchors, now, cache });
    if (!sealed.valid) throw refuse(sealed);
    // Status-list URLs are read only from a licence whose seal verified; only lists that verify are cached.
    if (config.IDP_LICENCE_STATUS_ONLINE) await refreshStatusLists(statusDir, sealed.credential, { anchors: loadAnchors(anchors), crls: [], now, fetch: d.fetch ?? fetch });
    const r = await verifyLicence(jws, { trustAnchorsPem: anchors, now, cache, statusLists: cachedStatusLists(statusDir), statusMissingAllowed: true });
    if (!r.valid) throw refuse(r);

    const l = r.credential.credentialSubject.licence;
    if (!types.has(l.typeCode)) throw invalid('type', `这不是电子营业执照（${l.typeName}） / this is not an electronic business licence (${l.typeCode})`);
    if (!isValidCreditCode(l.holderCode)) throw invalid('holder', '该执照的持证主体不是单位 / the licence is not held by a company');
    const lr = l.legalRepresentative;
    if (!lr) throw invalid('legal-representative', '该执照未载明法定代表人 / the licence names no legal representative');
    if (lr.name !== rep.name || normaliseIdNumber(lr.idNumber) !== rep.idNumber) {
      throw new AppError('LEGAL_REP_MISMATCH', '该执照载明的法定代表人不是您本人 / the licence names another legal representative than you');
    }
    return {
      route: 'licence', creditCode: l.holderCode, name: l.holderName, level: Math.min(3, rep.assuranceLevel) as Level,
      evidence: {
        licenceId: l.identifier, typeCode: l.typeCode, issuerCode: r.issuer.code, issuerName: r.issuer.name,
        signedAt: r.signedAt.toISOString(), validUntil: r.credential.validUntil ?? null, statusChecked: r.statusChecked !== false,
      },
    };
  };
}
export type LicenceProof = ReturnType<typeof createLicenceProof>;

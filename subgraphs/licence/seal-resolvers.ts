/**
 * Resolvers for the seal administration part of schema/licence.graphql (./seal-admin.ts and
 * ./crl-import.ts do the work and the authorisation): GraphQL enums are the upper-case forms of
 * the stored values (SEAL ↔ seal, KEY_COMPROMISE ↔ keyCompromise).
 */
import type { CrlReason } from '../../seal/index.ts';
import {
  crlOf, findCertificate, installCertificate, listCertificates, listRequests, operatorActor, requestCertificate, revokeCertificate, sealActor,
  type RequestRow, type SealAdmin,
} from './seal-admin.ts';
import { importCrl, listCrls, revokedBy, type CrlRow } from './crl-import.ts';
import { sealAudit, type SealRole } from './seal-audit.ts';
import type { CertRow } from './trust.ts';
import type { LicenceContext } from './context.ts';

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
/** SealRevocationReason ↔ RFC 5280 names, spelt out: cACompromise does not follow the pattern. */
const REASONS: Record<CrlReason, string> = {
  unspecified: 'UNSPECIFIED', keyCompromise: 'KEY_COMPROMISE', cACompromise: 'CA_COMPROMISE', affiliationChanged: 'AFFILIATION_CHANGED',
  superseded: 'SUPERSEDED', cessationOfOperation: 'CESSATION_OF_OPERATION', certificateHold: 'CERTIFICATE_HOLD',
};
const reasonOf = (constantCase: string): CrlReason => (Object.keys(REASONS) as CrlReason[]).find((r) => REASONS[r] === constantCase) ?? 'unspecified';

function certificate(a: SealAdmin, c: CertRow) {
  return {
    id: c.id, role: c.role.toUpperCase(), source: c.source.toUpperCase(), agencyCode: c.agency_code, subject: c.subject, issuer: c.issuer_dn,
    serialHex: c.serial_hex, notBefore: iso(c.not_before), notAfter: iso(c.not_after), state: c.status.toUpperCase(), revokedAt: iso(c.revoked_at),
    revocationReason: c.revocation_reason ? REASONS[c.revocation_reason] : null, invalidityDate: iso(c.invalidity_date), revokedByCrl: c.revoked_by_crl,
    crl: crlOf(a, c), certificate: c.cert_pem,
  };
}

async function sealCrl(ctx: LicenceContext, r: CrlRow) {
  const der = Buffer.from(r.der);
  return {
    id: r.id, issuer: r.issuer_dn, crlNumber: r.crl_number, thisUpdate: iso(r.this_update), nextUpdate: iso(r.next_update), entries: r.entries,
    importedAt: iso(r.imported_at), importedBy: r.imported_by_name, urls: await ctx.sealAdmin.crls.urlsOf(ctx.db, r.issuer_key),
    revoked: (await revokedBy(ctx.db, r.id)).map((c) => certificate(ctx.sealAdmin, c)),
    crl: `-----BEGIN X509 CRL-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END X509 CRL-----\n`,
  };
}

async function request(ctx: LicenceContext, r: RequestRow) {
  const cert = r.certificate_id ? await findCertificate(ctx.db, r.certificate_id) : null;
  return {
    id: r.id, role: r.role.toUpperCase(), agencyCode: r.agency_code, agencyName: r.agency_name, name: r.subject_name, csr: r.csr_pem,
    state: r.state.toUpperCase(), requestedAt: iso(r.requested_at), requestedBy: r.requested_by, certificate: cert ? certificate(ctx.sealAdmin, cert) : null,
  };
}

/** Which certificates a query is about: an agency's seals, or (no agencyCode) the TSA; authorised as for acting on them. */
function scope(ctx: LicenceContext, agencyCode: string | null | undefined): { role: SealRole; agencyCode: string | null } {
  const s = agencyCode ? { role: 'seal' as const, agencyCode } : { role: 'tsa' as const, agencyCode: null };
  sealActor(ctx.sealAdmin, ctx.caller, s.role, s.agencyCode);
  return s;
}

export const sealQueries = {
  sealCertificates: async (_: unknown, args: { agencyCode?: string | null }, ctx: LicenceContext) => {
    const s = scope(ctx, args.agencyCode);
    return (await listCertificates(ctx.db, s.role, s.agencyCode)).map((c) => certificate(ctx.sealAdmin, c));
  },
  sealCertificateRequests: async (_: unknown, args: { agencyCode?: string | null }, ctx: LicenceContext) => {
    const s = scope(ctx, args.agencyCode);
    return Promise.all((await listRequests(ctx.db, s.role, s.agencyCode)).map((r) => request(ctx, r)));
  },
  sealAudit: async (_: unknown, args: { agencyCode?: string | null }, ctx: LicenceContext) => {
    const s = scope(ctx, args.agencyCode);
    return (await sealAudit(ctx.db, s.agencyCode)).map((e) => ({ ...e, action: e.action.toUpperCase(), role: e.role.toUpperCase() }));
  },
  sealCrls: async (_: unknown, _args: unknown, ctx: LicenceContext) => {
    operatorActor(ctx.sealAdmin, ctx.caller);
    return Promise.all((await listCrls(ctx.db)).map((r) => sealCrl(ctx, r)));
  },
};

export const sealMutations = {
  requestSealCertificate: async (_: unknown, args: { agencyCode: string; agencyName: string; name?: string | null }, ctx: LicenceContext) =>
    request(ctx, await requestCertificate(ctx.sealAdmin, ctx.caller, { role: 'seal', ...args })),
  requestTimestampCertificate: async (_: unknown, args: { name?: string | null }, ctx: LicenceContext) =>
    request(ctx, await requestCertificate(ctx.sealAdmin, ctx.caller, { role: 'tsa', name: args.name })),
  installSealCertificate: async (_: unknown, args: { requestId: string; chain: string; sealImage?: string | null }, ctx: LicenceContext) =>
    certificate(ctx.sealAdmin, await installCertificate(ctx.sealAdmin, ctx.caller, args)),
  revokeSealCertificate: async (_: unknown, args: { id: string; reason: string; note: string; invalidityDate?: string | null }, ctx: LicenceContext) => {
    const reason = reasonOf(args.reason); // the enum was checked by GraphQL, the value again by revokeCertificate
    return certificate(ctx.sealAdmin, await revokeCertificate(ctx.sealAdmin, ctx.caller, { id: args.id, reason, note: args.note, invalidityDate: args.invalidityDate }));
  },
  importSealCrl: async (_: unknown, args: { crl: string }, ctx: LicenceContext) => sealCrl(ctx, await importCrl(ctx.sealAdmin, ctx.caller, args.crl)),
};

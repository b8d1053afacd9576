/**
 * Regenerates the known-answer vectors (a fresh hierarchy, so every file changes):
 *   node_modules/.bin/node seal/testdata/generate.ts
 * Test material only: the private key here is public and seals nothing real.
 */
import { writeFileSync } from 'node:fs';
import { createRootCa, issueCa, issueSealCertificate, buildLicenceCredential, signLicence } from '../index.ts';
import { VECTOR_FIELDS, VECTOR_ISSUED_AT, VECTOR_SIGNED_AT } from '../testing/vectors.ts';

const dir = new URL('.', import.meta.url);
const now = VECTOR_ISSUED_AT;
const root = createRootCa({ commonName: '一网测试根CA（仅供测试）', organization: 'Yiwang test vectors', now, years: 50 });
const ca = issueCa(root, { commonName: '浙江测试电子印章CA（仅供测试）', organization: 'Yiwang test vectors', regionCode: '330000', now, years: 40, pathLen: 0 });
const seal = issueSealCertificate(ca, { agencyName: VECTOR_FIELDS.issuerName, agencyCode: VECTOR_FIELDS.issuerCode, sealName: '电子证照专用章（仅供测试）', now, years: 30 });
const jws = await signLicence(buildLicenceCredential(VECTOR_FIELDS), { privateKey: seal.privateKey, chainPem: [seal.certPem, ca.certPem] }, VECTOR_SIGNED_AT);

writeFileSync(new URL('root.pem', dir), root.certPem);
writeFileSync(new URL('ca.pem', dir), ca.certPem);
writeFileSync(new URL('seal.pem', dir), seal.certPem);
writeFileSync(new URL('seal.key.pem', dir), seal.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
writeFileSync(new URL('licence.jws', dir), `${jws}\n`);

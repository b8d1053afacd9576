/**
 * seal.credential: the VC 2.0 shape of a licence (known answer) and the fields it refuses.
 */
import { describe, expect, it } from '@jest/globals';
import { buildLicenceCredential } from './index.ts';
import { HANGZHOU_HRSS, licenceFields } from './testing/hierarchy.ts';

describe('seal.credential shape', () => {
  it('builds the VC 2.0 credential exactly (known answer)', () => {
    expect(buildLicenceCredential(licenceFields({ validFrom: '2026-03-01T08:00:00+08:00' }))).toEqual({
      '@context': ['https://www.w3.org/ns/credentials/v2'],
      type: ['VerifiableCredential', 'ElectronicLicence'],
      id: 'urn:yiwang:licence:1.2.156.3005.2.11100000MB0000010Q001.11330100MB0000002W.20260301000001.001.C',
      issuer: { id: 'urn:uscc:11330100MB0000002W', name: '杭州市市场监督管理局' },
      validFrom: '2026-03-01T00:00:00.000Z',
      validUntil: '2031-03-01T00:00:00.000Z',
      credentialSubject: {
        id: 'urn:yiwang:account:c1712e40-0000-4000-8000-000000000001',
        licence: {
          identifier: '1.2.156.3005.2.11100000MB0000010Q001.11330100MB0000002W.20260301000001.001.C',
          typeCode: '11100000MB0000010Q001',
          typeName: '食品经营许可证',
          number: 'JY13301000000001',
          holderName: '张三',
          holderCode: '33010619900101123X',
          issuerName: '杭州市市场监督管理局',
          issuerCode: '11330100MB0000002W',
          issueDate: '2026-03-01',
          jurisdiction: '330100',
        },
      },
    });
  });

  it('omits validUntil for a licence without end', () => {
    expect(buildLicenceCredential(licenceFields({ validUntil: null }))).not.toHaveProperty('validUntil');
    expect(buildLicenceCredential(licenceFields({ validUntil: undefined }))).not.toHaveProperty('validUntil');
  });
});

describe('seal.credential refusals', () => {
  it.each([
    ['empty holder name', { holderName: '' }, 'BAD_INPUT'],
    ['issue date not YYYY-MM-DD', { issueDate: '2026/03/01' }, 'BAD_INPUT'],
    ['validFrom without time zone', { validFrom: '2026-03-01T00:00:00' }, 'BAD_INPUT'],
    ['validFrom not a date', { validFrom: 'soon' }, 'BAD_INPUT'],
    ['validUntil before validFrom', { validUntil: '2020-01-01T00:00:00Z' }, 'BAD_INPUT'],
    ['issuer code with a wrong check character', { issuerCode: '11330100MB0000002X' }, 'CREDIT_CODE_INVALID'],
    ['identifier with a wrong check character', { identifier: '1.2.156.3005.2.11100000MB0000010Q001.11330100MB0000002W.20260301000001.001.D' }, 'BAD_INPUT'],
    ['identifier without the GB/T 36904 prefix', { identifier: 'JY-2026-0001' }, 'BAD_INPUT'],
    ['identifier of another licence type', { typeCode: '11100000MB0000010Q002' }, 'BAD_INPUT'],
    ['identifier of another issuing agency', { issuerCode: HANGZHOU_HRSS.code }, 'BAD_INPUT'],
    ['holder code with a wrong check digit', { holderCode: '330106199001011230' }, 'BAD_INPUT'],
    ['holder code neither ID number nor credit code', { holderCode: 'ABC' }, 'BAD_INPUT'],
    ['holder name that renders as another (bidi override, zero-width space)', { holderName: '\u202E三张\u200B' }, 'BAD_INPUT'],
    ['issuer name with a zero-width joiner', { issuerName: `杭州市\u200D市场监督管理局` }, 'BAD_INPUT'],
    ['type name with a bidi isolate', { typeName: '\u2067食品经营许可证\u2069' }, 'BAD_INPUT'],
    ['licence number with a soft hyphen', { number: 'JY1330\u00AD1000000001' }, 'BAD_INPUT'],
  ])('%s is %s', (_, override, code) => {
    expect(() => buildLicenceCredential(licenceFields(override))).toThrow(expect.objectContaining({ code }));
  });
});

describe('seal.credential names', () => {
  it('names are sealed in NFC: a decomposed holder name is the same name', () => {
    const c = buildLicenceCredential(licenceFields({ holderName: 'Zoe\u0308 Li' }));
    expect(c.credentialSubject.licence.holderName).toBe('Zoë Li');
  });

  it('a legal representative\'s name with a format character is refused', () => {
    expect(() => buildLicenceCredential(licenceFields({ holderCode: '91330106MA2B00001Y', holderName: '杭州一网示范科技有限公司', legalRepresentative: { name: '张\u200B三', idNumber: '33010619900101123X' } })))
      .toThrow(expect.objectContaining({ code: 'BAD_INPUT', details: expect.objectContaining({ fields: ['legalRepresentative.name'] }) }));
  });
});

describe('seal.credential legal representative', () => {
  const company = { holderName: '杭州一网示范科技有限公司', holderCode: '91330106MA2B00001Y' };
  it('a company\'s licence names its legal representative; a person\'s licence names none', () => {
    const c = buildLicenceCredential(licenceFields({ ...company, legalRepresentative: { name: '张三', idNumber: '33010619900101123X' } }));
    expect(c.credentialSubject.licence.legalRepresentative).toEqual({ name: '张三', idNumber: '33010619900101123X' });
    expect(buildLicenceCredential(licenceFields()).credentialSubject.licence).not.toHaveProperty('legalRepresentative');
  });
  it.each([
    ['on a person\'s licence', {}, { name: '张三', idNumber: '33010619900101123X' }],
    ['with a wrong ID check digit', company, { name: '张三', idNumber: '330106199001011230' }],
    ['without a name', company, { name: '', idNumber: '33010619900101123X' }],
  ])('a legal representative %s is BAD_INPUT', (_l, holder, rep) => {
    expect(() => buildLicenceCredential(licenceFields({ ...holder, legalRepresentative: rep }))).toThrow(expect.objectContaining({ code: 'BAD_INPUT', details: { field: 'legalRepresentative' } }));
  });
});

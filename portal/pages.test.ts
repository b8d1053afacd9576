import { describe, expect, test } from '@jest/globals';
import { guidePage, href, marked, type GuideItem } from './pages.ts';

const item = (over: Partial<GuideItem> = {}): GuideItem => ({
  id: 'b0f7c1f2-0001-4000-8000-000000000001', name: '<script>alert(1)</script>食品', basicCode: '1', implementationCode: '2', typeName: '行政许可',
  level: 3, caseType: '2', legalTimeLimit: 20, promisedTimeLimit: 5, onlineDepth: 4, visits: 1, onlineHandling: true, agency: { name: '机构' },
  materials: [
    { code: 'M01', name: '申请书', required: true, paperCopies: 1, replaceableByLicenceType: null, type: 'ORIGINAL', sampleUrl: 'javascript:alert(1)', formUrl: '/forms/m01.pdf', sourceChannel: 'APPLICANT', instructions: '' },
    { code: 'M02', name: '委托书', required: false, paperCopies: 0, replaceableByLicenceType: null, type: 'COPY', sampleUrl: '//evil.example/x', formUrl: 'https://forms.example.gov.cn/m02.docx', sourceChannel: 'OTHER', instructions: '' },
  ],
  elements: {
    legalBasis: '', timeLimitUnit: 'WORKING_DAY', acceptanceConditions: '', process: [], channels: [], places: [], consultationPhone: '', supervisionPhone: '',
    fee: { charged: true, standard: '每件 10 元', basis: '收费依据' }, crossRegion: 'NATIONAL', appointment: false, onlinePayment: true, delivery: false,
    selfServiceTerminal: false, coHandlingAgencies: [], result: null,
  },
  directoryEntry: { legalBasis: '目录依据' }, related: [], ...over,
});

describe('guide page rendering', () => {
  test('text is escaped; only http(s) and same-site paths become download links', async () => {
    const page = (await guidePage('zh-CN', item(), 'http://127.0.0.1:3000/items/x')).value;
    expect(page).not.toContain('<script>');
    expect(page).toContain('&#60;script&#62;');
    expect(page).toContain('href="/forms/m01.pdf" download');
    expect(page).toContain('href="https://forms.example.gov.cn/m02.docx" download');
    expect(page).not.toContain('javascript:');
    expect(page).not.toContain('evil.example');
    // The directory's legal basis stands in when the implementation has none; fees are shown.
    expect(page).toContain('目录依据');
    expect(page).toContain('每件 10 元');
    expect(page).toContain('全国通办');
    expect(page).toContain('<svg');
  });

  test('highlights are escaped too, and links keep the language', () => {
    expect(marked([{ text: '<b>', match: true }, { text: '食品', match: false }]).value).toBe('<mark>&#60;b&#62;</mark>食品');
    expect(href('en', '/search', { q: '食品', after: null })).toBe('/search?q=%E9%A3%9F%E5%93%81&lang=en');
    expect(href('zh-CN', '/')).toBe('/');
  });
});

import { rankingPage, type RankingBoard } from './pages.ts';
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

describe('ranking board rendering', () => {
  test('R-EV-5: agencies in board order with their indicators, names escaped, missing indicators as a dash; the formula shown', () => {
    const board: RankingBoard = {
      periodStart: '2026-03-11T02:30:00.000Z', periodEnd: '2026-04-10T02:30:00.000Z', formula: '得分 = 100 × …',
      entries: [
        { rank: 1, score: 100, cases: 2, onlineRate: 1, onTimeRate: 1, satisfaction: 5, complaintOnTimeRate: null, visitsPerCase: 0, agency: { code: 'A', name: '杭州市<市场>监督管理局' } },
        { rank: 2, score: 51.25, cases: 2, onlineRate: 0.5, onTimeRate: 0.5, satisfaction: 2, complaintOnTimeRate: 1, visitsPerCase: 1, agency: { code: 'B', name: '杭州市人力资源和社会保障局' } },
      ],
    };
    const out = rankingPage('zh-CN', board).value;
    expect(out).toContain('杭州市&#60;市场&#62;监督管理局');
    expect(out.indexOf('监督管理局')).toBeLessThan(out.indexOf('人力资源'));
    expect(out).toContain('<td>51.25</td>');
    expect(out).toContain('<td>50%</td>');
    expect(out).toContain('<td>—</td>');
    expect(out).toContain('2026-03-11 10:30'); // China time
    expect(out).toContain('得分 = 100 × …');
    expect(rankingPage('en', { ...board, entries: [] }).value).toContain('No agency to rank in this period yet.');
  });
});

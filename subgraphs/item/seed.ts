/**
 * Demo catalogue (SEED_DEMO): the shared agencies and items of kernel/demo.ts, written through
 * upsertAgency/upsertItem so a re-run with unchanged data changes nothing and emits no event.
 * The catalogue's own classification of the demo items (R-IT-5: service objects, life-cycle
 * themes) is added here; the other services do not need it.
 */
import type { Db } from '../../kernel/db.ts';
import type { Clock } from '../../kernel/clock.ts';
import { DEMO_AGENCIES, DEMO_ITEMS } from '../../kernel/demo.ts';
import { upsertAgency, upsertItem, type UpsertOutcome } from './upsert.ts';
import { upsertDirectoryEntry, type DirectoryInput } from './catalogue.ts';
import type { ItemElementsInput } from './elements.ts';

const FOOD_LAW = '《中华人民共和国食品安全法》第三十五条；《食品经营许可和备案管理办法》';

/** Directory entries of the demo items (R-IT-1/3): national main items, and the food business handling item under its main item. */
export const DEMO_DIRECTORY: readonly DirectoryInput[] = [
  { basicCode: '000110011', regionCode: '100000', level: 1, name: '食品经营许可', typeCode: '01', legalBasis: FOOD_LAW, kind: 'main' },
  { basicCode: '000110011000', regionCode: '100000', level: 1, name: '食品经营许可（新办）', typeCode: '01', legalBasis: FOOD_LAW, kind: 'handling', parentCode: '000110011' },
  { basicCode: '000110011000', regionCode: '330000', level: 2, name: '食品经营许可（新办）', typeCode: '01', legalBasis: FOOD_LAW, kind: 'handling', parentCode: '000110011' },
  { basicCode: '000107002000', regionCode: '100000', level: 1, name: '个体工商户设立登记', typeCode: '01', legalBasis: '《促进个体工商户发展条例》；《市场主体登记管理条例》', kind: 'main' },
  { basicCode: '002018003000', regionCode: '100000', level: 1, name: '灵活就业人员参保登记', typeCode: '20', legalBasis: '《中华人民共和国社会保险法》第十条', kind: 'main' },
  { basicCode: '000110010000', regionCode: '100000', level: 1, name: '食品生产许可（省级）', typeCode: '01', legalBasis: FOOD_LAW, kind: 'main' },
];

/** The guide elements of the demo food business item (R-IT-2), so the guide page has something to show. */
export const DEMO_ELEMENTS: Readonly<Record<string, ItemElementsInput>> = {
  'b0f7c1f2-0001-4000-8000-000000000001': {
    legalBasis: FOOD_LAW,
    acceptanceConditions: '申请人应当取得营业执照等合法主体资格，具有与经营的食品品种、数量相适应的经营场所和设备设施。',
    process: [{ name: '申请', description: '网上提交申请材料' }, { name: '受理', description: '材料齐全的当场受理' },
      { name: '审查', description: '必要时现场核查' }, { name: '决定', description: '作出准予许可决定' }, { name: '送达', description: '电子证照即时送达，可邮寄纸质证书' }],
    channels: ['1', '2', '3'],
    places: [{ address: '杭州市上城区市民中心 C 区 2 楼市场监管窗口', hours: '工作日 9:00-12:00，13:30-17:00' }],
    consultationPhone: '0571-12345', supervisionPhone: '12315',
    crossRegion: 'PROVINCE', appointment: true, onlinePayment: false, delivery: true, selfServiceTerminal: true,
    result: { name: '食品经营许可证', type: 'CERTIFICATE', sampleUrl: '' },
  },
};

/** Classification of the demo items by id: service objects and themes. */
export const DEMO_CLASSIFICATION: Readonly<Record<string, { objects: string[]; themes: string[] }>> = {
  'b0f7c1f2-0001-4000-8000-000000000001': { objects: ['2', '5'], themes: ['C02', 'C12'] },
  'b0f7c1f2-0001-4000-8000-000000000002': { objects: ['1', '5'], themes: ['C01', 'P05'] },
  'b0f7c1f2-0001-4000-8000-000000000003': { objects: ['1'], themes: ['P05', 'P08'] },
  'b0f7c1f2-0001-4000-8000-000000000004': { objects: ['2'], themes: ['C02', 'C12'] },
};

export interface SeedResult {
  agencies: Record<UpsertOutcome, number>;
  items: Record<UpsertOutcome, number>;
}

export async function seedItemCatalogue(db: Db, clock: Clock): Promise<SeedResult> {
  const now = clock.now();
  const count = (): Record<UpsertOutcome, number> => ({ inserted: 0, updated: 0, unchanged: 0 });
  const result: SeedResult = { agencies: count(), items: count() };
  await db.tx(async (q) => {
    for (const a of DEMO_AGENCIES) result.agencies[await upsertAgency(q, a, now)] += 1;
    for (const d of DEMO_DIRECTORY) await upsertDirectoryEntry(q, d, now);
    for (const i of DEMO_ITEMS) {
      const elements = DEMO_ELEMENTS[i.id];
      result.items[await upsertItem(q, { ...i, ...DEMO_CLASSIFICATION[i.id], ...(elements ? { elements } : {}) }, now)] += 1;
    }
  });
  return result;
}

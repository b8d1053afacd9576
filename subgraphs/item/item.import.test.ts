import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { DEMO_AGENCIES, DEMO_ITEMS } from '../../kernel/demo.ts';
import { migrate } from '../../kernel/migrate.ts';
import { testDb, type TestDb } from '../../test/support/infra.ts';
import type { CliIo } from '../../kernel/cli.ts';
import { ITEM_MIGRATIONS, ITEM_SCHEMA } from './migrations.ts';
import { parseCsv, runItems } from './import.ts';

let db: TestDb;
let dir: string;

const io = () => {
  const out: string[] = [];
  const err: string[] = [];
  const x: CliIo & { out_: string[]; err_: string[] } = { out: (l) => out.push(l), err: (l) => err.push(l), env: { USER: 'tester' }, cwd: dir, out_: out, err_: err };
  return x;
};
const count = async (table: string) => (await db.query<{ n: number }>(`select count(*)::int as n from item.${table}`)).rows[0]!.n;
const file = (name: string, content: string) => { writeFileSync(join(dir, name), content); return name; };

const agency = DEMO_AGENCIES[1];
const item = (n: number, over: Record<string, unknown> = {}) => ({
  ...DEMO_ITEMS[2], id: `c0f7c1f2-0003-4000-8000-${String(n).padStart(12, '0')}`, name: `测试导入事项${n}`,
  basicCode: `0990000${String(n).padStart(5, '0')}`, implementationCode: `11330100MB0000002W30990000${String(n).padStart(5, '0')}`,
  agencyCode: agency.code, ...over,
});

beforeAll(async () => {
  db = await testDb();
  await migrate(db, ITEM_SCHEMA, ITEM_MIGRATIONS);
  dir = mkdtempSync(join(tmpdir(), 'yw-import-'));
});

afterAll(async () => {
  await db?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('yiwang items import', () => {
  test('a JSON file with agencies, directory entries and items is imported in one go, with versions, events and progress', async () => {
    const f = file('catalogue.json', JSON.stringify({
      agencies: [agency],
      directory: [{ basicCode: '099000000001', regionCode: '330100', level: 3, name: '测试导入事项1', typeCode: '20', legalBasis: '测试依据', kind: 'main' }],
      items: [item(1, { themes: ['P08'], objects: ['1'], elements: { crossRegion: 'CITY' } }), item(2)],
    }));
    const x = io();
    expect(await runItems(['import', f], x, { db, tty: false })).toBe(0);
    expect(x.out_.at(-1)).toContain('imported 4 rows: 2 new, 0 changed, 0 unchanged');
    expect(x.err_.some((l) => l.includes('100%'))).toBe(true);
    expect(await count('items')).toBe(2);
    expect(await count('outbox')).toBe(2);
    const v = await db.query<{ status: string; source: string; requested_by: string; requested_by_name: string }>('select status, source, requested_by, requested_by_name from item.item_versions order by item_id');
    expect(v.rows).toEqual([
      { status: 'approved', source: 'import', requested_by: 'import:tester', requested_by_name: 'catalogue.json' },
      { status: 'approved', source: 'import', requested_by: 'import:tester', requested_by_name: 'catalogue.json' },
    ]);
    // The search index has them at once.
    expect((await db.query('select 1 from item.search_docs where name = $1', ['测试导入事项1'])).rowCount).toBe(1);
    // Importing the same file again changes nothing.
    const again = io();
    expect(await runItems(['import', f], again, { db, tty: false })).toBe(0);
    expect(again.out_.at(-1)).toContain('0 new, 0 changed, 2 unchanged');
    expect(await count('outbox')).toBe(2);
  });

  test('one bad row rejects the whole file: every rejected row is listed with its reasons, nothing is written', async () => {
    const before = { items: await count('items'), outbox: await count('outbox'), versions: await count('item_versions') };
    const f = file('bad.json', JSON.stringify({ items: [
      item(3), item(4, { typeCode: '99', promisedTimeLimit: 50 }), item(5, { agencyCode: DEMO_AGENCIES[0].code }), item(3, { name: '测试导入事项3' }),
      item(6, { basicCode: '099000000001' }),
    ] }));
    const x = io();
    expect(await runItems(['import', f], x, { db, tty: false })).toBe(1);
    const lines = x.out_.join('\n');
    expect(lines).toMatch(/rejected items row 2: BAD_INPUT .*typeCode.*promisedTimeLimit/s);
    expect(lines).toMatch(/rejected items row 3: BAD_INPUT .*agencyCode/);
    expect(lines).toMatch(/rejected items row 4: .*the same id as row 1/);
    expect(lines).toMatch(/rejected items row 5: CATALOGUE_INCONSISTENT/);
    expect(lines).toContain('4 of 5 rows rejected: nothing imported');
    expect({ items: await count('items'), outbox: await count('outbox'), versions: await count('item_versions') }).toEqual(before);
  });

  test('CSV: quoted cells, JSON columns, lists; a dry run writes nothing', async () => {
    const m = JSON.stringify([{ code: 'M01', name: '申请表，含"签名"', required: true, paperCopies: 0 }]).replace(/"/g, '""');
    const header = 'id,name,basicCode,implementationCode,typeCode,level,caseType,legalTimeLimit,promisedTimeLimit,onlineDepth,visits,agencyCode,licenceType,materials,themes,objects';
    const row = (n: number) => { const i = item(n); return `${i.id},"${i.name}",${i.basicCode},${i.implementationCode},20,3,1,1,0,5,0,${agency.code},,"${m}",P05;P08,1`; };
    const f = file('items.csv', `\uFEFF${header}\r\n${row(7)}\r\n${row(8)}\r\n`);
    const dry = io();
    expect(await runItems(['import', f, '--dry-run'], dry, { db, tty: false })).toBe(0);
    expect(dry.out_.at(-1)).toContain('dry run passed');
    expect((await db.query('select 1 from item.items where name = $1', ['测试导入事项7'])).rowCount).toBe(0);
    const x = io();
    expect(await runItems(['import', f], x, { db, tty: false })).toBe(0);
    const r = await db.query<{ themes: string[]; materials: Array<{ name: string }> }>('select themes, materials from item.items where name = $1', ['测试导入事项7']);
    expect(r.rows[0]?.themes).toEqual(['P05', 'P08']);
    expect(r.rows[0]?.materials[0]?.name).toBe('申请表，含"签名"');
    const bad = file('bad.csv', `${header}\n${row(9).replace(`"${m}"`, '"[not json"')}\n`);
    const y = io();
    expect(await runItems(['import', bad], y, { db, tty: false })).toBe(1);
    expect(y.out_.join('\n')).toMatch(/rejected items row 2: materials: not valid JSON/);
  });

  test('usage errors: no file, unreadable or malformed file, unknown subcommand', async () => {
    expect(await runItems([], io(), { db })).toBe(2);
    expect(await runItems(['export', 'x.json'], io(), { db })).toBe(2);
    expect(await runItems(['import', 'missing.json'], io(), { db })).toBe(2);
    expect(await runItems(['import', file('broken.json', '{')], io(), { db })).toBe(2);
    const h = io();
    expect(await runItems(['--help'], h, { db })).toBe(0);
    expect(h.out_[0]).toContain('yiwang items import');
  });

  test('the CSV reader keeps commas, quotes and newlines inside quoted cells', () => {
    expect(parseCsv('a,b\n"x,1","he said ""hi""\nbye"\n')).toEqual([
      { line: 1, cells: ['a', 'b'] }, { line: 2, cells: ['x,1', 'he said "hi"\nbye'] }]);
    expect(() => parseCsv('a\n"open')).toThrow(/unterminated/);
  });
});

/**
 * `yiwang items import <file> [--dry-run] [--operator <name>]`: load a catalogue file (JSON or
 * CSV) into the item schema (R-IT-6), all or nothing.
 *
 * JSON: `{ "agencies": [...], "directory": [...], "items": [...] }` (each part optional) or a
 * bare array of items, in the shapes of model.ts / catalogue.ts. CSV (UTF-8, RFC 4180, a
 * header row): one item per row, columns named like the item's fields; `materials`,
 * `licenceType` and `elements` hold JSON, `objects` and `themes` are `;`-separated, numbers
 * and booleans are plain text.
 *
 * Everything runs in one transaction, each row under a savepoint so a bad row is reported and
 * the others still checked; when any row is rejected, the transaction is rolled back: nothing
 * is imported, and the report lists every rejected row with its reasons (exit 1). Otherwise it
 * commits (exit 0): each changed item gets an approved version (source import, the operator as
 * approver) and its `item.upserted` event in the outbox, published by the item service's relay.
 */
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Db, Queryable } from '../../kernel/db.ts';
import { isAppError } from '../../kernel/errors.ts';
import { loadConfig } from '../../kernel/config.ts';
import { migrate } from '../../kernel/migrate.ts';
import { openDeps } from '../../kernel/service.ts';
import { EXIT, type CliIo } from '../../kernel/cli.ts';
import { ITEM_MIGRATIONS, ITEM_SCHEMA } from './migrations.ts';
import { upsertAgency, upsertItem } from './upsert.ts';
import { recordImportedVersion, upsertDirectoryEntry, type DirectoryInput } from './catalogue.ts';
import type { AgencyInput, ItemInput } from './model.ts';

export const ITEMS_USAGE = `用法 / Usage: yiwang items import <文件 file.json|file.csv> [--dry-run] [--operator <姓名 name>]

导入事项目录文件（JSON 或 CSV），全部成功才写入，否则一条不写并列出被拒绝的行及原因。
Import a catalogue file (JSON or CSV): all rows or none; rejected rows are listed with reasons.

  --dry-run           只检查，不写入 / check only, write nothing
  --operator <name>   记入版本历史的导入人 / who imports (recorded in the version history);
                      default: $USER
  -h, --help          显示本帮助 / show this help

退出码 / Exit codes: 0 已导入 imported · 1 有被拒绝的行，未导入 rows rejected, nothing imported · 2 用法或配置错误 usage or set-up error`;

export interface ImportRow<T> { line: number; data: T }
export interface ImportFile { agencies: ImportRow<AgencyInput>[]; directory: ImportRow<DirectoryInput>[]; items: ImportRow<ItemInput>[] }
export interface Rejected { part: 'agencies' | 'directory' | 'items'; line: number; reasons: string[] }
export interface ImportReport {
  rows: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: Rejected[];
  committed: boolean;
}

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and newlines. Returns rows with their first line number. */
export function parseCsv(text: string): Array<{ line: number; cells: string[] }> {
  const rows: Array<{ line: number; cells: string[] }> = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  const src = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (quoted) {
      if (c === '"' && src[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false;
      else { if (c === '\n') line++; cell += c; }
      continue;
    }
    if (c === '"' && cell === '') quoted = true;
    else if (c === ',') { cells.push(cell); cell = ''; } else if (c === '\r') { /* CRLF */ } else if (c === '\n') {
      cells.push(cell); cell = '';
      if (cells.some((x) => x !== '')) rows.push({ line: rowLine, cells });
      cells = []; line++; rowLine = line;
    } else cell += c;
  }
  if (quoted) throw new Error(`CSV: unterminated quoted field starting on line ${rowLine}`);
  cells.push(cell);
  if (cells.some((x) => x !== '')) rows.push({ line: rowLine, cells });
  return rows;
}

const JSON_COLUMNS = new Set(['materials', 'licenceType', 'elements']);
const LIST_COLUMNS = new Set(['objects', 'themes']);
const NUMBER_COLUMNS = new Set(['level', 'legalTimeLimit', 'promisedTimeLimit', 'onlineDepth', 'visits']);
const BOOLEAN_COLUMNS = new Set(['onlineHandling']);

/** One CSV row → an item input; cells that cannot be read become `reasons` instead. */
function csvItem(header: string[], cells: string[]): { data: Record<string, unknown>; reasons: string[] } {
  const data: Record<string, unknown> = {};
  const reasons: string[] = [];
  header.forEach((h, k) => {
    const v = (cells[k] ?? '').trim();
    if (v === '' && h !== 'licenceType') return;
    if (JSON_COLUMNS.has(h)) {
      if (v === '' || v === 'null') { data[h] = null; return; }
      try { data[h] = JSON.parse(v); } catch { reasons.push(`${h}: not valid JSON`); }
    } else if (LIST_COLUMNS.has(h)) data[h] = v.split(/[;；]/).map((x) => x.trim()).filter(Boolean);
    else if (NUMBER_COLUMNS.has(h)) data[h] = /^-?\d+$/.test(v) ? Number(v) : v;
    else if (BOOLEAN_COLUMNS.has(h)) data[h] = v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v;
    else data[h] = v;
  });
  if (!('licenceType' in data)) data.licenceType = null;
  if (!('materials' in data)) data.materials = [];
  if (cells.length > header.length) reasons.push(`${cells.length} cells, the header has ${header.length}`);
  return { data, reasons };
}

/** Read a file into its parts; rows that cannot even be read are returned as rejected. */
export function readImportFile(path: string, content: string): { file: ImportFile; unreadable: Rejected[] } {
  const file: ImportFile = { agencies: [], directory: [], items: [] };
  const unreadable: Rejected[] = [];
  if (/\.csv$/i.test(path)) {
    const rows = parseCsv(content);
    const header = rows[0]?.cells.map((h) => h.trim()) ?? [];
    if (!header.includes('id')) throw new Error('CSV: the header row must name the item fields (id, name, basicCode, …)');
    for (const r of rows.slice(1)) {
      const { data, reasons } = csvItem(header, r.cells);
      if (reasons.length > 0) unreadable.push({ part: 'items', line: r.line, reasons });
      else file.items.push({ line: r.line, data: data as unknown as ItemInput });
    }
    return { file, unreadable };
  }
  let json: unknown;
  try { json = JSON.parse(content.replace(/^\uFEFF/, '')); } catch (e) { throw new Error(`JSON: ${(e as Error).message}`); }
  const parts = Array.isArray(json) ? { items: json } : (json as Record<string, unknown>);
  if (!parts || typeof parts !== 'object') throw new Error('JSON: expected an object { agencies, directory, items } or an array of items');
  for (const part of ['agencies', 'directory', 'items'] as const) {
    const list = parts[part];
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new Error(`JSON: "${part}" must be an array`);
    // JSON has no line numbers worth reporting: rows are numbered from 1 within their part.
    list.forEach((data, k) => (file[part] as ImportRow<unknown>[]).push({ line: k + 1, data }));
  }
  return { file, unreadable };
}

function reasonsOf(e: unknown): string[] {
  if (isAppError(e)) {
    const d = e.details ? Object.entries(e.details).map(([k, v]) => `${k}: ${v}`) : [];
    return [`${e.code} ${e.message}`, ...d];
  }
  return [`INTERNAL ${(e as Error).message}`];
}

export interface ImportOptions { operator: string; file: string; dryRun: boolean; now: Date; progress?: (done: number, total: number) => void }

/** Apply a read file in one transaction; rolls back when any row is rejected or on dry run. */
export async function importCatalogue(db: Db, f: ImportFile, unreadable: Rejected[], o: ImportOptions): Promise<ImportReport> {
  const report: ImportReport = { rows: f.agencies.length + f.directory.length + f.items.length + unreadable.length, inserted: 0, updated: 0, unchanged: 0, rejected: [...unreadable], committed: false };
  const total = report.rows;
  let done = unreadable.length;
  const ROLLBACK = Symbol('rollback');
  const seen = new Map<string, number>();
  try {
    await db.tx(async (q: Queryable) => {
      const row = async (part: Rejected['part'], line: number, fn: () => Promise<'inserted' | 'updated' | 'unchanged'>) => {
        await q.query('savepoint import_row');
        try {
          const outcome = await fn();
          await q.query('release savepoint import_row');
          if (part === 'items') report[outcome] += 1;
        } catch (e) {
          await q.query('rollback to savepoint import_row');
          report.rejected.push({ part, line, reasons: reasonsOf(e) });
        }
        done += 1;
        o.progress?.(done, total);
      };
      for (const a of f.agencies) await row('agencies', a.line, () => upsertAgency(q, a.data, o.now));
      for (const d of f.directory) await row('directory', d.line, () => upsertDirectoryEntry(q, d.data, o.now));
      for (const i of f.items) {
        await row('items', i.line, async () => {
          const id = typeof i.data?.id === 'string' ? i.data.id.toLowerCase() : '';
          const first = seen.get(id);
          if (id && first !== undefined) throw new Error(`the same id as row ${first}`);
          if (id) seen.set(id, i.line);
          const outcome = await upsertItem(q, i.data, o.now);
          if (outcome !== 'unchanged') await recordImportedVersion(q, i.data, o.operator, o.file, o.now);
          return outcome;
        });
      }
      if (report.rejected.length > 0 || o.dryRun) throw ROLLBACK;
    });
    report.committed = true;
  } catch (e) {
    if (e !== ROLLBACK) throw e;
  }
  report.rejected.sort((a, b) => (a.part === b.part ? a.line - b.line : a.part < b.part ? -1 : 1));
  return report;
}

/** A progress bar on a terminal, else a line every 10%. */
export function progressPrinter(io: CliIo, tty: boolean): (done: number, total: number) => void {
  let lastTenth = -1;
  return (done, total) => {
    const share = total === 0 ? 1 : done / total;
    if (tty) {
      const width = 30;
      const full = Math.round(share * width);
      process.stderr.write(`\r[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${done}/${total} ${Math.round(share * 100)}%${done === total ? '\n' : ''}`);
      return;
    }
    const tenth = Math.floor(share * 10);
    if (tenth !== lastTenth) { lastTenth = tenth; io.err(`进度 / progress ${done}/${total} (${tenth * 10}%)`); }
  };
}

export interface ItemsCliDeps { db?: Db; tty?: boolean }

export async function runItems(argv: readonly string[], io: CliIo, deps: ItemsCliDeps = {}): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, options: {
      'dry-run': { type: 'boolean' }, operator: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    io.err((e as Error).message);
    io.err(ITEMS_USAGE);
    return EXIT.USAGE;
  }
  if (parsed.values.help) { io.out(ITEMS_USAGE); return EXIT.OK; }
  const [sub, path, ...extra] = parsed.positionals;
  if (sub !== 'import' || !path || extra.length > 0) { io.err(ITEMS_USAGE); return EXIT.USAGE; }
  const full = resolve(io.cwd, path);
  let content: string;
  try { content = readFileSync(full, 'utf8'); } catch (e) { io.err(`无法读取文件 / cannot read ${path}: ${(e as Error).message}`); return EXIT.USAGE; }
  let read;
  try { read = readImportFile(full, content); } catch (e) { io.err(`文件格式错误 / malformed file: ${(e as Error).message}`); return EXIT.USAGE; }
  const operator = parsed.values.operator ?? io.env.USER ?? 'operator';
  let db = deps.db;
  let close = async () => undefined as void;
  if (!db) {
    const opened = await openDeps('items-import', loadConfig({ ...io.env, LOG_LEVEL: 'error' }), { db: true, cache: false });
    db = opened.db;
    close = () => opened.db.close();
  }
  try {
    await migrate(db, ITEM_SCHEMA, ITEM_MIGRATIONS);
    const report = await importCatalogue(db, read.file, read.unreadable, {
      operator, file: basename(full), dryRun: parsed.values['dry-run'] === true, now: io.now?.() ?? new Date(),
      progress: progressPrinter(io, deps.tty ?? Boolean(process.stderr.isTTY)),
    });
    for (const r of report.rejected) io.out(`拒绝 / rejected ${r.part} row ${r.line}: ${r.reasons.join('; ')}`);
    if (report.rejected.length > 0) {
      io.out(`${report.rejected.length} 行被拒绝，未导入任何数据 / ${report.rejected.length} of ${report.rows} rows rejected: nothing imported`);
      return EXIT.INVALID;
    }
    const counts = `${report.inserted} new, ${report.updated} changed, ${report.unchanged} unchanged`;
    io.out(report.committed ? `已导入 / imported ${report.rows} rows: ${counts}` : `检查通过（未写入）/ dry run passed, nothing written: ${counts}`);
    return EXIT.OK;
  } finally {
    await close();
  }
}

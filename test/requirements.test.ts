/**
 * Every requirement id on docs/requirements.md is proven by a test whose title names it, or the
 * page says why not (not yet built / not testable). The test titles are read from the sources
 * (bin/requirements.ts traceIds), so "where is R-CA-5 tested?" always has an answer.
 */
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ID_PATTERN, testTitles, traceIds } from '../bin/requirements.ts';

const ROOT = process.cwd();
const page = readFileSync(join(ROOT, 'docs/requirements.md'), 'utf8');
const rows = [...page.matchAll(/^\| (R-[A-Z]{2}-\d+) \| (.*) \| (.*) \|$/gm)].map((m) => ({ id: m[1]!, proof: m[3]! }));
const UNTRACED = /^(not yet built|not testable): \S/;
const trace = traceIds(ROOT);

describe('requirements', () => {
  test('docs/requirements.md lists each requirement id once', () => {
    const ids = rows.map((r) => r.id);
    expect(ids.length).toBeGreaterThanOrEqual(46);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  test('every id on docs/requirements.md is named in a test title, or the page says why it is not yet built or not testable', () => {
    const untraced = rows.filter((r) => !UNTRACED.test(r.proof) && !trace.get(r.id)?.length)
      .map((r) => `${r.id}: no test title names it (name it in the title of a test that proves it, or say on the page why not)`);
    expect(untraced).toEqual([]);
  });

  test('an id marked "not yet built" or "not testable" is traced by no test title (else the marking is stale)', () => {
    const stale = rows.filter((r) => UNTRACED.test(r.proof) && trace.get(r.id)?.length)
      .map((r) => `${r.id} is marked "${r.proof.split(':')[0]}" but named in ${trace.get(r.id)!.join(', ')}`);
    expect(stale).toEqual([]);
  });

  test('every id a test title names is on docs/requirements.md (no typos, no unknown ids)', () => {
    const known = new Set(rows.map((r) => r.id));
    expect([...trace.keys()].filter((id) => !known.has(id)).map((id) => `${id} in ${trace.get(id)!.join(', ')}`)).toEqual([]);
  });

  test('titles are read from describe, test and it, their .each forms and template literals; not from comments or bodies', () => {
    // Ids written R_XX_n here (so this file's own source traces nothing), made R-XX-n below.
    const source = `
      // R_ID_1 in a comment is no trace
      describe('area (R_CA_5)', () => {
        test('plain (R_CA_1)', () => { expect('R_CA_2 in a body').toBeTruthy(); });
        it(\`template \${1} (R_LI_4)\`, () => undefined);
        test.each([['a', 1], ['b', 2]])('each %s (R_EV_4)', () => undefined);
        test.each(cases.map((c) => [c, f(c)]))("double quotes (R_PL_2)", () => undefined);
        test('an escaped \\' quote (R_ID_8)', () => undefined);
        const contest = 'not a title (R_ID_9)';
      });`.replace(/R_([A-Z]{2})_(\d+)/g, 'R-$1-$2');
    expect(testTitles(source).flatMap((t) => t.match(ID_PATTERN) ?? []).sort())
      .toEqual(['R-CA-1', 'R-CA-5', 'R-EV-4', 'R-ID-8', 'R-LI-4', 'R-PL-2']);
  });
});

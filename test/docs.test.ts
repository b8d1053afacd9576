import { describe, expect, test } from '@jest/globals';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { README, renderDocs } from '../bin/docs.ts';

describe('docs', () => {
  test.each(renderDocs().map((d) => [d.file.slice(d.file.lastIndexOf('/docs/') + 1), d] as const))(
    '%s matches the code (run `npm run docs`)', (_name, d) => {
      expect(readFileSync(d.file, 'utf8')).toBe(d.text);
    });
  test('the README shows the set-up and test commands CI runs', () => {
    const text = readFileSync(README, 'utf8');
    for (const cmd of ['npm install', 'npm start', 'npm test']) expect(text).toContain(cmd);
  });
  test('the README stays a short manual (at most 15 KB; chapters go to docs/)', () => {
    expect(statSync(README).size).toBeLessThanOrEqual(15 * 1024);
  });
  test('every link in the README and docs/ points to a file inside the repository', () => {
    const root = process.cwd();
    const pages = [README, ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(root, 'docs', f))];
    const bad: string[] = [];
    for (const page of pages) {
      for (const m of readFileSync(page, 'utf8').matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        const target = m[1]!;
        if (/^(https?|mailto):/.test(target)) continue;
        const path = resolve(dirname(page), target);
        if (relative(root, path).startsWith('..') || !existsSync(path)) bad.push(`${relative(root, page)} → ${target}`);
      }
    }
    expect(bad).toEqual([]);
  });
});

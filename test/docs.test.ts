import { describe, expect, test } from '@jest/globals';
import { readFileSync, statSync } from 'node:fs';
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
});

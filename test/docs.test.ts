import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { README, renderReadme } from '../bin/docs.ts';

describe('docs.readme', () => {
  test('the configuration and error-code tables match the code (run `npm run docs`)', () => {
    const text = readFileSync(README, 'utf8');
    expect(text).toBe(renderReadme(text));
  });
  test('the README shows the set-up and test commands CI runs', () => {
    const text = readFileSync(README, 'utf8');
    for (const cmd of ['npm install', 'npm start', 'npm test']) expect(text).toContain(cmd);
  });
});

import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { compose, SUPERGRAPH_PATH } from './compose.ts';

describe('schema.supergraph', () => {
  test('the committed supergraph equals a fresh composition (run `npm run compose`)', () => {
    expect(readFileSync(SUPERGRAPH_PATH, 'utf8')).toBe(compose());
  });
});

import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { buildManifest, manifestText } from './persisted.ts';
import { loadPersistedManifest, PERSISTED_MANIFEST_PATH } from '../gateway/limits.ts';

describe('schema.persisted-documents', () => {
  test('the committed manifest equals one generated from the sources (run `npm run persisted`)', () => {
    expect(readFileSync(PERSISTED_MANIFEST_PATH, 'utf8')).toBe(manifestText(buildManifest()));
  });

  test("it holds the journey's documents, each under the SHA-256 of its text (the gateway refuses a manifest whose ids do not match)", () => {
    const m = loadPersistedManifest();
    expect(m.operations.some((o) => o.body.includes('submitCase(input: $input) { id caseNumber status'))).toBe(true);
  });
});

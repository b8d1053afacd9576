import { afterEach, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockDataDir } from './service.ts';

const dirs: string[] = [];
const dir = () => { const d = mkdtempSync(join(tmpdir(), 'yw-lock-')); dirs.push(d); return d; };
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

describe('service.lockDataDir', () => {
  test('a second opener is refused while the first holds the lock, and may open after release', () => {
    const d = dir();
    writeFileSync(join(d, '.yiwang.lock'), String(process.ppid)); // a live process other than us
    expect(() => lockDataDir(d)).toThrow(expect.objectContaining({ code: 'DATA_DIR_LOCKED' }));
    rmSync(join(d, '.yiwang.lock'));
    const release = lockDataDir(d);
    expect(existsSync(join(d, '.yiwang.lock'))).toBe(true);
    release();
    expect(existsSync(join(d, '.yiwang.lock'))).toBe(false);
  });
  test('a lock left by a dead process is taken over', () => {
    const d = dir();
    writeFileSync(join(d, '.yiwang.lock'), '999999999');
    const release = lockDataDir(d);
    release();
  });
});

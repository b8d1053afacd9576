// Jest runs TypeScript through SWC (TypeScript 7 is the native compiler and ts-jest needs < 7).
// Sources are ES modules; `npm test` starts Node with --experimental-vm-modules.
import { existsSync } from 'node:fs';

// Page tests (*.browser.test.ts) need Debian's Chromium. CI installs it and always runs them;
// elsewhere, without it, they are left out and we say so.
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const withBrowser = existsSync(chromium) || process.env.CI === 'true';
if (!withBrowser) console.warn(`[jest] ${chromium} not found: page tests (*.browser.test.ts) left out. apt-get install chromium to run them.`);

/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2024', keepClassNames: true },
      module: { type: 'es6' },
      sourceMaps: 'inline',
    }],
  },
  testMatch: ['<rootDir>/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/data/', ...(withBrowser ? [] : ['\\.browser\\.test\\.ts$'])],
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/data/'],
  testTimeout: 60000,
  maxWorkers: 2,
};

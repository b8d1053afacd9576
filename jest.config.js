// Jest runs TypeScript through SWC (TypeScript 7 is the native compiler and ts-jest needs < 7).
// Sources are ES modules; `npm test` starts Node with --experimental-vm-modules.
import { existsSync } from 'node:fs';

// Page tests (*.browser.test.ts) need Debian's Chromium. CI installs it and always runs them;
// elsewhere, without it, they are left out and we say so.
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const withBrowser = existsSync(chromium) || process.env.CI === 'true';
if (!withBrowser) console.warn(`[jest] ${chromium} not found: page tests (*.browser.test.ts) left out. apt-get install chromium to run them.`);

// Database fault tests (*.pgcluster.test.ts) start and restart a private PostgreSQL cluster with
// the server binaries. CI has them and always runs these; elsewhere, without them, they are left out.
const pgBin = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const withPgCluster = existsSync(`${pgBin}/initdb`) || process.env.CI === 'true';
if (!withPgCluster) console.warn(`[jest] ${pgBin}/initdb not found: database fault tests (*.pgcluster.test.ts) left out. apt-get install postgresql to run them.`);

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
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/data/', ...(withBrowser ? [] : ['\\.browser\\.test\\.ts$']), ...(withPgCluster ? [] : ['\\.pgcluster\\.test\\.ts$'])],
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/data/'],
  testTimeout: 60000,
  maxWorkers: 2,
};

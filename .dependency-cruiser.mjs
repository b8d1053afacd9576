/**
 * The layers of Yiwang, checked by dependency-cruiser on every `npm test` (test/boundaries.test.ts)
 * and on demand with `npm run boundaries`. docs/architecture.md ("Layers") explains each rule.
 *
 *   bin/ (entry points: start, CLI, journey)          bench/ (benchmarks, outside the build)
 *     └─► services: gateway/, idp/, portal/, subgraphs/<name>/  (never each other)
 *           └─► libraries: seal/ (through seal/index.ts), federation/ (through federation/index.ts)
 *                 └─► kernel/ (config, db, cache, errors, log, events: depends on nothing of ours)
 *   schema/ holds the graph's contracts (SDL) and the composition; services may use it.
 *
 * Test code is what tsconfig.build.json leaves out of the build (test/, every *.test.ts, the seal
 * library's fixtures in seal/testing/ and seal/testdata/, and bench/): it is read from there, so
 * the check and the build agree on what production is. Production code is the rest.
 */
import { readFileSync } from 'node:fs';

/** A tsconfig `exclude` glob as a regular expression over paths relative to the repository. */
function globToRegex(glob) {
  let g = glob.replace(/\/$/, '');
  const anyDir = g.startsWith('**/');
  if (anyDir) g = g.slice(3);
  const body = [...g].map((c) => (c === '*' ? '[^/]*' : c.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))).join('');
  return `${anyDir ? '(^|/)' : '^'}${body}(/|$)`;
}

const build = JSON.parse(readFileSync(new URL('./tsconfig.build.json', import.meta.url), 'utf8'));
/** Test code, fixtures and benchmarks: never built. */
const TEST = build.exclude.filter((g) => !['node_modules', 'dist', 'data'].includes(g)).map(globToRegex).join('|');

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'kernel-depends-on-nothing-of-ours',
      comment: 'kernel/ is the bottom layer (config, db, cache, errors, logging, events): everything may use it, '
        + 'so it may use nothing of ours above it; move the shared piece into kernel/ or pass it in as a dependency.',
      severity: 'error',
      from: { path: '^kernel/' },
      to: { dependencyTypes: ['local'], pathNot: '^(kernel|test)/' },
    },
    {
      name: 'seal-only-through-index',
      comment: 'Outside seal/, use the seal library only through seal/index.ts (its public API); everything else '
        + 'in seal/ is internal and may change. Export what you need from seal/index.ts. Test code and '
        + 'benchmarks may also use the library\'s fixtures in seal/testing/.',
      severity: 'error',
      from: { pathNot: '^seal/' },
      to: { path: '^seal/', pathNot: '^seal/(index\\.ts$|testing/)' },
    },
    {
      name: 'seal-depends-on-kernel-only',
      comment: 'seal/ is a library (certificates, sealing, verification) that services and verifiers use: '
        + 'it may use kernel/ and nothing else of ours.',
      severity: 'error',
      from: { path: '^seal/' },
      to: { dependencyTypes: ['local'], pathNot: '^(seal|kernel|test)/' },
    },
    {
      name: 'federation-only-through-index',
      comment: 'Outside federation/, use the federation library only through federation/index.ts (its public API); '
        + 'everything else in federation/ is internal. Export what you need from federation/index.ts.',
      severity: 'error',
      from: { pathNot: '^federation/' },
      to: { path: '^federation/', pathNot: '^federation/index\\.ts$' },
    },
    {
      name: 'federation-depends-on-kernel-only',
      comment: 'federation/ is a library (trust between tiers) that services use: it may use kernel/ and nothing else of ours.',
      severity: 'error',
      from: { path: '^federation/' },
      to: { dependencyTypes: ['local'], pathNot: '^(federation|kernel|test)/' },
    },
    {
      name: 'production-never-imports-test',
      comment: 'Production code (everything the build compiles) never imports what tsconfig.build.json leaves out: test code '
        + 'and fixtures (test/, *.test.ts, seal/testing/, seal/testdata/) and the benchmarks. Move the shared piece into '
        + 'the production tree if production needs it, or move the caller into test/.',
      severity: 'error',
      from: { pathNot: TEST },
      to: { path: TEST },
    },
    {
      name: 'bench-never-imports-test',
      comment: 'Benchmarks (bench/, run by `npm run bench`) measure the platform as it starts in production, so they '
        + 'never import the test suite (test/, *.test.ts); they may use the seal library\'s fixtures (seal/testing/).',
      severity: 'error',
      from: { path: '^bench/' },
      to: { path: '^test/|\\.test\\.ts$' },
    },
    {
      name: 'services-do-not-import-each-other',
      comment: 'A service (gateway/, idp/, portal/, subgraphs/<name>/) never imports another service: cross-service facts '
        + 'travel as federation entity references or events, and shared code goes into kernel/, a library '
        + '(seal/, federation/) or schema/. A test that needs several services lives in test/.',
      severity: 'error',
      from: { path: '^subgraphs/([^/]+)/' },
      to: { path: '^(subgraphs/|idp/|gateway/|portal/)', pathNot: '^subgraphs/$1/' },
    },
    {
      name: 'services-do-not-import-each-other',
      comment: 'A service (gateway/, idp/, portal/, subgraphs/<name>/) never imports another service: cross-service facts '
        + 'travel as federation entity references or events, and shared code goes into kernel/, a library '
        + '(seal/, federation/) or schema/. A test that needs several services lives in test/.',
      severity: 'error',
      from: { path: '^(idp|gateway|portal)/' },
      to: { path: '^(subgraphs|idp|gateway|portal)/', pathNot: '^$1/' },
    },
    {
      name: 'schema-depends-on-nothing-of-ours',
      comment: 'schema/ holds the contracts (SDL) and their composition; services depend on it, so it depends on no service.',
      severity: 'error',
      from: { path: '^schema/', pathNot: TEST },
      to: { dependencyTypes: ['local'], pathNot: '^(schema|kernel)/' },
    },
    {
      name: 'bin-is-the-top',
      comment: 'bin/ holds the entry points (npm start, the yiwang CLI, the journey, docs): they assemble the services, '
        + 'so production code below never imports them. Tests and benchmarks may.',
      severity: 'error',
      from: { pathNot: `^bin/|${TEST}` },
      to: { path: '^bin/' },
    },
    {
      name: 'no-cycles',
      comment: 'No import cycles, type-only imports included: a cycle means two modules are one, or that a shared '
        + 'piece belongs in a third module both import.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    // TypeScript 7 (the native compiler) has no JavaScript API; SWC parses the sources (@swc/core is installed for Jest).
    parser: 'swc',
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|data|coverage|\.git)/' },
    moduleSystems: ['es6'],
  },
};

/**
 * The layers (docs/architecture.md, "Layers"): dependency-cruiser checks every import of the
 * repository against the rules in .dependency-cruiser.mjs. A wrong arrow fails here with the
 * rule's name, the import and what to do instead. `npm run boundaries` prints the same report.
 */
import { describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = process.cwd();
const CRUISER = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs');
const CONFIG = join(ROOT, '.dependency-cruiser.mjs');

interface Violation { rule: { name: string }; from: string; to: string; cycle?: Array<{ name: string }> }
interface Rule { name: string; comment: string }
interface Report { violations: Violation[]; rules: Rule[] }

/** Cruise `dir` with the project's rules: the violations found and the rules used. */
async function cruise(dir: string): Promise<Report> {
  // depcruise exits non-zero when it finds violations; the JSON report is on stdout either way.
  const out = await run(process.execPath, [CRUISER, '--config', CONFIG, '--output-type', 'json', '.'], { cwd: dir, maxBuffer: 64 << 20 })
    .catch((e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? '' }));
  if (!out.stdout) throw new Error(`dependency-cruiser gave no report: ${out.stderr}`);
  const { summary } = JSON.parse(out.stdout) as { summary: { violations: Violation[]; totalCruised: number; ruleSetUsed: { forbidden: Rule[] } } };
  if (summary.totalCruised === 0) throw new Error(`dependency-cruiser read no module in ${dir}`);
  return { violations: summary.violations, rules: summary.ruleSetUsed.forbidden };
}

function describeViolation(v: Violation, rules: Rule[]): string {
  const rule = rules.find((r) => r.name === v.rule.name);
  const path = v.cycle?.length ? [v.from, ...v.cycle.map((c) => c.name)].join(' → ') : `${v.from} → ${v.to}`;
  return `${v.rule.name}: ${path}\n    ${rule?.comment ?? ''}`;
}

describe('boundaries', () => {
  test('every import of the repository keeps the layers (kernel, libraries through their index, services apart, no test code in production, no cycles)', async () => {
    const { violations, rules } = await cruise(ROOT);
    expect(violations.map((v) => describeViolation(v, rules))).toEqual([]);
  }, 120_000);

  test('each rule fails on a wrong arrow, with its name; allowed arrows pass', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'yiwang-boundaries-'));
    try {
      const files: Record<string, string> = {
        // kernel-depends-on-nothing-of-ours, seal-only-through-index
        'kernel/events-cli.ts': "import { EXIT } from '../seal/cli/io.ts';\nexport const x = EXIT;\n",
        'seal/cli/io.ts': 'export const EXIT = 0;\n',
        'seal/index.ts': "export { EXIT } from './cli/io.ts';\n",
        // seal-depends-on-kernel-only
        'seal/certificates/ca.ts': "import { y } from '../../subgraphs/licence/issue.ts';\nexport const z = y;\n",
        // federation-only-through-index, federation-depends-on-kernel-only
        'federation/index.ts': "export { s } from './statements.ts';\n",
        'federation/statements.ts': "import { a } from '../idp/accounts.ts';\nexport const s = a;\n",
        'idp/accounts.ts': 'export const a = 1;\n',
        'idp/trust.ts': "import { s } from '../federation/statements.ts';\nexport const t = s;\n",
        // services-do-not-import-each-other, production-never-imports-test
        'subgraphs/licence/issue.ts': "import { c } from '../case/submit.ts';\nexport const y = c;\n",
        'subgraphs/case/submit.ts': "import { f } from '../../test/support/infra.ts';\nexport const c = f;\n",
        'test/support/infra.ts': 'export const f = 1;\n',
        'gateway/service.ts': "import { a } from '../idp/accounts.ts';\nexport const g = a;\n",
        'portal/pages.ts': "import { g } from '../gateway/service.ts';\nexport const q = g;\n",
        // bench-never-imports-test
        'bench/idp.ts': "import { f } from '../test/support/infra.ts';\nexport const b = f;\n",
        // schema-depends-on-nothing-of-ours
        'schema/compose.ts': "import { g } from '../gateway/service.ts';\nexport const h = g;\n",
        // bin-is-the-top
        'bin/platform.ts': 'export const p = 1;\n',
        'kernel/service.ts': "import { p } from '../bin/platform.ts';\nexport const q = p;\n",
        // no-cycles
        'subgraphs/item/a.ts': "import { b } from './b.ts';\nexport const a = () => b;\n",
        'subgraphs/item/b.ts': "import { a } from './a.ts';\nexport const b = () => a;\n",
        // allowed arrows: none of these may be reported
        'subgraphs/item/seal-user.ts': "import { EXIT } from '../../seal/index.ts';\nimport { s } from '../../federation/index.ts';\nexport const u = [EXIT, s];\n",
        'subgraphs/item/item.test.ts': "import { f } from '../../test/support/infra.ts';\nimport { h } from '../../seal/testing/hierarchy.ts';\nexport const t = [f, h];\n",
        'seal/testing/hierarchy.ts': "import { p } from '../../kernel/service.ts';\nexport const h = p;\n",
        'bench/seal.ts': "import { h } from '../seal/testing/hierarchy.ts';\nimport { p } from '../bin/platform.ts';\nimport { y } from '../subgraphs/licence/issue.ts';\nexport const b = [h, p, y];\n",
        'test/support/case.ts': "import { c } from '../../subgraphs/case/submit.ts';\nimport { p } from '../../bin/platform.ts';\nexport const k = [c, p];\n",
      };
      for (const [file, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        writeFileSync(join(dir, file), text);
      }
      const { violations, rules } = await cruise(dir);
      const found = violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
      expect(found).toEqual([
        'bench-never-imports-test: bench/idp.ts → test/support/infra.ts',
        'bin-is-the-top: kernel/service.ts → bin/platform.ts',
        'federation-depends-on-kernel-only: federation/statements.ts → idp/accounts.ts',
        'federation-only-through-index: idp/trust.ts → federation/statements.ts',
        'kernel-depends-on-nothing-of-ours: kernel/events-cli.ts → seal/cli/io.ts',
        'kernel-depends-on-nothing-of-ours: kernel/service.ts → bin/platform.ts',
        'no-cycles: subgraphs/item/a.ts → subgraphs/item/b.ts',
        'production-never-imports-test: subgraphs/case/submit.ts → test/support/infra.ts',
        'schema-depends-on-nothing-of-ours: schema/compose.ts → gateway/service.ts',
        'seal-depends-on-kernel-only: seal/certificates/ca.ts → subgraphs/licence/issue.ts',
        'seal-only-through-index: kernel/events-cli.ts → seal/cli/io.ts',
        'services-do-not-import-each-other: gateway/service.ts → idp/accounts.ts',
        'services-do-not-import-each-other: portal/pages.ts → gateway/service.ts',
        'services-do-not-import-each-other: subgraphs/licence/issue.ts → subgraphs/case/submit.ts',
      ]);
      // Every rule of the configuration is among them: none is dead.
      expect(new Set(violations.map((v) => v.rule.name))).toEqual(new Set(rules.map((r) => r.name)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

/**
 * `npm run bench [name]`: run one benchmark (bench/<name>.ts) or all, print the figures and
 * write bench/results/<name>.json. Each benchmark measures its own baseline in the same run
 * (raw crypto for the seal, stock @apollo/gateway for the gateway, bare oidc-provider for the
 * IdP), because these shared machines are noisy and only ratios hold. No timing assertions
 * anywhere: speed is reported here, never tested.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export interface BenchResult {
  /** Figures by name, e.g. { signPerSecond: 812, baselineSignPerSecond: 1630, ratio: 0.5 }. */
  figures: Record<string, number | string | boolean | null>;
  /** One line per figure or remark, for the console. */
  summary: string[];
  /** Headline figures an issue asks for at the top level of the results file (besides `figures`). */
  top?: Record<string, number | string | boolean | null>;
}

export type Bench = () => Promise<BenchResult>;

const DIR = fileURLToPath(new URL('.', import.meta.url));

const wanted = process.argv[2];
const names = wanted ? [wanted] : readdirSync(DIR).filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.endsWith('.test.ts')).map((f) => f.replace(/\.ts$/, ''));
if (names.length === 0) {
  console.log('no benchmarks yet');
}
mkdirSync(join(DIR, 'results'), { recursive: true });
for (const name of names) {
  const mod = await import(join(DIR, `${name}.ts`)).catch((e: unknown) => {
    console.error(`no benchmark "${name}" (${(e as Error).message})`);
    process.exit(2);
  }) as { default: Bench };
  console.log(`\n=== bench ${name} ===`);
  const started = new Date();
  const r = await mod.default();
  for (const line of r.summary) console.log(`  ${line}`);
  const out = {
    ...r.top, name, at: started.toISOString(), seconds: (Date.now() - started.getTime()) / 1000,
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    figures: r.figures,
  };
  writeFileSync(join(DIR, 'results', `${name}.json`), `${JSON.stringify(out, null, 2)}\n`);
  console.log(`  → bench/results/${name}.json`);
}
process.exit(0);

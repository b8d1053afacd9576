/**
 * `npm run docs`: regenerate README.md's configuration and error-code tables from
 * kernel/config.ts and kernel/errors.ts (between the marker comments). test/docs.test.ts fails
 * when the committed README differs, so the manual cannot drift from the code.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VARIABLES } from '../kernel/config.ts';
import { ERROR_CODES } from '../kernel/errors.ts';

export const README = fileURLToPath(new URL('../README.md', import.meta.url));

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function configTable(): string {
  const rows = Object.entries(VARIABLES).map(([name, v]) =>
    `| \`${name}\` | ${'default' in v ? `\`${cell(v.default)}\`` : '—'} | ${cell(v.description)} |`);
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

export function errorTable(): string {
  const rows = Object.entries(ERROR_CODES).map(([code, v]) => `| \`${code}\` | ${v.status} | ${cell(v.description)} |`);
  return ['| code | HTTP | meaning |', '|---|---|---|', ...rows].join('\n');
}

export function renderReadme(text: string): string {
  const put = (t: string, name: string, body: string) => {
    const re = new RegExp(`(<!-- ${name}:start -->)[\\s\\S]*?(<!-- ${name}:end -->)`);
    if (!re.test(t)) throw new Error(`README.md lacks the ${name} markers`);
    return t.replace(re, (_m, a: string, b: string) => `${a}\n${body}\n${b}`);
  };
  return put(put(text, 'config', configTable()), 'errors', errorTable());
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(README, renderReadme(readFileSync(README, 'utf8')));
  console.log('README.md tables regenerated');
}

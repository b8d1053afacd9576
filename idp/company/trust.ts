/**
 * Where the company routes' trust comes from (R-ID-4): a configuration value that is either the
 * PEM itself or a file path, read at each use (trust bundles and CRLs are replaced while the IdP
 * runs). Nothing configured and no default file: the route answers FEATURE_NOT_CONFIGURED; a
 * configured file that cannot be read is the operator's fault (CONFIG_INVALID naming the variable).
 */
import { existsSync, readFileSync } from 'node:fs';
import { AppError } from '../../kernel/errors.ts';

/** The PEM text of `value` (inline PEM or a file), else of `fallback` when that file exists; undefined when neither. */
export function readPemSetting(variable: string, value: string | undefined, fallback?: string): string | undefined {
  if (value?.includes('-----BEGIN')) return value;
  if (value) {
    try {
      return readFileSync(value, 'utf8');
    } catch (e) {
      throw new AppError('CONFIG_INVALID', `invalid configuration:\n  ${variable}: cannot read ${value}: ${(e as Error).message}`);
    }
  }
  return fallback && existsSync(fallback) ? readFileSync(fallback, 'utf8') : undefined;
}

/** Each file of a comma-separated list (CRLs), read now: PEM as text, DER as bytes. */
export function readFileList(variable: string, value: string | undefined): Array<string | Buffer> {
  return (value ?? '').split(',').map((f) => f.trim()).filter(Boolean).map((f) => {
    try {
      const bytes = readFileSync(f);
      return bytes.includes('-----BEGIN') ? bytes.toString('utf8') : bytes;
    } catch (e) {
      throw new AppError('CONFIG_INVALID', `invalid configuration:\n  ${variable}: cannot read ${f}: ${(e as Error).message}`);
    }
  });
}

export const notConfigured = (what: string) => new AppError('FEATURE_NOT_CONFIGURED', `本平台未配置${what.split(' / ')[0]}，暂不能使用该方式 / this platform has not configured ${what.split(' / ')[1]}: this route is not available`);

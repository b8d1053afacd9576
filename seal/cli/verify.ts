/**
 * `yiwang verify <licence-file> [--trust <bundle.pem>] [--json]`: check a sealed licence
 * offline (R-LI-4: third parties verify licences, including offline).
 *
 * Strict by default: status lists and the seal chain's CRLs must be at hand and
 * current, else INVALID LICENCE_STATUS_UNAVAILABLE; `--online` refreshes both, reading their
 * URLs only from a licence whose seal verified and caching only answers that verified
 * (a URL from an unverified licence could point anywhere); `--skip-status` leaves both unchecked and says so.
 *
 * Exit 0 valid, 1 invalid (prints `INVALID <CODE>: message`), 2 usage or set-up problem
 * (no file, no trust bundle). The trust bundle comes from --trust, else YIWANG_TRUST_BUNDLE
 * (a file path, or the PEM itself), else <DATA_DIR or ./data>/trust-bundle.pem, which the
 * licence service writes in the embedded set-up.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isAppError } from '../../kernel/errors.ts';
import { loadAnchors, readTrustBundle } from '../trust/bundle.ts';
import { loadCrls } from '../trust/crl.ts';
import { verifyLicence, type VerifyResult } from '../licence/verify.ts';
import { EXIT, type CliIo } from './io.ts';
import { cachedCrls, licenceCertificates, refreshCrls } from './crl-cache.ts';
import { cachedStatusLists, refreshStatusLists } from './status-cache.ts';

export const VERIFY_USAGE = `用法 / Usage: yiwang verify <证照文件 licence-file> [--trust <根证书 root.pem>] [--crl <file>]…
                      [--status-cache <dir>] [--online | --skip-status] [--json]

离线验证电子证照的电子印章签名、平台时间戳和证照状态（撤销/暂停）。
Verify the electronic seal, the platform timestamp and the status (revoked/suspended) of an
electronic licence, offline.

  <licence-file>    紧凑 JWS（VC-JWT），或 JSON 文件 { "credential": "<jws>" }
                    a compact JWS (VC-JWT), or a JSON file { "credential": "<jws>" }
  --trust <file>    信任根证书包（PEM，或单个 DER 证书）/ trust bundle (PEM, or one DER certificate). Default: $YIWANG_TRUST_BUNDLE,
                    else <DATA_DIR 或/or ./data>/trust-bundle.pem
  --crl <file>      证书吊销列表，PEM 或 DER（可多次）/ a CA's CRL, PEM or DER (repeatable; \`yiwang seal revoke\` writes them)
  --status-cache <dir>  状态列表缓存 / cached status lists. Default: $YIWANG_STATUS_CACHE,
                    else <DATA_DIR 或/or ./data>/status-cache; used offline until each list expires
  --online          先验证印章签名，再联网刷新证照所列的状态列表（验证后才写入缓存）
                    verify the seal first, then fetch the licence's status lists (cached only once verified)
  --skip-status     不检查证照状态（结果注明）/ do not check the licence's status (the result says so)
                    默认严格：证照带状态条目而没有新鲜、已验证的状态列表时为 LICENCE_STATUS_UNAVAILABLE
                    strict by default: a licence with status entries and no fresh, verified list at hand
                    is INVALID LICENCE_STATUS_UNAVAILABLE (exit 1)
  --require-status  （兼容旧用法，现为默认）/ (kept for compatibility; now the default)
  --json            以 JSON 输出结果 / print the result as JSON
  -h, --help        显示本帮助 / show this help

退出码 / Exit codes: 0 有效 valid · 1 无效 invalid (INVALID <CODE>: …) · 2 用法或配置错误 usage or set-up error`;

function usageError(io: CliIo, message: string): number {
  io.err(message);
  io.err('运行 `yiwang verify --help` 查看用法 / run `yiwang verify --help` for usage.');
  return EXIT.USAGE;
}

/** The compact JWS in a licence file: the text itself, or the `credential` of a JSON object. */
function licenceText(content: string): string {
  const text = content.trim();
  if (!text.startsWith('{')) return text;
  try {
    const doc: unknown = JSON.parse(text);
    if (doc && typeof doc === 'object' && typeof (doc as { credential?: unknown }).credential === 'string') {
      return (doc as { credential: string }).credential.trim();
    }
  } catch {
    // Not JSON after all: the verifier will call it malformed.
  }
  return text;
}

type Bundle = { pem: string; source: string } | { problem: string };

/** A trust bundle file: PEM text, or one DER certificate (a .cer file) given as its PEM. */
function bundleText(file: string): string {
  const bytes = readFileSync(file);
  if (bytes.includes('-----BEGIN')) return bytes.toString('utf8');
  try {
    return new X509Certificate(bytes).toString();
  } catch {
    return bytes.toString('utf8'); // neither: reported as a bundle without certificates
  }
}

function findTrustBundle(io: CliIo, flag: string | undefined): Bundle {
  const read = (path: string, source: string): Bundle => {
    const file = resolve(io.cwd, path);
    if (!existsSync(file)) return { problem: `信任根证书包不存在 / trust bundle not found: ${file} (${source})` };
    return { pem: bundleText(file), source: file };
  };
  if (flag) return read(flag, '--trust');
  const env = io.env.YIWANG_TRUST_BUNDLE;
  if (env) return env.includes('-----BEGIN') ? { pem: env, source: 'YIWANG_TRUST_BUNDLE' } : read(env, 'YIWANG_TRUST_BUNDLE');
  const fallback = resolve(io.cwd, io.env.DATA_DIR || './data', 'trust-bundle.pem');
  if (existsSync(fallback)) return { pem: bundleText(fallback), source: fallback };
  return {
    problem: `未找到信任根证书包：请用 --trust 指定，或设置 YIWANG_TRUST_BUNDLE（默认 ${fallback}）/ `
      + `no trust bundle: pass --trust, or set YIWANG_TRUST_BUNDLE (default ${fallback})`,
  };
}

function printHuman(io: CliIo, r: VerifyResult): void {
  if (!r.valid) {
    io.out(`INVALID ${r.reason}: ${r.message}`);
    return;
  }
  const l = r.credential.credentialSubject.licence;
  io.out('VALID 有效');
  io.out(`  持证人 Holder:          ${r.holder.name}`);
  io.out(`  发证机关 Issuer:        ${r.issuer.name} (${r.issuer.code})`);
  io.out(`  证照类型 Type:          ${l.typeName}`);
  io.out(`  证照标识 Identifier:    ${l.identifier}`);
  io.out(`  签章时间 Signed at:     ${r.signedAt.toISOString()}`);
  io.out(`  有效期 Valid:           ${r.credential.validFrom} – ${r.credential.validUntil ?? '长期 / no end'}`);
  io.out(`  印章证书 Seal:          ${r.sealSubject}`);
  io.out(`  平台时间戳 Timestamp:   ${r.timestamped ? '有 / yes' : '无 / none'}`);
  const status = r.statusChecked ? '已检查，未撤销未暂停 / checked: neither revoked nor suspended' : '未检查 / NOT checked (--skip-status)';
  if (r.credential.credentialStatus !== undefined) io.out(`  证照状态 Status:        ${status}`);
}

export async function runVerify(argv: readonly string[], io: CliIo): Promise<number> {
  let values: {
    trust?: string | undefined; json?: boolean | undefined; help?: boolean | undefined; crl?: string[] | undefined;
    'status-cache'?: string | undefined; online?: boolean | undefined; 'skip-status'?: boolean | undefined; 'require-status'?: boolean | undefined;
  };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: {
        trust: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, crl: { type: 'string', multiple: true },
        'status-cache': { type: 'string' }, online: { type: 'boolean' }, 'skip-status': { type: 'boolean' }, 'require-status': { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
    }));
  } catch (e) {
    return usageError(io, `参数错误 / bad arguments: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (values.help) {
    io.out(VERIFY_USAGE);
    return EXIT.OK;
  }
  if (positionals.length !== 1) return usageError(io, '请指定一个证照文件 / give exactly one licence file');

  const licenceFile = resolve(io.cwd, positionals[0]!);
  if (!existsSync(licenceFile)) return usageError(io, `证照文件不存在 / licence file not found: ${licenceFile}`);
  const bundle = findTrustBundle(io, values.trust);
  if ('problem' in bundle) return usageError(io, bundle.problem);

  let anchors: string[];
  try {
    anchors = readTrustBundle(bundle.pem);
  } catch (e) {
    return usageError(io, isAppError(e) ? `${e.message} (${bundle.source})` : String(e));
  }
  if (anchors.length === 0) return usageError(io, `信任根证书包中没有证书 / the trust bundle holds no certificate: ${bundle.source}`);

  if (values.online && values['skip-status']) return usageError(io, '--online 与 --skip-status 不能同时使用 / --online and --skip-status exclude each other');
  // Read as bytes: a CRL file is PEM or DER (the .crl a distribution point serves).
  const crls: Buffer[] = [];
  for (const f of values.crl ?? []) {
    const file = resolve(io.cwd, f);
    if (!existsSync(file)) return usageError(io, `吊销列表不存在 / CRL not found: ${file}`);
    crls.push(readFileSync(file));
  }
  const cacheDir = resolve(io.cwd, values['status-cache'] ?? io.env.YIWANG_STATUS_CACHE ?? resolve(io.env.DATA_DIR || './data', 'status-cache'));

  let result: VerifyResult;
  try {
    const jws = licenceText(readFileSync(licenceFile, 'utf8'));
    const now = io.now?.() ?? new Date();
    const strict = !values['skip-status'];
    const anchorCerts = loadAnchors(anchors);
    if (values.online) {
      // The seal signature and chain first: status-list and CRL URLs are only read
      // from a licence that verified, and each answer is verified before it is cached.
      const sealed = await verifyLicence(jws, { trustAnchorsPem: anchors, now, crls });
      if (sealed.valid) {
        const failed = await refreshStatusLists(cacheDir, sealed.credential, {
          anchors: anchorCerts, crls: loadCrls(crls), now, fetch: io.fetch ?? fetch,
        });
        for (const f of failed) io.err(`无法更新状态列表 / could not refresh the status list ${f.url} (${f.why}); the cached copy, if any, is kept`);
        const crlFailed = await refreshCrls(cacheDir, licenceCertificates(jws, anchorCerts), { now, fetch: io.fetch ?? fetch });
        for (const f of crlFailed) io.err(`无法更新证书吊销列表 / could not refresh the CRL ${f.url} (${f.why}); the cached copy, if any, is kept`);
      }
    }
    let chainCrls: Buffer[] = [];
    try {
      chainCrls = cachedCrls(cacheDir, licenceCertificates(jws, anchorCerts));
    } catch {
      // Not a readable chain: verifyLicence names the problem.
    }
    // Strict by default: a licence with credentialStatus needs a fresh, verified
    // list from the cache, and a seal chain naming CRL distribution points a current CRL; only
    // --skip-status, said out loud, leaves both unchecked.
    const statusOptions = { trustAnchorsPem: anchors, now, crls: [...crls, ...chainCrls], statusMissingAllowed: false, requireCrls: strict };
    result = await verifyLicence(jws, { ...statusOptions, statusLists: values['skip-status'] ? undefined : cachedStatusLists(cacheDir) });
    if (values['skip-status'] && result.valid) {
      io.err('注意：未检查证照状态（撤销/暂停）及印章证书吊销列表 / WARNING: the licence\'s status (revoked/suspended) and the seal chain\'s CRLs were NOT checked (--skip-status)');
    }
  } catch (e) {
    return usageError(io, `无法验证 / could not verify: ${e instanceof Error ? e.message : String(e)}`);
  }

  if (values.json) io.out(JSON.stringify(result, null, 2));
  else printHuman(io, result);
  return result.valid ? EXIT.OK : EXIT.INVALID;
}

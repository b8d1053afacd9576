/**
 * `yiwang seal <action>`: run the seal trust hierarchy from a directory (./directory.ts) —
 * R-LI-3 "one trusted seal service": the national root, provincial CAs, agency seal
 * certificates, the platform timestamp authority, rotation, revocation with a published CRL,
 * and the trust bundle verifiers install. Each action is a small function below, listed in
 * ACTIONS; keys go through the KeyStore interface (files encrypted under KEY_PASSPHRASE).
 *
 * With `--csr` a seal, TSA or CA certificate certifies the key of the licence service's request
 * (./request.ts): the private key stays in the service's key store, the record says so
 * (`keyHeldElsewhere`) and the chain is written for the service to install.
 *
 * Exit codes (as every yiwang command): 0 done, 2 usage, set-up or refused input
 * (printed as `ERROR <CODE>: message`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AppError, isAppError } from '../../kernel/errors.ts';
import type { CertifiedKey } from '../certificates/types.ts';
import { createRootCa } from '../certificates/root.ts';
import { certifyCaKey, issueCa } from '../certificates/ca.ts';
import { certifySealKey, issueSealCertificate } from '../certificates/seal.ts';
import { certifyTsaKey, issueTsaCertificate } from '../certificates/tsa.ts';
import { describeCertificate } from '../chain/describe.ts';
import { createFileKeyStore } from '../keys/file-store.ts';
import type { KeyStore } from '../keys/store.ts';
import { buildLicenceCredential, type LicenceFields } from '../licence/credential.ts';
import { signLicence } from '../licence/sign.ts';
import { createTimestamper } from '../timestamp/token.ts';
import { buildCrl, CRL_REASONS, type CrlReason } from '../x509/index.ts';
import { readInvalidityDate } from '../chain/revocation.ts';
import { EXIT, type CliIo } from './io.ts';
import { sealDir, SealDirectory, writeAt, type CertRecord, type Index, type Role } from './directory.ts';
import { cliCrlUrl, readRequestFile } from './request.ts';

export const SEAL_USAGE = `用法 / Usage: yiwang seal <操作 action> [--dir <目录 directory>] [选项 options]

离线运行电子印章信任体系（国家根CA → 省级CA → 机构印章证书；平台时间戳服务）。
Run the seal trust hierarchy offline (national root → provincial CA → agency seal certificates;
the platform timestamp authority). Private keys are encrypted with $KEY_PASSPHRASE.

操作 / Actions:
  init-root      --name <CN> [--org <O>] [--years 20]                 创建国家根CA / create the national root
  issue-ca       --parent <id> --name <CN> --region <GB/T 2260> [--org <O>] [--years 10] [--path-len 0]
                 [--csr <req.pem> [--out <chain.pem>]]                签发省级CA / issue a provincial CA
                                                                      (--csr: 平台印章CA申请 a platform's seal CA request)
  issue-seal     --ca <id> --agency-name <名称> --agency-code <统一社会信用代码> --seal-name <印章名称>
                 --image <png|jpg> [--years 5] [--csr <req.pem> [--out <chain.pem>]]
                                                                      签发机构印章证书 / issue an agency seal certificate
  issue-tsa      --parent <id> --name <CN> [--org <O>] [--years 10] [--csr <req.pem> [--out <chain.pem>]]
                                                                      签发平台时间戳证书 / issue the platform TSA certificate
  list           [--json]                                             列出证书 / list certificates
  rotate         --seal <id> [--years 5]                              更换印章证书（旧证照仍可验证）/ rotate a seal certificate
  revoke         --id <id> [--reason keyCompromise|superseded|cessationOfOperation|…]
                 [--invalidity-date <ISO 8601>]                       吊销证书并发布CRL / revoke and publish the CRL
  crl            --ca <id> [--days 7]                                 重新发布CRL / republish a CA's CRL
  export-bundle  [--out <file>]                                       导出信任根证书包 / export the trust bundle
  sign           --seal <id> --fields <licence.json> [--tsa <id>] [--out <file>]
                                                                      用印章签发证照 / seal a licence

  --csr <req.pem>    为证照服务的证书申请（PKCS #10）签发：私钥留在证照服务，证书链写入 --out
                     certify the key of the licence service's request (PKCS #10): the private key stays
                     there; the chain (certificate → root) goes to --out (default certs/<id>.chain.pem)
  --crl-base <URL>   所签证书带CRL分发点 <URL>/<签发CA编号>.crl（把 crl/<CA编号>.crl 发布在该处）
                     certificates issued name the CRL distribution point <URL>/<issuing CA id>.crl
                     (publish the CA's crl/<id>.crl there); issue-ca, issue-seal, issue-tsa, rotate
  --invalidity-date <time>  密钥泄露时：自何时起私钥已泄露或疑似泄露（带时区，写入CRL的 invalidityDate）；
                     此前经平台时间戳证明已签章的证照仍有效
                     with keyCompromise: since when the key is known or suspected to be compromised
                     (ISO 8601 with a time zone; the CRL entry's invalidityDate): licences a platform
                     timestamp proves were sealed earlier stay valid
  --dir <directory>  默认 / default: $YIWANG_SEAL_DIR, else <DATA_DIR 或/or ./data>/seal-ca
  -h, --help         显示本帮助 / show this help

退出码 / Exit codes: 0 完成 done · 2 用法、配置或输入被拒 usage, set-up or refused input (ERROR <CODE>: …)`;

type Values = Record<string, string | boolean | undefined>;

interface Ctx {
  io: CliIo;
  dir: SealDirectory;
  v: Values;
  now: Date;
  keys(): KeyStore;
}

const OPTIONS = {
  dir: { type: 'string' }, name: { type: 'string' }, org: { type: 'string' }, years: { type: 'string' }, parent: { type: 'string' },
  region: { type: 'string' }, 'path-len': { type: 'string' }, ca: { type: 'string' }, 'agency-name': { type: 'string' },
  'agency-code': { type: 'string' }, 'seal-name': { type: 'string' }, image: { type: 'string' }, json: { type: 'boolean' },
  seal: { type: 'string' }, id: { type: 'string' }, reason: { type: 'string' }, days: { type: 'string' }, out: { type: 'string' },
  fields: { type: 'string' }, tsa: { type: 'string' }, csr: { type: 'string' }, 'crl-base': { type: 'string' }, 'invalidity-date': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function need(v: Values, name: string): string {
  const x = v[name];
  if (typeof x !== 'string' || !x.trim()) throw new AppError('BAD_INPUT', `缺少 --${name} / --${name} is required`, { option: name });
  return x.trim();
}

function int(v: Values, name: string, fallback: number): number {
  const x = v[name];
  if (x === undefined) return fallback;
  const n = Number(x);
  if (!Number.isInteger(n) || n < 0) throw new AppError('BAD_INPUT', `--${name} 须为非负整数 / --${name} must be a non-negative integer`, { option: name });
  return n;
}

function find(index: Index, id: string, roles?: Role[]): CertRecord {
  const r = index.certificates.find((c) => c.id === id);
  if (!r || (roles && !roles.includes(r.role))) {
    throw new AppError('SEAL_NOT_FOUND', `没有编号为 ${id} 的${roles ? ` ${roles.join('/')} ` : ''}证书 / no ${roles?.join('/') ?? ''} certificate ${id}`, { id });
  }
  if (r.status === 'revoked') throw new AppError('LICENCE_CERT_REVOKED', `证书 ${id} 已被吊销 / certificate ${id} is revoked`, { id });
  return r;
}

async function certified(c: Ctx, r: CertRecord): Promise<CertifiedKey> {
  return { certPem: c.dir.certPem(r.id), privateKey: await c.keys().get(r.id) };
}

/** Store a new certificate and its key (none when the key is held elsewhere: --csr); returns the record. */
async function save(c: Ctx, index: Index, role: Role, parentId: string | null, ck: CertifiedKey | { certPem: string; privateKey: null }, extra: Partial<CertRecord> = {}): Promise<CertRecord> {
  const d = describeCertificate(ck.certPem);
  const id = `${role}-${d.serialHex.slice(0, 12).toLowerCase()}`;
  if (ck.privateKey) await c.keys().put(id, ck.privateKey);
  c.dir.writeFile(['certs', `${id}.pem`], ck.certPem);
  const r: CertRecord = {
    id, role, parentId, serialHex: d.serialHex, subject: d.subject, notBefore: d.notBefore.toISOString(), notAfter: d.notAfter.toISOString(),
    status: 'active', createdAt: c.now.toISOString(), ...extra,
  };
  index.certificates.push(r);
  c.dir.write(index);
  return r;
}

function announce(c: Ctx, r: CertRecord): number {
  c.io.out(`${r.id}  ${r.role}  ${r.subject}`);
  c.io.out(`  序列号 serial ${r.serialHex} · 有效期 valid ${r.notBefore} – ${r.notAfter}`);
  if (r.keyHeldElsewhere) {
    // The key is the requester's: hand back the chain it installs (certificate first, root last).
    const out = c.v.out ? resolve(c.io.cwd, c.v.out as string) : c.dir.path('certs', `${r.id}.chain.pem`);
    writeAt(out, c.dir.chain(c.dir.read(), r.id).join(''));
    c.io.out(`  证书链 / chain: ${out}`);
  }
  return EXIT.OK;
}

/** --crl-base for a certificate `caId` issues. */
const crlUrlFor = (c: Ctx, caId: string): string | undefined => cliCrlUrl(c.v['crl-base'] as string | undefined, caId);

function readImage(c: Ctx, file: string): { ext: string; bytes: Buffer } {
  const path = resolve(c.io.cwd, file);
  if (!existsSync(path)) throw new AppError('BAD_INPUT', `印章图像不存在 / seal image not found: ${path}`, { option: 'image' });
  const bytes = readFileSync(path);
  const png = bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const jpeg = bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  if (!png && !jpeg) throw new AppError('BAD_INPUT', '印章图像须为 PNG 或 JPEG / the seal image must be PNG or JPEG', { option: 'image' });
  if (bytes.length > 1024 * 1024) throw new AppError('BAD_INPUT', '印章图像不得超过 1 MB / the seal image must be at most 1 MB', { option: 'image' });
  return { ext: png ? 'png' : (extname(path).toLowerCase() === '.jpeg' ? 'jpeg' : 'jpg'), bytes };
}

/** Write the CRL of `caId` listing every certificate it issued that is revoked. */
async function publishCrl(c: Ctx, index: Index, caId: string, days = 7): Promise<string> {
  const ca = find(index, caId, ['root', 'ca']);
  const entries = index.certificates.filter((r) => r.parentId === caId && r.status === 'revoked').map((r) => ({
    serialHex: r.serialHex, revokedAt: new Date(r.revokedAt ?? c.now), reason: (r.revocationReason ?? 'unspecified') as CrlReason,
    invalidityDate: r.invalidityDate ? new Date(r.invalidityDate) : null,
  }));
  const crlNumber = (index.crlNumbers[caId] ?? 0) + 1;
  const pem = buildCrl({
    issuerCertPem: c.dir.certPem(ca.id), issuerKey: await c.keys().get(ca.id), thisUpdate: c.now,
    nextUpdate: new Date(c.now.getTime() + days * 86_400_000), crlNumber, entries,
  });
  index.crlNumbers[caId] = crlNumber;
  c.dir.write(index);
  // DER beside the PEM: what an HTTP CRL distribution point serves (RFC 5280 §4.2.1.13).
  c.dir.writeFile(['crl', `${caId}.crl`], Buffer.from(pem.replace(/-----[A-Z0-9 ]+-----|\s/g, ''), 'base64'));
  return c.dir.writeFile(['crl', `${caId}.crl.pem`], pem);
}

const ACTIONS: Record<string, (c: Ctx) => Promise<number>> = {
  async 'init-root'(c) {
    const index = c.dir.read();
    const root = createRootCa({ commonName: need(c.v, 'name'), organization: c.v.org as string | undefined, now: c.now, years: int(c.v, 'years', 20) });
    return announce(c, await save(c, index, 'root', null, root));
  },

  async 'issue-ca'(c) {
    const index = c.dir.read();
    const parent = find(index, need(c.v, 'parent'), ['root', 'ca']);
    const region = need(c.v, 'region');
    if (!/^\d{6}$/.test(region)) throw new AppError('BAD_INPUT', '--region 须为6位行政区划代码 / --region must be a 6-digit GB/T 2260 code', { option: 'region' });
    // With --csr: another platform's seal CA (LICENCE_SEAL_MODE=subordinate), whose key stays there.
    const request = c.v.csr ? readRequestFile(c.io.cwd, c.v.csr as string) : null;
    const o = {
      commonName: need(c.v, 'name'), organization: c.v.org as string | undefined, regionCode: region, now: c.now,
      years: int(c.v, 'years', 10), pathLen: int(c.v, 'path-len', 0), crlUrl: crlUrlFor(c, parent.id),
    };
    const issuer = await certified(c, parent);
    const ca = request ? { certPem: certifyCaKey(issuer, { ...o, publicKey: request.publicKey }), privateKey: null } : issueCa(issuer, o);
    return announce(c, await save(c, index, 'ca', parent.id, ca, { regionCode: region, ...(request ? { keyHeldElsewhere: true } : {}) }));
  },

  async 'issue-seal'(c) {
    const index = c.dir.read();
    const ca = find(index, need(c.v, 'ca'), ['ca', 'root']);
    const image = readImage(c, need(c.v, 'image'));
    const agencyName = need(c.v, 'agency-name'), agencyCode = need(c.v, 'agency-code'), sealName = need(c.v, 'seal-name');
    const request = c.v.csr ? readRequestFile(c.io.cwd, c.v.csr as string, { code: agencyCode, name: agencyName }) : null;
    const o = { agencyName, agencyCode, sealName, now: c.now, years: int(c.v, 'years', 5), sealImage: image.bytes, crlUrl: crlUrlFor(c, ca.id) };
    const issuer = await certified(c, ca);
    const seal = request ? { certPem: certifySealKey(issuer, { ...o, publicKey: request.publicKey }), privateKey: null } : issueSealCertificate(issuer, o);
    const r = await save(c, index, 'seal', ca.id, seal, { agencyName, agencyCode, sealName, ...(request ? { keyHeldElsewhere: true } : {}) });
    r.sealImage = `${r.id}.${image.ext}`;
    c.dir.writeFile(['images', r.sealImage], image.bytes);
    c.dir.write(index);
    return announce(c, r);
  },

  async 'issue-tsa'(c) {
    const index = c.dir.read();
    const parent = find(index, need(c.v, 'parent'), ['root', 'ca']);
    const request = c.v.csr ? readRequestFile(c.io.cwd, c.v.csr as string) : null;
    const o = { commonName: need(c.v, 'name'), organization: c.v.org as string | undefined, now: c.now, years: int(c.v, 'years', 10), crlUrl: crlUrlFor(c, parent.id) };
    const issuer = await certified(c, parent);
    const tsa = request ? { certPem: certifyTsaKey(issuer, { ...o, publicKey: request.publicKey }), privateKey: null } : issueTsaCertificate(issuer, o);
    return announce(c, await save(c, index, 'tsa', parent.id, tsa, request ? { keyHeldElsewhere: true } : {}));
  },

  async list(c) {
    const { certificates } = c.dir.read();
    if (c.v.json) {
      c.io.out(JSON.stringify(certificates, null, 2));
      return EXIT.OK;
    }
    if (!certificates.length) c.io.out('（空）没有证书 / no certificates yet: start with `yiwang seal init-root`');
    for (const r of certificates) {
      const expired = new Date(r.notAfter) < c.now ? ' expired' : '';
      c.io.out(`${r.id.padEnd(18)} ${r.role.padEnd(4)} ${(r.status + expired).padEnd(18)} ${r.notAfter.slice(0, 10)}  ${r.subject}${r.parentId ? `  ← ${r.parentId}` : ''}`);
    }
    return EXIT.OK;
  },

  async rotate(c) {
    const index = c.dir.read();
    const old = find(index, need(c.v, 'seal'), ['seal']);
    if (old.keyHeldElsewhere) {
      throw new AppError('BAD_INPUT', `${old.id} 的私钥在证照服务：请由证照服务重新申请（--csr）/ the key of ${old.id} is held by the licence service: certify its new request (--csr) instead`, { id: old.id });
    }
    const ca = find(index, old.parentId!, ['ca', 'root']);
    // The new certificate binds the same seal image (its SHA-256), as the old one did.
    const image = old.sealImage ? readFileSync(c.dir.path('images', old.sealImage)) : undefined;
    const seal = issueSealCertificate(await certified(c, ca), {
      agencyName: old.agencyName!, agencyCode: old.agencyCode!, sealName: old.sealName!, now: c.now, years: int(c.v, 'years', 5), sealImage: image,
      crlUrl: crlUrlFor(c, ca.id),
    });
    // The old certificate is superseded, not revoked: licences it sealed stay valid (verified at their signing time).
    old.status = 'superseded';
    const r = await save(c, index, 'seal', ca.id, seal, {
      agencyName: old.agencyName, agencyCode: old.agencyCode, sealName: old.sealName, sealImage: old.sealImage, replaces: old.id,
    });
    c.io.out(`${old.id} → superseded（已签证照仍有效 / licences it sealed stay valid）`);
    return announce(c, r);
  },

  async revoke(c) {
    const index = c.dir.read();
    const r = find(index, need(c.v, 'id'));
    if (!r.parentId) throw new AppError('BAD_INPUT', '根证书不能吊销：请从信任包中移除 / a root is withdrawn by removing it from trust bundles, not revoked', { id: r.id });
    const reason = (c.v.reason as string | undefined) ?? 'unspecified';
    if (!Object.hasOwn(CRL_REASONS, reason)) {
      throw new AppError('BAD_INPUT', `未知的吊销原因 / unknown reason; one of ${Object.keys(CRL_REASONS).join(', ')}`, { option: 'reason' });
    }
    const given = c.v['invalidity-date'] as string | undefined;
    const invalid = given === undefined ? null : readInvalidityDate(given, reason as CrlReason, c.now, '--invalidity-date');
    r.status = 'revoked';
    r.revokedAt = c.now.toISOString();
    r.revocationReason = reason;
    if (invalid) r.invalidityDate = invalid.toISOString();
    c.dir.write(index);
    const file = await publishCrl(c, index, r.parentId);
    c.io.out(`${r.id} 已吊销 / revoked (${reason}${invalid ? `, invalid since ${r.invalidityDate}` : ''})`);
    c.io.out(`CRL: ${file}`);
    return EXIT.OK;
  },

  async crl(c) {
    const index = c.dir.read();
    c.io.out(`CRL: ${await publishCrl(c, index, need(c.v, 'ca'), int(c.v, 'days', 7))}`);
    return EXIT.OK;
  },

  async 'export-bundle'(c) {
    const roots = c.dir.read().certificates.filter((r) => r.role === 'root' && r.status !== 'revoked');
    if (!roots.length) throw new AppError('SEAL_NOT_FOUND', '没有根证书：请先运行 init-root / no root: run init-root first');
    const pem = roots.map((r) => `# ${r.subject}\n${c.dir.certPem(r.id)}`).join('');
    const out = c.v.out ? resolve(c.io.cwd, c.v.out as string) : c.dir.path('trust-bundle.pem');
    writeAt(out, pem);
    c.io.out(`信任根证书包 / trust bundle: ${out} (${roots.length})`);
    return EXIT.OK;
  },

  async sign(c) {
    const index = c.dir.read();
    const seal = find(index, need(c.v, 'seal'), ['seal']);
    const fieldsFile = resolve(c.io.cwd, need(c.v, 'fields'));
    if (!existsSync(fieldsFile)) throw new AppError('BAD_INPUT', `证照字段文件不存在 / fields file not found: ${fieldsFile}`, { option: 'fields' });
    let fields: LicenceFields;
    try {
      fields = JSON.parse(readFileSync(fieldsFile, 'utf8')) as LicenceFields;
    } catch {
      throw new AppError('BAD_INPUT', '证照字段文件不是 JSON / the fields file is not JSON', { option: 'fields' });
    }
    const signer = { privateKey: await c.keys().get(seal.id), chainPem: c.dir.chain(index, seal.id) };
    let timestamper;
    if (c.v.tsa) {
      const tsa = find(index, c.v.tsa as string, ['tsa']);
      timestamper = createTimestamper({ privateKey: await c.keys().get(tsa.id), chainPem: c.dir.chain(index, tsa.id) }, { now: () => c.now });
    }
    const jws = await signLicence(buildLicenceCredential(fields), signer, c.now, { timestamper });
    if (c.v.out) {
      const out = resolve(c.io.cwd, c.v.out as string);
      writeAt(out, `${jws}\n`);
      c.io.out(`证照 / licence: ${out}`);
    } else c.io.out(jws);
    return EXIT.OK;
  },
};

export async function runSeal(argv: readonly string[], io: CliIo): Promise<number> {
  let v: Values;
  let positionals: string[];
  try {
    ({ values: v, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true }));
  } catch (e) {
    io.err(`参数错误 / bad arguments: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT.USAGE;
  }
  const [action, ...extra] = positionals;
  if (v.help || action === 'help') {
    io.out(SEAL_USAGE);
    return EXIT.OK;
  }
  if (action === undefined) {
    io.err(SEAL_USAGE);
    return EXIT.USAGE;
  }
  const run = Object.hasOwn(ACTIONS, action) ? ACTIONS[action] : undefined;
  if (!run || extra.length) {
    io.err(run ? `多余的参数 / unexpected arguments: ${extra.join(' ')}` : `未知操作 / unknown action: ${action}`);
    io.err('运行 `yiwang seal --help` 查看用法 / run `yiwang seal --help` for usage.');
    return EXIT.USAGE;
  }
  const dir = new SealDirectory(sealDir(io, v.dir as string | undefined));
  const c: Ctx = {
    io, dir, v, now: io.now?.() ?? new Date(),
    keys() {
      const pass = io.env.KEY_PASSPHRASE;
      if (!pass) throw new AppError('CONFIG_INVALID', '请设置 KEY_PASSPHRASE（加密私钥的口令）/ set KEY_PASSPHRASE (the passphrase encrypting the keys)');
      return createFileKeyStore(dir.path('keys'), pass);
    },
  };
  try {
    return await run(c);
  } catch (e) {
    if (!isAppError(e)) throw e;
    io.err(`ERROR ${e.code}: ${e.message}`);
    return EXIT.USAGE;
  }
}

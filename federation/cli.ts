/**
 * `yiwang federation …`: the administrator's tool for this platform's federation entity
 * (FEDERATION_* configuration, same database as the service): its keys and their rotation, the
 * subordinates it vouches for, and trust chain resolution for checking another platform.
 *
 * With the embedded database (no DATABASE_URL) the service must be stopped first: PGlite serves
 * one process.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, resolveSecrets, type Config } from '../kernel/config.ts';
import { systemClock } from '../kernel/clock.ts';
import { openDb, type Db } from '../kernel/db.ts';
import { isAppError } from '../kernel/errors.ts';
import { federationFromConfig, urlPolicyFromConfig } from './config.ts';
import type { FederationEntity } from './entity.ts';
import { createFetcher } from './fetcher.ts';
import { createFederationKeys } from './keys.ts';
import { decodeStatement, verifyStatement } from './statement.ts';
import type { Jwks } from './types.ts';

/** What the command may touch (the shape every `yiwang` command receives). */
export interface FederationCliIo {
  out(line: string): void;
  err(line: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
}

const EXIT = { OK: 0, INVALID: 1, USAGE: 2 } as const;

const HELP = `用法 / Usage:
  yiwang federation status                         本平台的联邦实体、密钥、下级 / this entity, its keys, its subordinates
  yiwang federation anchor                         打印作为信任锚的配置（供 FEDERATION_TRUST_ANCHORS）/ print this entity as a trust anchor entry
  yiwang federation jwks                           打印联邦公钥（上级登记时使用）/ print the federation public keys (for the superior's registration)
  yiwang federation keys prepare --by <管理员>     生成下一把密钥（先公布，不签名）/ make the next key (published, not signing)
  yiwang federation keys activate --by <管理员>    启用下一把密钥，旧钥保留至其声明过期 / sign with the next key; the old one stays published until its statements expire
  yiwang federation rp-keys prepare --by <管理员>  IdP 作为依赖方的下一把密钥（先公布）/ the IdP's next relying-party key (published first)
  yiwang federation rp-keys activate --by <管理员> 启用之（在 FEDERATION_CHAIN_CACHE_SECONDS 之后）/ sign with it (after FEDERATION_CHAIN_CACHE_SECONDS)
  yiwang federation add <实体ID entity-id> (--jwks <文件 file> | --fetch-jwks) [--types t1,t2]
                        [--policy <文件>] [--constraints <文件>] [--metadata <文件>] --by <管理员>
                                                   登记或更新下级 / register or update a subordinate
  yiwang federation remove <实体ID entity-id> --by <管理员>
                                                   停止为下级出具声明 / stop issuing statements about a subordinate
  yiwang federation list [--type <实体类型>]        列出下级 / list subordinates
  yiwang federation audit [--limit N]              管理操作记录 / administrative audit trail
  yiwang federation resolve <实体ID entity-id> [--anchor <信任锚>]
                                                   解析并验证信任链 / resolve and validate a trust chain

--fetch-jwks 从下级的联邦配置读取公钥，并打印其 kid，须与下级管理员线下核对。
--fetch-jwks reads the keys from the subordinate's Entity Configuration and prints their kids: compare them with the subordinate's administrator out of band.
退出码 / Exit codes: 0 成功 / done, 1 不受信任或未登记 / untrusted or not registered, 2 用法、配置或连接错误 / usage, configuration or connection error`;

function readJson(cwd: string, file: string): unknown {
  return JSON.parse(readFileSync(resolvePath(cwd, file), 'utf8'));
}

async function openEntity(config: Config, io: FederationCliIo, given?: Db): Promise<{ entity: FederationEntity; db: Db }> {
  if (given) {
    const entity = await federationFromConfig({ config, keyPassphrase: resolveSecrets(config).keyPassphrase, db: given, clock: systemClock });
    if (!entity) throw new Error('FEDERATION_ENTITY_ID 未设置 / FEDERATION_ENTITY_ID is not set');
    return { entity, db: given };
  }
  let dataDir: string | undefined;
  if (!config.DATABASE_URL) {
    dataDir = join(resolvePath(io.cwd, config.DATA_DIR), 'pglite');
    mkdirSync(dataDir, { recursive: true });
  }
  const db = await openDb({ url: config.DATABASE_URL, dataDir, poolSize: 2 });
  try {
    const entity = await federationFromConfig({ config, keyPassphrase: resolveSecrets(config).keyPassphrase, db, clock: systemClock });
    if (!entity) throw new Error('FEDERATION_ENTITY_ID 未设置 / FEDERATION_ENTITY_ID is not set');
    return { entity, db };
  } catch (e) {
    await db.close();
    throw e;
  }
}

/** `db`: tests pass their own (the command then leaves it open); otherwise the configured database is opened. */
export async function runFederation(argv: readonly string[], io: FederationCliIo, given?: Db): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv], allowPositionals: true,
      options: {
        by: { type: 'string' }, jwks: { type: 'string' }, 'fetch-jwks': { type: 'boolean' }, types: { type: 'string' }, type: { type: 'string' },
        policy: { type: 'string' }, constraints: { type: 'string' }, metadata: { type: 'string' }, anchor: { type: 'string' },
        limit: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    io.err(`${(e as Error).message}\n\n${HELP}`);
    return EXIT.USAGE;
  }
  const { values: v, positionals: [cmd, arg, ...extra] } = parsed;
  if (v.help || cmd === 'help') { io.out(HELP); return EXIT.OK; }
  const known = ['status', 'anchor', 'jwks', 'keys', 'rp-keys', 'add', 'remove', 'list', 'audit', 'resolve'];
  if (!cmd || !known.includes(cmd) || extra.length > 0) { io.err(HELP); return EXIT.USAGE; }
  const needsBy = cmd === 'keys' || cmd === 'rp-keys' || cmd === 'add' || cmd === 'remove';
  if (needsBy && !v.by?.trim()) { io.err('请用 --by 写明管理员（记入审计）/ name the administrator with --by (it is audited)'); return EXIT.USAGE; }
  if ((cmd === 'add' || cmd === 'remove' || cmd === 'resolve') && !arg) { io.err(HELP); return EXIT.USAGE; }
  if ((cmd === 'keys' || cmd === 'rp-keys') && arg !== 'prepare' && arg !== 'activate') { io.err(HELP); return EXIT.USAGE; }
  if (cmd === 'add' && Boolean(v.jwks) === Boolean(v['fetch-jwks'])) { io.err('请给出 --jwks 或 --fetch-jwks 之一 / give one of --jwks or --fetch-jwks'); return EXIT.USAGE; }

  let config: Config;
  try {
    config = loadConfig(io.env);
  } catch (e) {
    io.err((e as Error).message);
    return EXIT.USAGE;
  }
  let opened: { entity: FederationEntity; db: Db };
  try {
    opened = await openEntity(config, io, given);
  } catch (e) {
    io.err(`${isAppError(e) ? `${e.code}: ` : ''}${(e as Error).message}`);
    return EXIT.USAGE;
  }
  const { entity, db } = opened;
  const by = `cli:${v.by?.trim() ?? ''}`;
  try {
    switch (cmd) {
      case 'status': {
        io.out(`实体 / entity: ${entity.entityId}${entity.isTrustAnchor ? '  (信任锚 / trust anchor)' : ''}`);
        io.out(`上级 / authority hints: ${config.FEDERATION_AUTHORITY_HINTS || '—'}`);
        io.out(`信任锚 / trust anchors: ${entity.resolver.anchors.map((a) => a.entityId).join(', ') || '—'}`);
        for (const k of await entity.keys.list()) io.out(`密钥 / key ${k.kid}  ${k.state}${k.publishUntil ? `  published until ${k.publishUntil}` : ''}`);
        io.out(`下级 / subordinates: ${(await entity.registry.list()).length}`);
        return EXIT.OK;
      }
      case 'anchor':
        await entity.keys.signingKey();
        io.out(JSON.stringify([{ entityId: entity.entityId, jwks: await entity.keys.publicJwks() }], null, 2));
        return EXIT.OK;
      case 'jwks':
        await entity.keys.signingKey();
        io.out(JSON.stringify(await entity.keys.publicJwks(), null, 2));
        return EXIT.OK;
      case 'keys': {
        if (arg === 'prepare') {
          const k = await entity.keys.prepareNext(by);
          io.out(`下一把密钥已公布 / next key published: ${k.kid}`);
          io.out('请上级管理员登记新的公钥集（yiwang federation jwks），然后 keys activate。/ Have the superior register the new key set (yiwang federation jwks), then run keys activate.');
        } else {
          const { active, retired } = await entity.keys.activateNext(by);
          io.out(`签名密钥 / signing key: ${active.kid}`);
          if (retired) io.out(`旧密钥公布至 / old key ${retired.kid} published until ${retired.publishUntil}`);
        }
        return EXIT.OK;
      }
      case 'rp-keys': {
        // The IdP's relying-party keys (cross-tier login): its Entity Configuration publishes the
        // next one at once; homes see it when their cached chain of this platform ends.
        const rp = createFederationKeys({ db, passphrase: resolveSecrets(config).keyPassphrase, clock: systemClock, statementTtlSeconds: config.FEDERATION_STATEMENT_TTL_SECONDS, purpose: 'relying_party' });
        if (arg === 'prepare') {
          const k = await rp.prepareNext(by);
          io.out(`下一把依赖方密钥已公布 / next relying-party key published: ${k.kid}`);
          io.out(`请在 ${config.FEDERATION_CHAIN_CACHE_SECONDS} 秒后运行 rp-keys activate / run rp-keys activate after ${config.FEDERATION_CHAIN_CACHE_SECONDS} s (FEDERATION_CHAIN_CACHE_SECONDS: the homes' cached chains)`);
        } else {
          const { active, retired } = await rp.activateNext(by);
          io.out(`依赖方签名密钥 / relying-party signing key: ${active.kid}`);
          if (retired) io.out(`旧密钥公布至 / old key ${retired.kid} published until ${retired.publishUntil}`);
        }
        return EXIT.OK;
      }
      case 'add': {
        let jwks: Jwks;
        let types = v.types?.split(',').map((t) => t.trim()).filter(Boolean);
        if (v.jwks) {
          jwks = readJson(io.cwd, v.jwks) as Jwks;
        } else {
          const fetcher = createFetcher({ ...urlPolicyFromConfig(config), timeoutMs: config.FEDERATION_FETCH_TIMEOUT_MS, maxBytes: config.FEDERATION_FETCH_MAX_BYTES });
          const ec = await fetcher.entityConfiguration(arg!);
          const { claims } = decodeStatement(ec);
          await verifyStatement(ec, claims.jwks, Math.floor(Date.now() / 1000));
          jwks = claims.jwks;
          types ??= Object.keys(claims.metadata ?? {});
          io.out(`从联邦配置读取的公钥 / keys read from the Entity Configuration: ${jwks.keys.map((k) => k.kid).join(', ')}`);
        }
        const rec = await entity.registry.put({
          entityId: arg!, jwks, entityTypes: types ?? [],
          ...(v.policy ? { metadataPolicy: readJson(io.cwd, v.policy) as never } : {}),
          ...(v.constraints ? { constraints: readJson(io.cwd, v.constraints) as never } : {}),
          ...(v.metadata ? { metadata: readJson(io.cwd, v.metadata) as never } : {}),
        }, by);
        io.out(`已登记下级 / subordinate registered: ${rec.entityId} (${rec.entityTypes.join(', ') || '—'})`);
        return EXIT.OK;
      }
      case 'remove':
        await entity.registry.remove(arg!, by);
        io.out(`已停止为其出具声明 / no more statements about ${arg}; 已缓存的信任链至多 FEDERATION_CHAIN_CACHE_SECONDS 后失效 / cached chains end within FEDERATION_CHAIN_CACHE_SECONDS`);
        return EXIT.OK;
      case 'list':
        for (const s of await entity.registry.list({ entityType: v.type })) io.out(`${s.entityId}  ${s.entityTypes.join(',') || '—'}  ${s.jwks.keys.map((k) => k.kid).join(',')}  added ${s.addedAt} by ${s.addedBy}`);
        return EXIT.OK;
      case 'audit':
        for (const a of await entity.registry.audit(Number(v.limit ?? 50) || 50)) io.out(`${a.at}  ${a.actor}  ${a.action}  ${a.entityId ?? ''}`);
        return EXIT.OK;
      case 'resolve': {
        const r = await entity.resolver.resolve(arg!, v.anchor ? { trustAnchor: v.anchor, fresh: true } : { fresh: true });
        io.out(JSON.stringify({ entityId: r.entityId, trustAnchor: r.trustAnchor, path: r.path, exp: new Date(r.exp * 1000).toISOString(), metadata: r.metadata }, null, 2));
        return EXIT.OK;
      }
    }
    return EXIT.USAGE;
  } catch (e) {
    if (!isAppError(e)) throw e;
    io.err(`${e.code}: ${e.message}${e.details ? ` ${JSON.stringify(e.details)}` : ''}`);
    const verdict = e.code.startsWith('FEDERATION_') && e.code !== 'FEDERATION_UNREACHABLE' && e.code !== 'FEDERATION_ENTITY_ID_REFUSED';
    return verdict ? EXIT.INVALID : EXIT.USAGE;
  } finally {
    if (!given) await db.close();
  }
}

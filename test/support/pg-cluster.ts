/**
 * A private PostgreSQL cluster for one test file: initdb in a temporary directory, started on a
 * free port, so a test may restart or stop its server without touching the shared one. Needs the
 * server binaries (PG_BIN, default /usr/lib/postgresql/15/bin); initdb refuses to run as root, so
 * as root the cluster belongs to the `postgres` user. Files using it are named *.pgcluster.test.ts
 * (jest.config.js leaves them out, saying so, when the binaries are absent outside CI).
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './infra.ts';

export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
export const hasPgBinaries = (): boolean => existsSync(join(PG_BIN, 'initdb'));

export interface PgCluster {
  /** postgres:// URL of the `postgres` database (the superuser's, trust authentication on 127.0.0.1). */
  url: string;
  port: number;
  /** A URL for a fresh database created on this cluster. */
  createDatabase(name: string): Promise<string>;
  /** `pg_ctl restart -m fast`: every connection is ended, the server is back when this resolves. */
  restart(): Promise<void>;
  /** `pg_ctl stop -m fast` (ends every connection) and, later, `pg_ctl start`: an outage of chosen length. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** pg_ctl stop -m fast, then remove the directory. */
  destroy(): Promise<void>;
}

export async function startPgCluster(): Promise<PgCluster> {
  const root = mkdtempSync(join(tmpdir(), 'yw-pgcluster-'));
  const dir = join(root, 'data');
  const port = await freePort();
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    chmodSync(root, 0o755);
    const ids = execFileSync('id', ['-u', 'postgres']).toString().trim();
    const gid = execFileSync('id', ['-g', 'postgres']).toString().trim();
    chownSync(root, Number(ids), Number(gid));
  }
  // Run a server binary as the cluster's owner: `postgres` when we are root, else ourselves.
  const run = (bin: string, args: string[]) => execFileSync(asRoot ? 'runuser' : join(PG_BIN, bin),
    asRoot ? ['-u', 'postgres', '--', join(PG_BIN, bin), ...args] : args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: root });
  run('initdb', ['-D', dir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${root} -c fsync=off -c max_connections=100`;
  const ctlArgs = (args: string[]) => ['-D', dir, '-o', options, '-l', join(root, 'log'), '-w', '-t', '60', ...args];
  const ctl = (...args: string[]) => run('pg_ctl', ctlArgs(args));
  // Without blocking this process's event loop (tests keep sending requests meanwhile).
  const ctlAsync = async (...args: string[]) => {
    const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(PG_BIN, 'pg_ctl'), ...ctlArgs(args)]] : [join(PG_BIN, 'pg_ctl'), ctlArgs(args)];
    await promisify(execFile)(cmd as string, argv as string[], { cwd: root });
  };
  ctl('start');
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    async createDatabase(name) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`create database ${name}`);
      await c.end();
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async restart() { await ctlAsync('restart', '-m', 'fast'); },
    async stop() { await ctlAsync('stop', '-m', 'fast'); },
    async start() { await ctlAsync('start'); },
    async destroy() {
      try { ctl('stop', '-m', 'immediate'); } catch { /* not running */ }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

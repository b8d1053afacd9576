/**
 * `yiwang events …`: the operator's view of events a consumer group set aside after
 * EVENT_MAX_ATTEMPTS failures (kernel/events.ts, `<stream>.dead`), and their replay once the
 * cause is fixed. Replaying publishes the original event again under its own id: groups that
 * already processed it pass over it (their processed-event ledgers), the failed group runs it.
 *
 * Needs the platform's Redis (REDIS_URL, REDIS_PREFIX); the embedded set-up's in-process
 * substitute lives inside `npm start` and is not reachable from another process.
 */
import { parseArgs } from 'node:util';
import { openCache, type Cache } from './cache.ts';
import { DEAD_LETTER_FIELDS, attemptsKey, deadLetterStream } from './events.ts';
import { EXIT, type CliIo } from './cli.ts';

const STREAMS = ['cases', 'licences', 'items'];
const MAX = 10_000;

const HELP = `用法 / Usage:
  yiwang events dead <stream> [--json]              列出被搁置的事件 / list events set aside on <stream>.dead
  yiwang events replay <stream> (--id <事件ID> … | --all)
                                                    重新发布并移出死信流 / publish again and remove from <stream>.dead

<stream>: ${STREAMS.join(', ')}（或其他流名 / or another stream name）
环境变量 / Environment: REDIS_URL (必需 / required), REDIS_PREFIX (默认 / default yw:)
退出码 / Exit codes: 0 成功 / done, 1 没有匹配的事件 / no matching event, 2 用法或连接错误 / usage or connection error`;

/** `cache`: tests pass their own (the command then leaves it open); otherwise REDIS_URL is opened. */
export async function runEvents(argv: readonly string[], io: CliIo, given?: Cache): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv], allowPositionals: true,
      options: { id: { type: 'string', multiple: true }, all: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    io.err(`${(e as Error).message}\n\n${HELP}`);
    return EXIT.USAGE;
  }
  const { values, positionals } = parsed;
  if (values.help) { io.out(HELP); return EXIT.OK; }
  const [action, stream] = positionals;
  if ((action !== 'dead' && action !== 'replay') || !stream || positionals.length > 2 || !/^[a-z][a-z0-9._-]{0,63}$/.test(stream)) {
    io.err(HELP);
    return EXIT.USAGE;
  }
  if (action === 'replay' && !values.all && !values.id?.length) {
    io.err('请用 --id 指定事件或用 --all / name events with --id, or pass --all');
    return EXIT.USAGE;
  }
  let cache = given;
  if (!cache) {
    const url = io.env.REDIS_URL;
    if (!url) {
      io.err('需要 REDIS_URL（嵌入式替代品在 npm start 进程内，无法从外部访问）/ REDIS_URL is required (the embedded substitute lives inside `npm start`)');
      return EXIT.USAGE;
    }
    try {
      cache = await openCache({ url, prefix: io.env.REDIS_PREFIX ?? 'yw:' });
    } catch (e) {
      io.err(`无法连接 Redis / cannot reach Redis: ${(e as Error).message}`);
      return EXIT.USAGE;
    }
  }
  try {
    const dead = await cache.xRange(deadLetterStream(stream), MAX);
    if (action === 'dead') {
      const rows = dead.map((m) => ({ entry: m.id, id: m.fields.id, type: m.fields.type, group: m.fields.group, attempts: Number(m.fields.attempts), error: m.fields.error, failedAt: m.fields.failedAt }));
      if (values.json) io.out(JSON.stringify(rows, null, 2));
      else if (rows.length === 0) io.out(`${deadLetterStream(stream)}: 无 / empty`);
      else for (const r of rows) io.out(`${r.failedAt}  ${r.id}  ${r.type}  group=${r.group}  attempts=${r.attempts}  ${r.error}`);
      return EXIT.OK;
    }
    const wanted = values.all ? dead : dead.filter((m) => values.id!.includes(m.fields.id ?? ''));
    if (wanted.length === 0) {
      io.err('死信流中没有匹配的事件 / no matching event on the dead-letter stream');
      return EXIT.INVALID;
    }
    for (const m of wanted) {
      const original = Object.fromEntries(Object.entries(m.fields).filter(([k]) => !(DEAD_LETTER_FIELDS as readonly string[]).includes(k)));
      await cache.del(attemptsKey(m.fields.group ?? '', m.fields.id ?? ''));
      await cache.xAdd(stream, original);
      await cache.xDel(deadLetterStream(stream), m.id);
      io.out(`已重新发布 / replayed ${m.fields.id} (${m.fields.type}) → ${stream}`);
    }
    return EXIT.OK;
  } finally {
    if (!given) await cache.close();
  }
}

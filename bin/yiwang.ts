#!/usr/bin/env node
/**
 * `yiwang` command line. Each subcommand is a testable function (argv, io) → exit code living
 * beside its library; this file only dispatches. Exit codes: 0 success, 1 a negative verdict
 * (e.g. an invalid licence), 2 usage, set-up or internal error.
 */
import { processIo, EXIT, type CliIo } from '../kernel/cli.ts';
import { runSeal, runVerify } from '../seal/index.ts';
import { runEvents } from '../kernel/events-cli.ts';
import { runFederation } from '../federation/index.ts';
import { runItems } from '../subgraphs/item/import.ts';
import { runGateway } from '../gateway/cli.ts';

interface Command {
  summary: string;
  run(argv: readonly string[], io: CliIo): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  verify: { summary: '离线验证电子证照 / verify an electronic licence offline', run: runVerify },
  seal: { summary: '运行电子印章信任体系（根CA、省级CA、印章证书、吊销）/ run the seal trust hierarchy', run: runSeal },
  gateway: { summary: '以平台网关服务任一 Federation 2 超图 / serve any Federation 2 supergraph with the platform gateway', run: runGateway },
  events: { summary: '查看并重放被搁置的事件 / list and replay events set aside after repeated failures', run: runEvents },
  federation: { summary: '联邦实体：密钥轮换、登记下级、解析信任链 / federation entity: keys, subordinates, trust chains', run: (argv, io) => runFederation(argv, io) },
  items: { summary: '导入事项目录文件（JSON/CSV，全部或全不）/ import a catalogue file (JSON or CSV, all or nothing)', run: (argv, io) => runItems(argv, io) },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return [
    '用法 / Usage: yiwang <命令 command> [选项 options]',
    '',
    '一网政务服务平台命令行工具 / Yiwang government-services platform command line.',
    '',
    '命令 / Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    '`yiwang <命令 command> --help` 查看命令用法 / for a command\'s usage.',
  ].join('\n');
}

async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return EXIT.OK;
  }
  if (name === undefined) {
    io.err(usage());
    return EXIT.USAGE;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    io.err(`未知命令 / unknown command: ${name}\n`);
    io.err(usage());
    return EXIT.USAGE;
  }
  return command.run(rest, io);
}

const io = processIo();
try {
  process.exitCode = await main(process.argv.slice(2), io);
} catch (e) {
  // A fault, not a verdict: never let it look like exit 1 ("invalid").
  io.err(`内部错误 / internal error: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = EXIT.USAGE;
}

/**
 * What a command of the `yiwang` command line may touch, passed in so tests run commands as
 * plain functions, and the exit codes every command shares (0 success, 1 a negative verdict,
 * 2 usage, set-up or internal error). The seal commands (seal/) and the events command
 * (kernel/events-cli.ts) both use it, so it lives in the kernel.
 */
export interface CliIo {
  /** Write one line to standard output. */
  out(line: string): void;
  /** Write one line to standard error. */
  err(line: string): void;
  env: Record<string, string | undefined>;
  /** Directory relative paths are resolved against. */
  cwd: string;
  /** Clock for judging validity; the system clock when absent. */
  now?: () => Date;
  /** HTTP client for --online; global fetch when absent. */
  fetch?: typeof fetch;
}

/** Exit codes of every yiwang command (docs/architecture.md: CLI exit codes carry the outcome). */
export const EXIT = { OK: 0, INVALID: 1, USAGE: 2 } as const;

/** An io bound to the running process. */
export function processIo(): CliIo {
  return {
    out: (line) => void process.stdout.write(`${line}\n`),
    err: (line) => void process.stderr.write(`${line}\n`),
    env: process.env,
    cwd: process.cwd(),
  };
}

/** The command line's io and exit codes, shared with the kernel's commands (kernel/cli.ts). */
export { EXIT, processIo, type CliIo } from '../../kernel/cli.ts';

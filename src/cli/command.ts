/**
 * The contract every CLI command implements. One command per file under `src/commands/`,
 * at a path that mirrors the command (`state list` → `src/commands/state/list.ts`).
 *
 * A command receives its own arguments (after the command words) and a typed context; it returns
 * the process exit code. It never calls `process.exit` and never reads globals: everything it
 * needs from the process comes through `CommandContext`, so tests can run it in-process.
 */
import type { Readable, Writable } from 'node:stream';
import type { Components } from '../components.js';

export interface CommandContext {
  /** Where normal output goes (stdout). */
  stdout: Writable;
  /** Where diagnostics, warnings and errors go (stderr). */
  stderr: Writable;
  stdin: Readable;
  /** True when stdin is an interactive terminal (questions may be asked). */
  stdinIsTTY: boolean;
  /** True when stdout is a terminal (colour is allowed unless disabled). */
  stdoutIsTTY: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted on SIGINT/SIGTERM. Long-running commands stop their work and clean up. */
  signal: AbortSignal;
  /** The components this run may use; default: the native ones (nativeComponents()). Tests pass
   * their own (a test builder), and plugin discovery adds to them. */
  components?: Components;
}

export interface Command {
  /** The words that name the command, e.g. ['state', 'list']. */
  name: readonly string[];
  /** One line for the command list. */
  synopsis: string;
  /** Full usage text printed by `-h` and on a usage error. */
  usage: string;
  run(args: readonly string[], ctx: CommandContext): Promise<number>;
}

/**
 * An entry of the command table (src/cli/commands.ts): the words and synopsis of a command and a
 * loader for it, so that starting builder imports only the command that runs (and its
 * dependencies), not every command's. `load` resolves to the command whose `name` and `synopsis`
 * are the entry's (a test checks they agree).
 */
export interface CommandEntry {
  name: readonly string[];
  synopsis: string;
  load(): Promise<Command>;
}

/**
 * A command that only groups subcommands (`state`, `workspace`): it prints its usage — on stdout
 * with exit 0 when asked for help, else on stderr (after naming an unknown subcommand) with exit 1.
 */
export function commandGroup(name: string, synopsis: string, usage: string): Command {
  return {
    name: [name],
    synopsis,
    usage,
    async run(args, ctx) {
      if (args.length === 1 && /^--?h(elp)?$/.test(args[0]!)) {
        ctx.stdout.write(`${usage}\n`);
        return 0;
      }
      if (args.length > 0 && !args[0]!.startsWith('-')) ctx.stderr.write(`builder ${name}: unknown subcommand "${args[0]!}"\n\n`);
      ctx.stderr.write(`${usage}\n`);
      return 1;
    },
  };
}

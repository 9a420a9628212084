#!/usr/bin/env node
/**
 * builder's entry point: picks the command, runs it with the process's streams, and turns every
 * error into one clear message and an exit code (see src/errors.ts): a user error ends with its
 * stable code, e.g. `[BLD0101]`. Only internal errors may
 * show a stack trace, and only with BUILDER_LOG=1 or PACKER_LOG=1.
 */
import type { Command, CommandContext, CommandEntry } from './command.js';
import { commands } from './commands.js';
import { errorNumber, UsageError, UserError, userSystemError } from '../errors.js';
import { HelpRequested } from './flags.js';
import { BUILDER_VERSION } from '../version.js';
import { closeLog, configureLog, formatArgv, log } from '../log.js';
import { closest, distance } from 'fastest-levenshtein';
import { isatty } from 'node:tty';
import { pathToFileURL } from 'node:url';

export function findCommand(argv: readonly string[]): { command: CommandEntry; rest: readonly string[] } | undefined {
  let best: CommandEntry | undefined;
  for (const c of commands) {
    if (c.name.every((w, i) => argv[i] === w) && (!best || c.name.length > best.name.length)) best = c;
  }
  return best ? { command: best, rest: argv.slice(best.name.length) } : undefined;
}

export function mainUsage(): string {
  const width = Math.max(...commands.map((c) => c.name.join(' ').length));
  const lines = commands.map((c) => `    ${c.name.join(' ').padEnd(width)}    ${c.synopsis}`);
  return `Usage: builder [--version] [--help] <command> [<args>]\n\nAvailable commands are:\n${lines.join('\n')}\n\nRun "builder help COMMAND" (or "builder COMMAND -h") for a command's options.\n`;
}

/** Packer's (mitchellh/cli's) exit status for a missing or unknown command. */
export const UNKNOWN_COMMAND_STATUS = 127;

/** "Did you mean …?" for a mistyped command word: the closest command within two edits. */
export function suggestCommand(word: string): string | undefined {
  const names = [...new Set([...commands.map((c) => c.name[0]!), 'help'])];
  const best = closest(word, names);
  return distance(word, best) <= 2 && distance(word, best) < word.length ? best : undefined;
}

function unknownCommand(words: readonly string[], ctx: CommandContext): number {
  const suggestion = suggestCommand(words[0]!);
  ctx.stderr.write(`builder: unknown command "${words.join(' ')}"${suggestion ? `. Did you mean "${suggestion}"?` : ''}\n\n${mainUsage()}`);
  return UNKNOWN_COMMAND_STATUS;
}

/** `builder help [COMMAND...]`: the main usage, or the usage of the named command, on stdout. */
async function help(words: readonly string[], ctx: CommandContext): Promise<number> {
  if (words.length === 0) {
    ctx.stdout.write(mainUsage());
    return 0;
  }
  const found = findCommand(words);
  if (!found || found.rest.length > 0) return unknownCommand(words, ctx);
  ctx.stdout.write(`${(await found.command.load()).usage}\n`);
  return 0;
}

/** Runs one command line; returns the exit code. Never throws. */
export async function runCli(argv: readonly string[], ctx: CommandContext): Promise<number> {
  if (argv.length === 0) {
    ctx.stdout.write(mainUsage());
    return UNKNOWN_COMMAND_STATUS;
  }
  if (argv[0] === '-h' || argv[0] === '--help' || argv[0] === '-help') {
    ctx.stdout.write(mainUsage());
    return 0;
  }
  // One line with the version, what scripts parse (as `packer -version`).
  if (argv[0] === '--version' || argv[0] === '-version' || argv[0] === '-v') {
    ctx.stdout.write(`${BUILDER_VERSION}\n`);
    return 0;
  }
  if (argv[0] === 'help') return help(argv.slice(1), ctx);
  // Packer takes -machine-readable before the command too (`packer -machine-readable version`).
  const machineReadable = argv[0] === '-machine-readable' || argv[0] === '--machine-readable';
  const found = findCommand(machineReadable ? argv.slice(1) : argv);
  if (!found) return unknownCommand(machineReadable ? argv.slice(1) : argv, ctx);
  const rest = machineReadable ? ['-machine-readable', ...found.rest] : found.rest;
  let command: Command | undefined;
  configureLog(ctx.env, ctx.stderr);
  if (log.on) {
    log.info('builder', `builder version: ${BUILDER_VERSION} [node ${process.version} ${process.platform} ${process.arch}]`);
    log.info('builder', `command: ${formatArgv(['builder', ...hideVarValues(argv)])} (in ${ctx.cwd})`);
  }
  try {
    command = await found.command.load();
    const code = await command.run(rest, ctx);
    if (log.on) log.info('builder', `${found.command.name.join(' ')} exited with status ${code}`);
    return code;
  } catch (err) {
    const code = reportError(err, command, ctx);
    if (log.on) log.info('builder', `${found.command.name.join(' ')} exited with status ${code}: ${err instanceof Error ? err.message : String(err)}`);
    return code;
  } finally {
    closeLog();
  }
}

/** The command line as the log shows it: the values of `-var NAME=VALUE` are not known yet to be
 * sensitive or not, so they are never logged (`-var NAME=…`). */
export function hideVarValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const inline = /^(--?var=)([^=]*)=/.exec(a);
    if (inline) out.push(`${inline[1]}${inline[2]}=…`);
    else if ((a === '-var' || a === '--var') && i + 1 < argv.length) out.push(a, `${argv[++i]!.split('=')[0]}=…`);
    else out.push(a);
  }
  return out;
}

export function reportError(err: unknown, command: Command | undefined, ctx: CommandContext): number {
  if (err instanceof HelpRequested) {
    if (command) ctx.stdout.write(`${command.usage}\n`);
    return 0;
  }
  if (err instanceof UsageError) {
    if (err.message) ctx.stderr.write(`${err.message}\n\n`);
    if (command) ctx.stderr.write(`${command.usage}\n`);
    return err.message ? 1 : 0;
  }
  // A system error about a path that reached the top (a command that did not translate it) is
  // still the user's to fix, not a bug: say which path and what to check.
  const path = (err as NodeJS.ErrnoException | undefined)?.path;
  if (!(err instanceof UserError) && typeof path === 'string') {
    err = userSystemError(err, 'use', path, 'Check the path and its permissions, then run the command again.');
  }
  if (err instanceof UserError) {
    ctx.stderr.write(`Error: ${err.message}\n[${errorNumber(err.code)}]\n`);
    return err.exitCode;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  ctx.stderr.write(
    `Internal error: ${e.message}\n\nThis is a bug in builder. Please report it with the command you ran` +
      ` and the output of the same command with BUILDER_LOG=1 set.\n`,
  );
  if (ctx.env.BUILDER_LOG || ctx.env.PACKER_LOG) ctx.stderr.write(`${e.stack ?? ''}\n`);
  return 1;
}

/** Builds the context of the real process: its streams, environment, and a signal for SIGINT/SIGTERM. */
export function processContext(): CommandContext {
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (ac.signal.aborted) return;
    ac.abort(new Error(`received ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A reader that went away (`builder build … | head`) must not crash the run: the rest of the
  // output is dropped and the build goes on, so its state stays consistent.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    // process.stdin is created on first access (a stream, and the stream modules it loads): only
    // the commands that read it pay for it.
    get stdin() {
      return process.stdin;
    },
    stdinIsTTY: isatty(0),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    env: process.env,
    cwd: process.cwd(),
    signal: ac.signal,
  };
}

/**
 * Runs the CLI on this process's arguments and exits with its code (the executable's body).
 * The process exits as soon as the command has finished and its output is written — a command
 * leaves nothing running that matters (locks released, files written, child processes waited
 * for) — which spares the heap's teardown (5–10 ms of a 90 ms build).
 */
export function main(): void {
  runCli(process.argv.slice(2), processContext()).then(
    (code) => exitWhenWritten(code),
    (err: unknown) => {
      process.stderr.write(`Internal error: ${String(err)}\n`);
      exitWhenWritten(1);
    },
  );
}

/** Exits once stdout and stderr hold nothing unwritten: on Linux their writes are synchronous
 * (nothing waits), but pipes are asynchronous on macOS, where exiting at once could cut the
 * output short. */
function exitWhenWritten(code: number): void {
  const streams = [process.stdout, process.stderr].filter((s) => s.writableLength > 0 && !s.destroyed);
  if (streams.length === 0) process.exit(code);
  let left = streams.length;
  for (const s of streams) s.write('', () => --left === 0 && process.exit(code));
}

// Run when this file is the program (`node dist/src/cli/main.js …`, as tests do); the installed
// executable is bin/builder.cjs, which runs the bundle of src/cli/bin.ts.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();

/**
 * Helpers to run builder from tests: in-process through `runCli` (fast; for tables of cases) and
 * as a real process (for what a user sees: exit codes, streams, no stack traces): the program of
 * test/helpers/builder-cli.ts — bin/builder.cjs after `npm run build`.
 */
import { spawn } from 'node:child_process';
import { PassThrough, Readable } from 'node:stream';
import type { CommandContext } from '../../src/cli/command.js';
import type { Components } from '../../src/components.js';
import { runCli } from '../../src/cli/main.js';
import { BUILDER_JS } from '../helpers/builder-cli.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export { BUILDER_JS } from '../helpers/builder-cli.js';

/** Runs `builder ARGS` in-process with the given cwd, environment and stdin text; `terminal`
 * makes stdin look like a terminal, so commands may ask questions (answered by `stdin`). */
export async function runInProcess(
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; stdin?: string; terminal?: boolean; components?: Components },
): Promise<RunResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const ctx: CommandContext = {
    stdout,
    stderr,
    stdin: Readable.from(options.stdin === undefined ? [] : [options.stdin]),
    stdinIsTTY: options.terminal ?? false,
    stdoutIsTTY: false,
    env: options.env ?? {},
    cwd: options.cwd,
    signal: new AbortController().signal,
    components: options.components,
  };
  const code = await runCli(args, ctx);
  await new Promise((r) => setImmediate(r));
  return { code, stdout: out, stderr: err };
}

/** Runs `node BUILDER_JS ARGS` as a process. */
export async function runProcess(args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; stdin?: string }): Promise<RunResult> {
  const child = spawn(process.execPath, [BUILDER_JS, ...args], { cwd: options.cwd, env: { PATH: process.env.PATH, ...options.env } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdin.end(options.stdin ?? '');
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? 1));
  });
  return { code, stdout, stderr };
}

/** Runs the builder CLI as a child process (the way users run it) for end-to-end tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILDER_JS } from '../helpers/builder-cli.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The builder program (bin/builder.cjs after `npm run build`; see test/helpers/builder-cli.ts). */
export const cliPath = BUILDER_JS;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function startCli(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [cliPath, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const done = new Promise<CliResult>((res, rej) => {
    child.on('error', rej);
    child.on('close', (code) => res({ code: code ?? 1, stdout, stderr }));
  });
  return { child, done };
}

export function runCli(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return startCli(args, cwd, env).done;
}

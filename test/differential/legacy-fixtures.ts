/**
 * The legacy JSON fixtures under test/fixtures/legacy/: each folder holds a `template.json`, an
 * optional `fixture.json` (build flags, expectations) and the var files it names.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FixtureOptions } from './harness.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const LEGACY_FIXTURES = join(repo, 'test/fixtures/legacy');

export interface LegacyFixtureOptions extends FixtureOptions {
  /** The template fails to load: compare exit codes only. */
  exitCodeOnly?: boolean;
}

export function legacyFixtures(): { name: string; dir: string; opts: LegacyFixtureOptions }[] {
  return readdirSync(LEGACY_FIXTURES)
    .sort()
    .map((name) => {
      const dir = join(LEGACY_FIXTURES, name);
      const optsFile = join(dir, 'fixture.json');
      const opts = existsSync(optsFile) ? (JSON.parse(readFileSync(optsFile, 'utf8')) as LegacyFixtureOptions) : {};
      return { name, dir, opts };
    });
}

/** The fixture's build flags that also mean something to validate, inspect and console. */
export function templateFlags(args: readonly string[], withFilters: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const name = /^--?([\w-]+)/.exec(a)?.[1] ?? '';
    const ok = name === 'var' || name === 'var-file' || (withFilters && (name === 'only' || name === 'except'));
    const takesNext = !a.includes('=') && (name === 'var' || name === 'var-file' || name === 'only' || name === 'except');
    if (ok) out.push(a, ...(takesNext ? [args[i + 1]!] : []));
    if (takesNext) i++;
  }
  return out;
}

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd`; stdin is a socket with `input`, or with `fifo` a named pipe (through `sh -c '… | cmd'`:
 * Packer's console reads the two differently). */
export function run(cmd: string, args: readonly string[], cwd: string, input = '', fifo = false): Promise<Ran> {
  return new Promise((resolveP, reject) => {
    const env = { ...process.env, CHECKPOINT_DISABLE: '1', NO_COLOR: '1', CONSOLE_INPUT: input };
    const [file, argv] = fifo ? ['sh', ['-c', 'printf "%s" "$CONSOLE_INPUT" | "$@"', 'sh', cmd, ...args]] : [cmd, args];
    const child = spawn(file, argv, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolveP({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

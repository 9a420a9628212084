/**
 * Runs one template through Packer 1.6.6 and through builder, each in its own copy of the
 * fixture folder, and reduces what each produced to comparable facts:
 * - per build, the sequence of its output lines (steps, step output, post-processor output, the
 *   "Build '…' finished/errored" line and its artifact lines);
 * - the run-level lines (Wait completed, the summaries), in order;
 * - the exit code;
 * - the files left in the folder, with JSON manifests and checksum files by content.
 * Temp-script names, durations, timestamps and UUIDs are normalised. What builder adds because of
 * its state is left out of builder's side: the lines "==> BUILD: …" listed in
 * src/stateful/messages.ts (the plan of each build, kept instances) and the state folder
 * `.packer.d/`.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { isStateEvent } from '../../src/stateful/messages.js';

import { BUILDER_JS } from '../helpers/builder-cli.js';

export const PACKER = '/usr/bin/packer';
export const packerAvailable = existsSync(PACKER);

/** The builder program (bin/builder.cjs after `npm run build`; see test/helpers/builder-cli.ts). */
export const builderCli = BUILDER_JS;

export interface FixtureOptions {
  /** Extra flags for `build`, before the template. */
  args?: string[];
  /** The error texts differ on purpose (builder names the timeout); compare everything else. */
  ignoreErrorText?: boolean;
}

export interface RunFacts {
  exitCode: number;
  builds: Record<string, string[]>;
  run: string[];
  files: Record<string, string>;
  raw: string;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

export function normalise(line: string, ignoreErrorText = false): string {
  let l = line
    .replace(/^\d{9,},/, 'EPOCH,')
    // Packer compresses with pgzip on every core, builder with zlib on one, and each says so.
    .replace(/Using p?gzip compression with \d+ cores? for /, 'Using gzip compression for ')
    .replace(/^(.*(?:Tarring|Archiving) .* with )p?gzip$/, '$1gzip')
    .replace(/\/tmp\/(?:builder-scripts-[\w-]+\/)?packer-shell\d+(\.\w+)?/g, '/tmp/packer-shell#')
    .replace(/\/tmp\/diff-(packer|builder)-\w+/g, 'FIXTURE')
    .replace(UUID, 'UUID')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)/g, 'TIME')
    .replace(/(finished|errored|completed) after [^.:]*?(?=[.:]|$)/, '$1 after D');
  if (ignoreErrorText) l = l.replace(/^(Build '[^']+' errored after D): .*$/, '$1: E').replace(/^(--> [^:]+): (Error executing script|Timeout).*$/, '$1: E');
  return l;
}

/** The state folder builder writes next to the template (src/state/location.ts). */
const STATE_DIR = '.packer.d';

/** The build a line belongs to, if any. */
function targetOf(line: string): string | undefined {
  const m = /^(?:\S+: )?(?:==>| {3}) ([^\s:(]+)(?: \([^)]*\))?:/.exec(line) ?? /^Build '([^']+)'/.exec(line) ?? /^--> ([^\s:]+):/.exec(line);
  return m?.[1];
}

/** What follows "==> BUILD: " in a line (after an optional timestamp, or a machine-readable
 * "TIME,,ui,say," record prefix, with its escaped leading newline), or '' for other lines. */
function stateEventText(line: string): string {
  return /^(?:\S+: |[^,]*,,ui,say,(?:\\n)?)?==> [^\s:]+: (.*)$/.exec(line)?.[1] ?? '';
}

/** `dropStateEvents`: leave out builder's state lines ("==> BUILD: Up to date: …", src/stateful/messages.ts). */
export function factsOf(stdout: string, exitCode: number, ignoreErrorText: boolean, dropStateEvents = false): Omit<RunFacts, 'files'> {
  const builds: Record<string, string[]> = {};
  const run: string[] = [];
  for (const rawLine of stdout.split('\n')) {
    const line = normalise(rawLine, ignoreErrorText);
    if (line.trim() === '') continue;
    if (ignoreErrorText && line === 'Please see output above for more information.') continue;
    // Packer prints this from a goroutine that races the provisioner's own error: sometimes.
    if (ignoreErrorText && line.endsWith(': Cancelling provisioner after a timeout...')) continue;
    if (dropStateEvents && isStateEvent(stateEventText(line))) continue;
    const t = targetOf(line);
    if (t && !line.startsWith('==> Wait') && !line.startsWith('==> Builds') && !line.startsWith('==> Some')) (builds[t] ??= []).push(line);
    else run.push(line);
  }
  return { exitCode, builds, run, raw: stdout };
}

/** Files left in the folder: JSON manifests (times and UUIDs blanked) and checksums by content. */
async function filesOf(dir: string, skip: ReadonlySet<string>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const name of (await readdir(d)).sort()) {
      const p = join(d, name);
      const rel = relative(dir, p);
      if (skip.has(rel)) continue;
      const st = await stat(p);
      if (st.isDirectory()) {
        await walk(p);
        continue;
      }
      if (name.endsWith('.json')) {
        // Archive sizes depend on the compressor's implementation, not on what was archived.
        out[rel] = (await readFile(p, 'utf8'))
          .replace(/"build_time": \d+/g, '"build_time": T')
          .replace(UUID, 'UUID')
          .replace(/("name": "[^"]*\.(?:zip|gz|tgz|tar|br)",\s*"size": )\d+/g, '$1N');
      } else if (name.endsWith('.checksum') || name.endsWith('.txt') || name.endsWith('.log')) {
        out[rel] = (await readFile(p, 'utf8')).replace(UUID, 'UUID').replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)/g, 'TIME');
      } else out[rel] = `(${st.size > 0 ? 'non-empty' : 'empty'} file)`;
    }
  };
  await walk(dir);
  return out;
}

function runProcess(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string }> {
  return new Promise((resolveP, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.on('error', reject);
    child.on('close', (code) => resolveP({ code: code ?? 1, stdout }));
  });
}

/** Copies the fixture folder (or a single template) into a fresh temp folder. */
async function stage(source: string, template: string, forPacker: boolean): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), forPacker ? 'diff-packer-' : 'diff-builder-'));
  if ((await stat(source)).isDirectory()) await cp(source, dir, { recursive: true });
  else await cp(source, join(dir, template));
  if (forPacker) {
    const p = join(dir, template);
    await writeFile(p, (await readFile(p, 'utf8')).replace(/required_version\s*=\s*"[^"]*"/g, 'required_version = ">= 1.6.0"'));
  }
  return dir;
}

export interface Comparison {
  packer: RunFacts;
  builder: RunFacts;
}

/** Runs `template` (inside the folder `source`, or the file `source` itself) through both tools. */
export async function runBoth(source: string, template: string, opts: FixtureOptions): Promise<Comparison> {
  const args = ['build', '-color=false', ...(opts.args ?? [])];
  if (!args.some((a) => a.startsWith('-parallel-builds'))) args.push('-parallel-builds=1');
  args.push(template);
  const env = { ...process.env, CHECKPOINT_DISABLE: '1', NO_COLOR: '1' };
  const [pdir, bdir] = await Promise.all([stage(source, template, true), stage(source, template, false)]);
  try {
    const [p, b] = await Promise.all([runProcess(PACKER, args, pdir, env), runProcess(process.execPath, [builderCli, ...args], bdir, env)]);
    const skip = new Set([template, 'fixture.json']);
    const ignore = opts.ignoreErrorText ?? false;
    return {
      packer: { ...factsOf(p.stdout, p.code, ignore), files: await filesOf(pdir, skip) },
      builder: { ...factsOf(b.stdout, b.code, ignore, true), files: await filesOf(bdir, new Set([...skip, STATE_DIR])) },
    };
  } finally {
    await Promise.all([rm(pdir, { recursive: true, force: true }), rm(bdir, { recursive: true, force: true })]);
  }
}

/**
 * CLI conventions Packer and Terraform users rely on: `builder help [COMMAND]`, `-h` / `--help`
 * on every command (usage on stdout, exit 0), an unknown command exiting 127 with "Did you mean",
 * a flag given after TEMPLATE explained, `-version` on one line, `version -machine-readable` in
 * Packer's format; and every command's usage lists exactly the flags the command parses, once
 * each, with aligned descriptions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import type { Command, CommandContext } from '../../src/cli/command.js';
import { commands } from '../../src/cli/commands.js';
import { HelpRequested } from '../../src/cli/flags.js';
import { BUILDER_VERSION } from '../../src/version.js';
import { runInProcess } from './run.js';
import { FIXTURES } from '../template/corpus.js';

/** The flags a command parses: what its first parseFlags call reports when asked for help. */
async function parsedFlags(command: Command): Promise<string[]> {
  const ctx: CommandContext = {
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    stdin: Readable.from([]),
    stdinIsTTY: false,
    stdoutIsTTY: false,
    env: {},
    cwd: FIXTURES,
    signal: new AbortController().signal,
  };
  try {
    await command.run(['-h'], ctx);
  } catch (err) {
    if (err instanceof HelpRequested) return [...err.flagNames];
    throw err;
  }
  return [];
}

/** The flag lines of a usage text: "  -name…" (two spaces, a dash) and the lines after each. */
function flagLines(usage: string): { name: string; line: string; next?: string }[] {
  const lines = usage.split('\n');
  return lines.flatMap((line, i) => {
    const m = /^ {2}-{1,2}([a-zA-Z][\w-]*)/.exec(line);
    return m ? [{ name: m[1]!, line, next: lines[i + 1] }] : [];
  });
}

/** Where the description of a flag line starts (after a run of two or more spaces), or, for a
 * flag too long to share its line, where the next line's text starts. */
function descriptionColumn(f: { line: string; next?: string }): number {
  const m = /^ {2}-\S+(?: \S+)*? {2,}(?=\S)/.exec(f.line);
  return m ? m[0].length : (f.next ?? '').search(/\S/);
}

for (const entry of commands) {
  const key = entry.name.join(' ');
  test(`${key}: -h lists exactly the flags it parses, once each, aligned`, async () => {
    const command = await entry.load();
    const parsed = (await parsedFlags(command)).sort();
    const listed = flagLines(command.usage).map((f) => f.name);
    assert.deepEqual([...new Set(listed)].sort(), listed.slice().sort(), `a flag is listed twice: ${listed.join(', ')}`);
    assert.deepEqual(listed.slice().sort(), parsed, 'listed flags differ from parsed flags');
    const columns = new Set(flagLines(command.usage).map(descriptionColumn));
    assert.equal(columns.size <= 1, true, `descriptions start at different columns:\n${command.usage}`);
  });
}

test('-h, -help and --help print the command usage on stdout and exit 0, before or after arguments', async () => {
  for (const args of [['validate', '-h'], ['validate', '--help'], ['inspect', '-help'], ['validate', 'x.pkr.hcl', '-h'], ['fmt', '-h']]) {
    const r = await runInProcess(args, { cwd: FIXTURES });
    assert.equal(r.code, 0, args.join(' '));
    assert.equal(r.stderr, '', args.join(' '));
    assert.match(r.stdout, new RegExp(`^Usage: builder ${args[0]} `), args.join(' '));
  }
});

test('builder help, builder help COMMAND, builder -h', async () => {
  const main = await runInProcess(['help'], { cwd: FIXTURES });
  assert.equal(main.code, 0);
  assert.match(main.stdout, /^Usage: builder \[--version\] \[--help\] <command>/);
  for (const entry of commands) assert.ok(main.stdout.includes(`    ${entry.name.join(' ')} `), entry.name.join(' '));
  const one = await runInProcess(['help', 'state', 'list'], { cwd: FIXTURES });
  assert.equal(one.code, 0);
  assert.match(one.stdout, /^Usage: builder state list/);
  const dash = await runInProcess(['-h'], { cwd: FIXTURES });
  assert.equal(dash.stdout, main.stdout);
  const bad = await runInProcess(['help', 'nope'], { cwd: FIXTURES });
  assert.equal(bad.code, 127);
});

test('an unknown command exits 127, suggests the closest command, and lists the commands', async () => {
  const r = await runInProcess(['buidl', 'x.pkr.hcl'], { cwd: FIXTURES });
  assert.equal(r.code, 127);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^builder: unknown command "buidl x.pkr.hcl"\. Did you mean "build"\?\n/);
  assert.match(r.stderr, /Available commands are:/);
  const far = await runInProcess(['zzzzzz'], { cwd: FIXTURES });
  assert.equal(far.code, 127);
  assert.doesNotMatch(far.stderr, /Did you mean/);
  const none = await runInProcess([], { cwd: FIXTURES });
  assert.equal(none.code, 127);
  assert.match(none.stdout, /^Usage: builder/);
});

test('a flag after TEMPLATE is explained: flags come first', async () => {
  const r = await runInProcess(['validate', 'minimal-null.pkr.hcl', '-syntax-only'], { cwd: FIXTURES });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^The flag -syntax-only comes after "minimal-null\.pkr\.hcl": flags must come before the other arguments/);
  const v = await runInProcess(['inspect', 'minimal-null.pkr.hcl', '-var=a=b'], { cwd: FIXTURES });
  assert.match(v.stderr, /^The flag -var=a=b comes after/);
  // After `--` everything is an argument.
  const dd = await runInProcess(['validate', '--', 'minimal-null.pkr.hcl'], { cwd: FIXTURES });
  assert.equal(dd.code, 0, dd.stderr);
});

test('-version and --version print the version alone on one line; version adds detail', async () => {
  for (const flag of ['-version', '--version', '-v']) {
    const r = await runInProcess([flag], { cwd: FIXTURES });
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${BUILDER_VERSION}\n`);
  }
  const v = await runInProcess(['version'], { cwd: FIXTURES });
  assert.equal(v.stdout.split('\n')[0], `builder v${BUILDER_VERSION}`);
});

test('version -machine-readable prints the lines packer version -machine-readable prints', async () => {
  for (const args of [['version', '-machine-readable'], ['-machine-readable', 'version']]) {
    const r = await runInProcess(args, { cwd: FIXTURES });
    assert.equal(r.code, 0);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 4);
    const t = lines[0]!.split(',')[0]!;
    assert.match(t, /^\d{10}$/);
    assert.deepEqual(
      lines.map((l) => l.slice(t.length)),
      [`,,version,${BUILDER_VERSION}`, ',,version-prelease,', ',,version-commit,', `,,ui,say,builder v${BUILDER_VERSION}`],
    );
  }
});

/**
 * `builder fmt` against `packer fmt` (Packer 1.6.6): the same bytes for every file of the fmt
 * corpus (test/fixtures/fmt, deliberately badly formatted; Packer's output is recorded under
 * test/fixtures/fmt/expected) and for every template of examples/ and test/fixtures/; the same
 * files refused for syntax errors; the same files reported as changed; a `-diff` that turns each
 * file into Packer's output; and the same for random whitespace mutations of the corpus.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyPatch, parsePatch } from 'diff';
import { formatSource } from '../../src/hcl/format.js';
import { runCli } from '../../src/cli/main.js';
import type { CommandContext } from '../../src/cli/command.js';
import { PassThrough, Readable } from 'node:stream';
import { packerBinary, packerSkipReason } from '../helpers/packer.js';

const CORPUS = 'test/fixtures/fmt';
const EXPECTED = join(CORPUS, 'expected');

function isTemplateFile(name: string): boolean {
  return name.endsWith('.pkr.hcl') || name.endsWith('.pkrvars.hcl');
}

function corpusFiles(): string[] {
  return readdirSync(CORPUS).filter(isTemplateFile).sort();
}

function templatesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (p !== CORPUS) out.push(...templatesUnder(p));
    } else if (isTemplateFile(name)) out.push(p);
  }
  return out;
}

/** Runs `builder ARGS` in-process in `cwd`; returns exit code and output. */
async function builder(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const ctx: CommandContext = {
    stdout,
    stderr,
    stdin: Readable.from([]),
    stdinIsTTY: false,
    stdoutIsTTY: false,
    env: {},
    cwd,
    signal: new AbortController().signal,
  };
  const code = await runCli(args, ctx);
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

function packer(args: string[], cwd: string): { code: number; stdout: string; stderr: string } {
  const home = mkdtempSync(join(tmpdir(), 'builder-packer-home-'));
  try {
    const r = spawnSync(packerBinary()!, args, {
      cwd,
      encoding: 'utf8',
      timeout: 60_000,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, PACKER_CONFIG_DIR: home, CHECKPOINT_DISABLE: '1' },
    });
    return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** A temp folder holding `files` (copied flat, under the given names), removed by `done`. */
function tempCopy(files: Map<string, string>): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'builder-fmt-'));
  for (const [name, from] of files) copyFileSync(from, join(dir, name));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A temp folder holding files with the given contents, removed by `done`. */
function tempWrite(files: Map<string, string>): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'builder-fmt-'));
  for (const [name, text] of files) writeFileSync(join(dir, name), text);
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The file names `fmt` printed as changed (the lines that are not part of a diff). */
function reportedNames(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '' && !/^([-+ @\\]|---|\+\+\+)/.test(l))
    .map((l) => l.replace(/^.*\//, ''))
    .sort();
}

test('fmt corpus: at least 30 badly formatted inputs, each with Packer\'s output recorded', () => {
  const files = corpusFiles();
  assert.ok(files.length >= 30, `only ${files.length} corpus files`);
  for (const name of files) {
    assert.ok(statSync(join(EXPECTED, name)).isFile(), `no recorded Packer output for ${name}`);
  }
});

test('fmt corpus: formatSource writes what packer fmt 1.6.6 wrote (recorded)', () => {
  for (const name of corpusFiles()) {
    const { output, diagnostics } = formatSource(readFileSync(join(CORPUS, name), 'utf8'), name);
    assert.deepEqual(diagnostics, [], `${name} has diagnostics`);
    assert.equal(output, readFileSync(join(EXPECTED, name), 'utf8'), `${name} differs from Packer's output`);
  }
});

test('fmt corpus: builder fmt and packer fmt write the same bytes and report the same files', { skip: packerSkipReason() }, async () => {
  const names = corpusFiles();
  const files = new Map(names.map((n) => [n, join(CORPUS, n)]));
  const p = tempCopy(files);
  const b = tempCopy(files);
  try {
    const pr = packer(['fmt', '.'], p.dir);
    const br = await builder(['fmt', '.'], b.dir);
    assert.equal(pr.code, 0, pr.stderr);
    assert.equal(br.code, 0, br.stderr);
    assert.deepEqual(reportedNames(br.stdout), reportedNames(pr.stdout));
    for (const name of names) {
      const packerOut = readFileSync(join(p.dir, name), 'utf8');
      assert.equal(readFileSync(join(b.dir, name), 'utf8'), packerOut, `${name}: builder fmt differs from packer fmt`);
      assert.equal(readFileSync(join(EXPECTED, name), 'utf8'), packerOut, `${name}: recorded output is stale`);
    }
  } finally {
    p.done();
    b.done();
  }
});

test('every template of examples/ and test/fixtures/: same bytes as packer fmt, same files refused', { skip: packerSkipReason() }, async () => {
  const sources = [...templatesUnder('examples'), ...templatesUnder('test/fixtures')];
  // Flat copies with names that keep their origin and their extension.
  const files = new Map(sources.map((s) => [s.replace(/[/\\]/g, '__'), s]));
  const p = tempCopy(files);
  const b = tempCopy(files);
  try {
    const pr = packer(['fmt', '.'], p.dir);
    const br = await builder(['fmt', '.'], b.dir);
    for (const [name, from] of files) {
      // Packer 1.6.6 prints its errors on stdout; builder prints diagnostics on stderr.
      const refusedByPacker = (pr.stdout + pr.stderr).includes(`formatting ${name}`);
      const refusedByBuilder = br.stderr.includes(`on ${name} line`);
      assert.equal(refusedByBuilder, refusedByPacker, `${from}: packer ${refusedByPacker ? 'refuses' : 'formats'} it, builder does not agree`);
      assert.equal(readFileSync(join(b.dir, name), 'utf8'), readFileSync(join(p.dir, name), 'utf8'), `${from}: builder fmt differs from packer fmt`);
    }
    assert.equal(br.code, pr.code);
  } finally {
    p.done();
    b.done();
  }
});

/** A deterministic pseudo-random generator (a linear congruential one), so failures reproduce. */
function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

/** `count` variants of the corpus with whitespace, newlines and comments inserted or removed at
 * random places: some stay valid (and must format as Packer formats them), some do not (and
 * must be refused as Packer refuses them). */
function whitespaceMutants(count: number, seed: number): Map<string, string> {
  const random = lcg(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const sources = corpusFiles().map((n) => readFileSync(join(CORPUS, n), 'utf8'));
  const inserts = [' ', '  ', '\t', '\n', ' # c\n', ' /* b */ ', '\n\n', '    '];
  const out = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    let text = pick(sources);
    const edits = 1 + Math.floor(random() * 8);
    for (let k = 0; k < edits; k++) {
      const at = Math.floor(random() * text.length);
      const kind = random();
      if (kind < 0.4) text = text.slice(0, at) + pick(inserts) + text.slice(at);
      else if (kind < 0.7) text = /[ \t]/.test(text[at] ?? '') ? text.slice(0, at) + text.slice(at + 1) : text;
      else {
        const lines = text.split('\n');
        const l = Math.floor(random() * lines.length);
        lines[l] = kind < 0.85 ? lines[l]!.trimStart() : ' '.repeat(Math.floor(random() * 9)) + lines[l]!;
        text = lines.join('\n');
      }
    }
    out.set(`m${String(i).padStart(3, '0')}.pkr.hcl`, text);
  }
  return out;
}

test('300 random whitespace mutations of the corpus: same bytes and same refusals as packer fmt', { skip: packerSkipReason() }, async () => {
  const mutants = whitespaceMutants(300, 20261125);
  const p = tempWrite(mutants);
  const b = tempWrite(mutants);
  try {
    const pr = packer(['fmt', '.'], p.dir);
    const br = await builder(['fmt', '.'], b.dir);
    let refused = 0;
    for (const name of mutants.keys()) {
      const refusedByPacker = (pr.stdout + pr.stderr).includes(`formatting ${name}`);
      if (refusedByPacker) refused++;
      assert.equal(br.stderr.includes(`on ${name} line`), refusedByPacker, `${name}: builder and packer disagree on whether it is valid`);
      assert.equal(readFileSync(join(b.dir, name), 'utf8'), readFileSync(join(p.dir, name), 'utf8'), `${name}: builder fmt differs from packer fmt`);
    }
    // The mutations must exercise both paths to mean anything.
    assert.ok(refused > 30 && refused < 270, `${refused} of 300 mutants refused`);
  } finally {
    p.done();
    b.done();
  }
});

test('fmt -check -diff: same exit code as packer, and each diff turns the file into Packer\'s output', { skip: packerSkipReason() }, async () => {
  const names = corpusFiles();
  const files = new Map(names.map((n) => [n, join(CORPUS, n)]));
  const p = tempCopy(files);
  const b = tempCopy(files);
  try {
    const pr = packer(['fmt', '-check', '-diff', '.'], p.dir);
    const br = await builder(['fmt', '-check', '-diff', '.'], b.dir);
    assert.equal(pr.code, 3);
    assert.equal(br.code, 3);
    const patches = parsePatch(br.stdout.split('\n').filter((l) => !/^\d\d-.*\.hcl$/.test(l)).join('\n'));
    const changed = reportedNames(pr.stdout);
    assert.equal(patches.length, changed.length);
    for (const patch of patches) {
      assert.match(patch.oldFileName ?? '', /^old\//);
      assert.match(patch.newFileName ?? '', /^new\//);
      const name = (patch.newFileName ?? '').replace(/^new\//, '');
      const original = readFileSync(join(b.dir, name), 'utf8');
      assert.equal(original, readFileSync(join(CORPUS, name), 'utf8'), `${name} was written despite -check`);
      assert.equal(applyPatch(original, patch), readFileSync(join(EXPECTED, name), 'utf8'), `${name}: the diff does not give Packer's output`);
    }
  } finally {
    p.done();
    b.done();
  }
});

test('fmt -diff: the exact text Packer prints for a one-line change', { skip: packerSkipReason() }, async () => {
  const p = tempCopy(new Map([['x.pkr.hcl', join(CORPUS, '01-misaligned-equals.pkr.hcl')]]));
  const b = tempCopy(new Map([['x.pkr.hcl', join(CORPUS, '01-misaligned-equals.pkr.hcl')]]));
  try {
    const pr = packer(['fmt', '-diff', 'x.pkr.hcl'], p.dir);
    const br = await builder(['fmt', '-diff', 'x.pkr.hcl'], b.dir);
    assert.equal(br.stdout, pr.stdout);
    assert.equal(br.code, pr.code);
  } finally {
    p.done();
    b.done();
  }
});

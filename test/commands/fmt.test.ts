/**
 * `builder fmt` as a user sees it: which files it touches, what it prints, its exit codes
 * (`-check` → 3), `-diff`, `-write=false`, `-recursive`, stdin `-`, and its errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { runCli } from '../../src/cli/main.js';
import type { CommandContext } from '../../src/cli/command.js';

const UGLY = 'a=1\nbbb   =  2\n';
const PRETTY = 'a   = 1\nbbb = 2\n';

/** A temp project made of `files` (path → content); `done` removes it. */
function project(files: Record<string, string>): { dir: string; read: (p: string) => string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'builder-fmt-cmd-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return { dir, read: (p) => readFileSync(join(dir, p), 'utf8'), done: () => rmSync(dir, { recursive: true, force: true }) };
}

async function fmt(args: string[], cwd: string, stdinText?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const ctx: CommandContext = {
    stdout,
    stderr,
    stdin: Readable.from(stdinText === undefined ? [] : [Buffer.from(stdinText)]),
    stdinIsTTY: false,
    stdoutIsTTY: false,
    env: {},
    cwd,
    signal: new AbortController().signal,
  };
  const code = await runCli(['fmt', ...args], ctx);
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

test('fmt FILE rewrites the file and prints its name; a second run changes nothing', async () => {
  const p = project({ 't.pkr.hcl': UGLY });
  try {
    const first = await fmt(['t.pkr.hcl'], p.dir);
    assert.deepEqual(first, { code: 0, stdout: 't.pkr.hcl\n', stderr: '' });
    assert.equal(p.read('t.pkr.hcl'), PRETTY);
    assert.deepEqual(await fmt(['t.pkr.hcl'], p.dir), { code: 0, stdout: '', stderr: '' });
  } finally {
    p.done();
  }
});

test('fmt -check exits 3 and writes nothing when a file would change, 0 when all are formatted', async () => {
  const p = project({ 'ugly.pkr.hcl': UGLY, 'pretty.pkr.hcl': PRETTY });
  try {
    const r = await fmt(['-check', '.'], p.dir);
    assert.deepEqual(r, { code: 3, stdout: 'ugly.pkr.hcl\n', stderr: '' });
    assert.equal(p.read('ugly.pkr.hcl'), UGLY);
    assert.equal((await fmt(['-check', 'pretty.pkr.hcl'], p.dir)).code, 0);
    // -check wins over an explicit -write=true.
    assert.equal((await fmt(['-check', '-write=true', 'ugly.pkr.hcl'], p.dir)).code, 3);
    assert.equal(p.read('ugly.pkr.hcl'), UGLY);
  } finally {
    p.done();
  }
});

test('fmt -write=false lists the files without touching them', async () => {
  const p = project({ 't.pkr.hcl': UGLY });
  try {
    assert.deepEqual(await fmt(['-write=false', 't.pkr.hcl'], p.dir), { code: 0, stdout: 't.pkr.hcl\n', stderr: '' });
    assert.equal(p.read('t.pkr.hcl'), UGLY);
  } finally {
    p.done();
  }
});

test('fmt -diff prints the name and a unified diff', async () => {
  const p = project({ 't.pkr.hcl': UGLY });
  try {
    const r = await fmt(['-diff', 't.pkr.hcl'], p.dir);
    assert.equal(r.code, 0);
    assert.equal(
      r.stdout,
      't.pkr.hcl\n--- old/t.pkr.hcl\n+++ new/t.pkr.hcl\n@@ -1,2 +1,2 @@\n-a=1\n-bbb   =  2\n+a   = 1\n+bbb = 2\n',
    );
    assert.equal(p.read('t.pkr.hcl'), PRETTY);
  } finally {
    p.done();
  }
});

test('fmt on a directory: .pkr.hcl and .pkrvars.hcl files only; hidden, backup and JSON files are skipped', async () => {
  const p = project({
    'a.pkr.hcl': UGLY,
    'b.pkrvars.hcl': UGLY,
    'c.pkr.json': '{}',
    'notes.hcl': UGLY,
    '.hidden.pkr.hcl': UGLY,
    'backup.pkr.hcl~': UGLY,
    'sub/d.pkr.hcl': UGLY,
  });
  try {
    const r = await fmt(['.'], p.dir);
    assert.deepEqual(r, { code: 0, stdout: 'a.pkr.hcl\nb.pkrvars.hcl\n', stderr: '' });
    assert.equal(p.read('b.pkrvars.hcl'), PRETTY);
    for (const untouched of ['notes.hcl', '.hidden.pkr.hcl', 'backup.pkr.hcl~', 'sub/d.pkr.hcl']) {
      assert.equal(p.read(untouched), UGLY, `${untouched} was changed`);
    }
  } finally {
    p.done();
  }
});

test('fmt -recursive also formats subdirectories', async () => {
  const p = project({ 'a.pkr.hcl': UGLY, 'sub/deeper/d.pkr.hcl': UGLY, 'sub/.git/x.pkr.hcl': UGLY });
  try {
    const r = await fmt(['-recursive', '.'], p.dir);
    assert.deepEqual(r, { code: 0, stdout: `a.pkr.hcl\n${join('sub', 'deeper', 'd.pkr.hcl')}\n`, stderr: '' });
    assert.equal(p.read('sub/deeper/d.pkr.hcl'), PRETTY);
    assert.equal(p.read('sub/.git/x.pkr.hcl'), UGLY);
  } finally {
    p.done();
  }
});

test('fmt -recursive does not follow links to directories, so a link cycle ends', async () => {
  const p = project({ 'sub/a.pkr.hcl': UGLY });
  try {
    symlinkSync('..', join(p.dir, 'sub', 'loop'));
    const r = await fmt(['-recursive', '.'], p.dir);
    assert.deepEqual(r, { code: 0, stdout: `${join('sub', 'a.pkr.hcl')}\n`, stderr: '' });
  } finally {
    p.done();
  }
});

test('bytes that are not UTF-8 (a Latin-1 comment) are kept as they are, as Packer keeps them', async () => {
  const p = project({});
  try {
    // "caf\xe9" is Latin-1; "\xe2\x82" a truncated UTF-8 sequence; the euro sign is valid UTF-8.
    const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');
    writeFileSync(join(p.dir, 't.pkr.hcl'), Buffer.concat([latin1('a=1 # caf\xe9\nbb = '), Buffer.from('"\u20ac"'), latin1(' # \xe2\x82\n')]));
    assert.deepEqual(await fmt(['t.pkr.hcl'], p.dir), { code: 0, stdout: 't.pkr.hcl\n', stderr: '' });
    assert.deepEqual(
      readFileSync(join(p.dir, 't.pkr.hcl')),
      Buffer.concat([latin1('a  = 1   # caf\xe9\nbb = '), Buffer.from('"\u20ac"'), latin1(' # \xe2\x82\n')]),
    );
  } finally {
    p.done();
  }
});

test('fmt - formats stdin to stdout', async () => {
  const p = project({});
  try {
    assert.deepEqual(await fmt(['-'], p.dir, UGLY), { code: 0, stdout: PRETTY, stderr: '' });
    assert.deepEqual(await fmt(['-'], p.dir, PRETTY), { code: 0, stdout: PRETTY, stderr: '' });
    assert.deepEqual(await fmt(['-check', '-'], p.dir, UGLY), { code: 3, stdout: '', stderr: '' });
    assert.deepEqual(await fmt(['-check', '-'], p.dir, PRETTY), { code: 0, stdout: PRETTY, stderr: '' });
  } finally {
    p.done();
  }
});

test('a file with syntax errors is reported with its place and left alone; the other files are formatted', async () => {
  const broken = 'source "null" "x" {\n  a = 1\n';
  const p = project({ 'a.pkr.hcl': broken, 'b.pkr.hcl': UGLY });
  try {
    const r = await fmt(['.'], p.dir);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'b.pkr.hcl\n');
    assert.match(r.stderr, /^Error: /);
    assert.match(r.stderr, /on a\.pkr\.hcl line \d+/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(p.read('a.pkr.hcl'), broken);
    assert.equal(p.read('b.pkr.hcl'), PRETTY);
  } finally {
    p.done();
  }
});

test('fmt refuses a file that is not an HCL2 template, and a missing path', async () => {
  const p = project({ 't.pkr.json': '{}' });
  try {
    const json = await fmt(['t.pkr.json'], p.dir);
    assert.equal(json.code, 1);
    assert.match(json.stderr, /Error: t\.pkr\.json is not an HCL2 template file/);
    assert.equal(p.read('t.pkr.json'), '{}');
    const missing = await fmt(['nope.pkr.hcl'], p.dir);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Error: Cannot read nope\.pkr\.hcl/);
  } finally {
    p.done();
  }
});

test('fmt without a path is a usage error', async () => {
  const r = await fmt([], tmpdir());
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Usage: builder fmt/);
});

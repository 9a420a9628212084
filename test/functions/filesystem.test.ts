import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { check } from './check.js';
import { run, table, tempDir, type Case } from './helpers.js';

const tmp = tempDir();
const root = tmp.dir;
const tplDir = join(root, 'tpl');

before(() => {
  mkdirSync(join(tplDir, 'files', 'sub'), { recursive: true });
  writeFileSync(join(tplDir, 'hello.txt'), 'Hello World');
  writeFileSync(join(tplDir, 'bin.dat'), Buffer.from([0xff, 0x00, 0x01]));
  writeFileSync(join(tplDir, 'files', 'a.txt'), 'a');
  writeFileSync(join(tplDir, 'files', 'b.sh'), 'b');
  writeFileSync(join(tplDir, 'files', '.hidden'), 'h');
  writeFileSync(join(tplDir, 'files', 'sub', 'c.txt'), 'c');
  symlinkSync('missing', join(tplDir, 'files', 'dangling'));
  writeFileSync(join(tplDir, 'greeting.tpl'), 'Hello, ${name}!%{ for i in items } [${i}]%{ endfor }');
  writeFileSync(join(tplDir, 'bad-var.tpl'), '${nope}');
});
after(() => tmp.cleanup());

/** The template folder is `tpl` (relative to the working folder `root`), as when Packer runs `packer build tpl`. */
const ctx = { baseDir: 'tpl', cwd: root };

const cases: Case[] = [
  ['file("hello.txt")', 'Hello World'],
  ['file("missing.txt")', { error: 'Call to function "file" failed: no file exists at tpl/missing.txt.' }],
  ['file("bin.dat")', { error: 'contents of tpl/bin.dat are not valid UTF-8; use the filebase64 function' }],
  ['file("files")', { error: 'failed to read tpl/files' }],
  ['filebase64("tpl/bin.dat")', '/wAB'],
  ['filebase64("bin.dat")', { error: 'failed to read file "bin.dat": open bin.dat: no such file or directory' }],
  ['fileexists("hello.txt")', 'true'],
  ['fileexists("nope.txt")', 'false'],
  ['fileexists("files")', { error: 'tpl/files is not a regular file, but "drwx' }],
  ['fileset("files", "*.txt")', '[\n  "a.txt",\n]'],
  ['fileset("files", "**")', '[\n  ".hidden",\n  "a.txt",\n  "b.sh",\n  "sub/c.txt",\n]'],
  ['fileset("files", "{a,b}.*")', '[\n  "a.txt",\n  "b.sh",\n]'],
  ['fileset("files", "**/*.txt")', '[\n  "a.txt",\n  "sub/c.txt",\n]'],
  ['fileset("nowhere", "*")', '[]'],
  ['abspath("x.txt")', join(root, 'x.txt')],
  ['abspath("/etc/../etc/hosts")', '/etc/hosts'],
  ['basename("foo/bar/baz.txt")', 'baz.txt'],
  ['basename("foo/bar/")', 'bar'],
  ['basename("/")', '/'],
  ['basename("")', '.'],
  ['dirname("foo/bar/baz.txt")', 'foo/bar'],
  ['dirname("foo/bar/")', 'foo/bar'],
  ['dirname("baz.txt")', '.'],
  ['dirname("/baz.txt")', '/'],
  ['pathexpand("~/.ssh/id_rsa")', `${homedir()}/.ssh/id_rsa`],
  ['pathexpand("/etc/resolv.conf")', '/etc/resolv.conf'],
  ['pathexpand("~bob/x")', { error: 'cannot expand user-specific home dir' }],
  ['templatefile("greeting.tpl", {name = "Ada", items = [1, 2]})', 'Hello, Ada! [1] [2]'],
  ['templatefile("greeting.tpl", "x")', { error: 'Invalid value for "vars" parameter: invalid vars value: must be a map.' }],
  ['templatefile("greeting.tpl", {"not valid" = 1})', { error: 'invalid template variable name "not valid"' }],
  ['templatefile("bad-var.tpl", {})', { error: 'Invalid value for "vars" parameter: vars map does not contain key "nope", referenced at tpl/bad-var.tpl:1,3-7.' }],
  ['templatefile("nope.tpl", {})', { error: 'no file exists at tpl/nope.tpl' }],
];

test('filesystem functions', (t) => table(t, cases, (src, want) => check(src, want, ctx)));

test('every file a function reads is reported with its absolute path', () => {
  const read: string[] = [];
  const onFileRead = (p: string): void => void read.push(p);
  for (const src of ['file("hello.txt")', 'filebase64("tpl/bin.dat")', 'templatefile("greeting.tpl", {name = "x", items = []})']) {
    assert.equal(run(src, { ...ctx, onFileRead }).error, undefined, src);
  }
  assert.deepEqual(read, [join(tplDir, 'hello.txt'), join(tplDir, 'bin.dat'), join(tplDir, 'greeting.tpl')]);
});

test('templatefile cannot call itself from inside a template', () => {
  writeFileSync(join(tplDir, 'recursive.tpl'), '${templatefile("greeting.tpl", {})}');
  const r = run('templatefile("recursive.tpl", {})', ctx);
  assert.ok(r.error?.includes('templatefile'), r.error);
});

test('templatefile passes values of any type through a single interpolation', () => {
  writeFileSync(join(tplDir, 'list.tpl'), '${items}');
  const r = run('templatefile("list.tpl", {items = ["a"]})', ctx);
  assert.equal(r.error, undefined, r.error);
  assert.equal(r.value?.type.kind, 'tuple');
  assert.deepEqual(r.value?.toJS(), ['a']);
});

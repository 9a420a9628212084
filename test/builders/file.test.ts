import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileBuilder } from '../../src/builders/file.js';
import { inTempDir, stepContext, testUi } from '../build/helpers.js';

test('file: prepare gives Packer\'s errors and warning', () => {
  assert.deepEqual(fileBuilder.prepare({}).errors, ['target required']);
  assert.deepEqual(fileBuilder.prepare({ target: 'x' }).warnings, ['Both source file and contents are blank; target will have no content']);
  assert.deepEqual(fileBuilder.prepare({ target: 'x', source: 'a', content: 'b' }).errors, ['Cannot specify source file AND content']);
});

test('file: content is written (0600, folders created) and is the artifact', async () => {
  await inTempDir(async (dir) => {
    const t = testUi('file.b');
    const ctx = stepContext(dir, t);
    const cfg = fileBuilder.prepare({ content: 'hello\n', target: 'out/sub/f.txt' }).config!;
    const inst = await fileBuilder.create(cfg, ctx);
    assert.equal(await readFile(join(dir, 'out/sub/f.txt'), 'utf8'), 'hello\n');
    assert.equal((await stat(join(dir, 'out/sub/f.txt'))).mode & 0o777, 0o600);
    const a = (await fileBuilder.finish(cfg, inst, ctx))!;
    assert.deepEqual([a.builderId, a.id, a.files, a.description], ['packer.file', 'File', ['out/sub/f.txt'], 'Stored file: out/sub/f.txt']);
    assert.equal(t.out.text, '');
    await a.destroy();
    await assert.rejects(stat(join(dir, 'out/sub/f.txt')));
  });
});

test('file: source is copied, saying so as Packer does; a missing source fails', async () => {
  await inTempDir(async (dir) => {
    const t = testUi('file.b');
    await writeFile(join(dir, 'in.txt'), 'data\n');
    const cfg = fileBuilder.prepare({ source: 'in.txt', target: 'copy.txt' }).config!;
    await fileBuilder.create(cfg, stepContext(dir, t));
    assert.equal(await readFile(join(dir, 'copy.txt'), 'utf8'), 'data\n');
    assert.deepEqual(t.out.lines, ['==> file.b: Copying in.txt to copy.txt', '==> file.b: Copied 5 bytes']);
    const bad = fileBuilder.prepare({ source: 'nope.txt', target: 'c.txt' }).config!;
    await assert.rejects(fileBuilder.create(bad, stepContext(dir, t)), /open nope.txt: no such file or directory/);
  });
});


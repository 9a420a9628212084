import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { list as listTar } from 'tar';
import type { Artifact } from '../../src/sdk/component.js';
import { fileArtifact } from '../../src/builders/file.js';
import { compressPostProcessor, detectFormat } from '../../src/post-processors/compress.js';
import { join } from 'node:path';
import { inTempDir, prepared, ctxWith } from './helpers.js';
import { testUi } from '../build/helpers.js';

test('compress: formats from the output name, as Packer reads them', () => {
  assert.deepEqual(detectFormat('out.tar.gz', ''), { archive: 'tar', algorithm: 'gzip' });
  assert.deepEqual(detectFormat('out.tgz', ''), { archive: 'tar', algorithm: 'gzip' });
  assert.deepEqual(detectFormat('out.zip', ''), { archive: 'zip', algorithm: '' });
  assert.deepEqual(detectFormat('out.tar', ''), { archive: 'tar', algorithm: '' });
  assert.deepEqual(detectFormat('out.gz', ''), { archive: '', algorithm: 'gzip' });
  assert.deepEqual(detectFormat('packer_{{.BuildName}}', ''), { archive: 'tar', algorithm: 'gzip' });
  assert.deepEqual(detectFormat('out', 'zip'), { archive: 'zip', algorithm: '' });
  assert.match(compressPostProcessor.prepare({ output: 'x.tar.xz' }).errors[0]!, /xz compression format is not supported/);
});

test('compress: tar.gz of base names, input deleted unless kept, Packer\'s messages', async () => {
  await inTempDir(async (dir) => {
    await writeFile(join(dir, 'a.txt'), 'aaa');
    const t = testUi('file.b (compress)');
    const ctx = { ...ctxWith(dir), ui: t.ui };
    const r = await compressPostProcessor.run(prepared(compressPostProcessor, { output: 'out/a.tar.gz' }), fileArtifact('a.txt', dir), ctx);
    assert.deepEqual([r.keep, r.forceOverride], [false, false]);
    assert.deepEqual([r.artifact.builderId, r.artifact.files, r.artifact.description], ['packer.post-processor.compress', ['out/a.tar.gz'], 'compressed artifacts in: out/a.tar.gz']);
    const names: string[] = [];
    await listTar({ file: join(dir, 'out/a.tar.gz'), onReadEntry: (e) => void names.push(e.path) });
    assert.deepEqual(names, ['a.txt']);
    assert.match(t.out.lines[0]!, /^==> file\.b \(compress\): Using gzip compression with 1 core for out\/a\.tar\.gz$/);
    assert.deepEqual(t.out.lines.slice(1), ['==> file.b (compress): Tarring out/a.tar.gz with gzip', '==> file.b (compress): Archive out/a.tar.gz completed']);
  });
});

test('compress: gz of a single file, zip with paths as given, several files without an archive refused', async () => {
  await inTempDir(async (dir) => {
    await writeFile(join(dir, 'a.txt'), 'hello gz');
    await compressPostProcessor.run(prepared(compressPostProcessor, { output: 'a.txt.gz', compression_level: 9 }), fileArtifact('a.txt', dir), ctxWith(dir));
    assert.equal(gunzipSync(await readFile(join(dir, 'a.txt.gz'))).toString(), 'hello gz');
    await compressPostProcessor.run(prepared(compressPostProcessor, { output: 'a.zip' }), fileArtifact('a.txt', dir), ctxWith(dir));
    const zip = await readFile(join(dir, 'a.zip'));
    assert.equal(zip.readUInt32LE(0), 0x04034b50);
    assert.ok(zip.includes(Buffer.from('a.txt')));
    const two: Artifact = { ...fileArtifact('a.txt', dir), files: ['a.txt', 'a.zip'] };
    await assert.rejects(compressPostProcessor.run(prepared(compressPostProcessor, { output: 'x.gz' }), two, ctxWith(dir)), /Can only have 1 input file when not using tar\/zip. Found 2 files: \[a\.txt a\.zip\]/);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { list as listTar } from 'tar';
import type { Artifact, PostProcessorDef, StepContext } from '../../src/core/component.js';
import { fileArtifact } from '../../src/builders/file.js';
import { nullArtifact } from '../../src/builders/null.js';
import { manifestPostProcessor } from '../../src/post-processors/manifest.js';
import { checksumPostProcessor } from '../../src/post-processors/checksum.js';
import { compressPostProcessor, detectFormat } from '../../src/post-processors/compress.js';
import { artificePostProcessor } from '../../src/post-processors/artifice.js';
import { goMarshalIndent } from '../../src/post-processors/go-json.js';
import { inTempDir, stepContext, testUi } from '../build/helpers.js';

function prepared<C>(def: PostProcessorDef<C>, raw: Record<string, unknown>): C {
  const r = def.prepare(raw);
  assert.deepEqual(r.errors, []);
  return r.config!;
}

function ctxWith(dir: string, over: Partial<StepContext> = {}): StepContext {
  return { ...stepContext(dir, testUi('file.b')), builderType: 'file', ...over, env: { ...process.env, PACKER_BUILD_NAME: 'b' } };
}

test('Go-style JSON: indentation, HTML escapes, null', () => {
  assert.equal(goMarshalIndent({ a: [1, { b: null }], c: '<&>\u0001' }), '{\n  "a": [\n    1,\n    {\n      "b": null\n    }\n  ],\n  "c": "\\u003c\\u0026\\u003e\\u0001"\n}');
});

test('manifest: Packer\'s exact JSON, appended across builds and runs, restarted by -force for a new run', async () => {
  await inTempDir(async (dir) => {
    await writeFile(join(dir, 'f.txt'), '12345');
    const cfg = prepared(manifestPostProcessor, { output: 'm.json', custom_data: { z: '1', a: '<x>' } });
    const r = await manifestPostProcessor.run(cfg, fileArtifact('f.txt', dir), ctxWith(dir, { runUuid: 'run-1' }));
    assert.equal(r.keep, true);
    assert.equal(r.forceOverride, true);
    const text = await readFile(join(dir, 'm.json'), 'utf8');
    const time = JSON.parse(text).builds[0].build_time as number;
    assert.ok(Math.abs(time - Date.now() / 1000) < 60);
    assert.equal(
      text,
      `{\n  "builds": [\n    {\n      "name": "b",\n      "builder_type": "file",\n      "build_time": ${time},\n      "files": [\n        {\n          "name": "f.txt",\n          "size": 5\n        }\n      ],\n      "artifact_id": "File",\n      "packer_run_uuid": "run-1",\n      "custom_data": {\n        "a": "\\u003cx\\u003e",\n        "z": "1"\n      }\n    }\n  ],\n  "last_run_uuid": "run-1"\n}`,
    );
    const plain = prepared(manifestPostProcessor, { output: 'm.json', strip_time: true });
    await manifestPostProcessor.run(plain, nullArtifact, ctxWith(dir, { runUuid: 'run-2', builderType: 'null' }));
    let doc = JSON.parse(await readFile(join(dir, 'm.json'), 'utf8'));
    assert.equal(doc.builds.length, 2);
    assert.deepEqual(doc.builds[1], { name: 'b', builder_type: 'null', files: null, artifact_id: 'Null', packer_run_uuid: 'run-2', custom_data: null });
    assert.equal(doc.last_run_uuid, 'run-2');
    await manifestPostProcessor.run(plain, nullArtifact, ctxWith(dir, { runUuid: 'run-2', force: true }));
    doc = JSON.parse(await readFile(join(dir, 'm.json'), 'utf8'));
    assert.equal(doc.builds.length, 3, 'same run: -force appends');
    await manifestPostProcessor.run(plain, nullArtifact, ctxWith(dir, { runUuid: 'run-3', force: true }));
    doc = JSON.parse(await readFile(join(dir, 'm.json'), 'utf8'));
    assert.equal(doc.builds.length, 1, 'new run with -force: starts afresh');
    assert.deepEqual(await readdir(dir), ['f.txt', 'm.json'], 'the lock file is gone');
  });
});

test('manifest: parallel builds of one run all land in the file; strip_path; default output', async () => {
  await inTempDir(async (dir) => {
    await writeFile(join(dir, 'f.txt'), 'x');
    const cfg = prepared(manifestPostProcessor, { strip_path: true });
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => manifestPostProcessor.run(cfg, fileArtifact(join(dir, 'f.txt'), dir), ctxWith(dir, { runUuid: `r`, env: { PACKER_BUILD_NAME: `b${i}` } }))),
    );
    const doc = JSON.parse(await readFile(join(dir, 'packer-manifest.json'), 'utf8'));
    assert.equal(doc.builds.length, 10);
    assert.equal(doc.builds[0].files[0].name, 'f.txt');
  });
});

test('checksum: every type, Packer\'s line format, default output name, files added once', async () => {
  await inTempDir(async (dir) => {
    await writeFile(join(dir, 'f.txt'), 'hello');
    const cfg = prepared(checksumPostProcessor, { checksum_types: ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] });
    const r = await checksumPostProcessor.run(cfg, fileArtifact('f.txt', dir), ctxWith(dir));
    assert.equal(r.keep, true);
    for (const t of ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512']) {
      const name = `packer_b_file_${t}.checksum`;
      assert.equal(await readFile(join(dir, name), 'utf8'), `${createHash(t).update('hello').digest('hex')}\tf.txt\n`);
      assert.ok(r.artifact.files.includes(name));
    }
    assert.equal(r.artifact.builderId, 'packer.post-processor.checksum');
    assert.match(r.artifact.description, /^Created artifact from files: f\.txt, packer_b_file_md5\.checksum, /);
    const again = await checksumPostProcessor.run(prepared(checksumPostProcessor, {}), fileArtifact('f.txt', dir), ctxWith(dir));
    assert.deepEqual(again.artifact.files, ['f.txt'], 'an existing checksum file is appended to, not listed again (as Packer)');
    assert.equal((await readFile(join(dir, 'packer_b_file_md5.checksum'), 'utf8')).split('\n').length, 3);
    assert.deepEqual(checksumPostProcessor.prepare({ checksum_types: ['crc32'] }).errors, ['Unrecognized checksum type: crc32']);
    const custom = prepared(checksumPostProcessor, { checksum_types: ['sha256'], output: 'sums/{{.BuildName}}.{{.ChecksumType}}' });
    await checksumPostProcessor.run(custom, fileArtifact('f.txt', dir), ctxWith(dir));
    assert.ok((await stat(join(dir, 'sums/b.sha256'))).isFile());
  });
});

test('compress: formats from the output name, as Packer reads them', () => {
  assert.deepEqual(detectFormat('out.tar.gz', ''), { archive: 'tar', algorithm: 'pgzip' });
  assert.deepEqual(detectFormat('out.tgz', ''), { archive: 'tar', algorithm: 'pgzip' });
  assert.deepEqual(detectFormat('out.zip', ''), { archive: 'zip', algorithm: '' });
  assert.deepEqual(detectFormat('out.tar', ''), { archive: 'tar', algorithm: '' });
  assert.deepEqual(detectFormat('out.gz', ''), { archive: '', algorithm: 'pgzip' });
  assert.deepEqual(detectFormat('packer_{{.BuildName}}', ''), { archive: 'tar', algorithm: 'pgzip' });
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
    assert.match(t.out.lines[0]!, /^==> file\.b \(compress\): Using pgzip compression with \d+ cores for out\/a\.tar\.gz$/);
    assert.deepEqual(t.out.lines.slice(1), ['==> file.b (compress): Tarring out/a.tar.gz with pgzip', '==> file.b (compress): Archive out/a.tar.gz completed']);
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

test('artifice: replaces the files, says what it discards', async () => {
  await inTempDir(async (dir) => {
    assert.deepEqual(artificePostProcessor.prepare({}).errors, ['No files specified in artifice configuration']);
    const t = testUi('file.b (artifice)');
    const r = await artificePostProcessor.run(prepared(artificePostProcessor, { files: ['x', 'y'] }), fileArtifact('f.txt', dir), { ...ctxWith(dir), ui: t.ui });
    assert.deepEqual([r.artifact.files, r.artifact.description, r.keep, r.forceOverride], [['x', 'y'], 'Created artifact from files: x, y', true, false]);
    assert.deepEqual(t.out.lines, ['==> file.b (artifice): Discarding files from artifact: f.txt', '==> file.b (artifice): Using these artifact files: x, y']);
  });
});

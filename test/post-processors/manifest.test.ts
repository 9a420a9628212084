import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { fileArtifact } from '../../src/builders/file.js';
import { nullArtifact } from '../../src/builders/null.js';
import { manifestPostProcessor } from '../../src/post-processors/manifest.js';
import { goMarshalIndent } from '../../src/values/go-json.js';
import { join } from 'node:path';
import { inTempDir, prepared, ctxWith } from './helpers.js';

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

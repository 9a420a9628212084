/**
 * Every example template builds and gives the results its comments describe.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { inTempDir } from './helpers.js';
import { repoRoot, runCli } from './cli.js';

async function withExample<T>(name: string, fn: (dir: string) => Promise<T>): Promise<T> {
  return inTempDir(async (dir) => {
    await copyFile(join(repoRoot, 'examples', name), join(dir, name));
    return fn(dir);
  });
}

test('basic-null: one local step and a manifest', async () => {
  await withExample('basic-null.pkr.hcl', async (dir) => {
    const r = await runCli(['build', 'basic-null.pkr.hcl'], dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^==> basic-null-build\.null\.basic: Running local shell script: /m);
    assert.match(r.stdout, /^ {4}basic-null-build\.null\.basic: Running basic null build test$/m);
    assert.match(r.stdout, /^ {4}basic-null-build\.null\.basic: Build completed successfully$/m);
    assert.match(r.stdout, /^Build 'basic-null-build\.null\.basic' finished after .+\.$/m);
    assert.match(r.stdout, /^--> basic-null-build\.null\.basic: Did not export anything\. This is the null builder$/m);
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    assert.equal(m.builds.length, 1);
    assert.deepEqual([m.builds[0].name, m.builds[0].builder_type, m.builds[0].artifact_id, m.builds[0].files], ['basic', 'null', 'Null', null]);
    assert.equal(m.last_run_uuid, m.builds[0].packer_run_uuid);
  });
});

test('file-builder: the file is the artifact and the local step sees it', async () => {
  await withExample('file-builder.pkr.hcl', async (dir) => {
    const r = await runCli(['build', 'file-builder.pkr.hcl'], dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /file-builder-test\.file\.greeting: File created successfully/);
    const text = await readFile(join(dir, 'output/test-file.txt'), 'utf8');
    assert.match(text, /^Hello from the builder!\nThis is a test file\.\nTimestamp: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/);
    const m = JSON.parse(await readFile(join(dir, 'file-manifest.json'), 'utf8'));
    assert.deepEqual(m.builds[0].files, [{ name: 'output/test-file.txt', size: Buffer.byteLength(text) }]);
    assert.match(r.stdout, /--> file-builder-test\.file\.greeting: Stored file: output\/test-file\.txt/);
  });
});

test('multi-provisioner: four ordered steps share the work folder, which the last removes', async () => {
  await withExample('multi-provisioner.pkr.hcl', async (dir) => {
    const r = await runCli(['build', 'multi-provisioner.pkr.hcl'], dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const steps = [...r.stdout.matchAll(/=== Step (\d): (\w+) ===/g)].map((m) => `${m[1]} ${m[2]}`);
    assert.deepEqual(steps, ['1 Setup', '2 Processing', '3 Validation', '4 Cleanup']);
    assert.match(r.stdout, / {4}multi-provisioner-test\.null\.steps: test data\n {4}multi-provisioner-test\.null\.steps: additional data\n/);
    await assert.rejects(stat(join(dir, 'work')));
    assert.ok((await stat(join(dir, 'multi-manifest.json'))).isFile());
  });
});

test('variables: values reach steps through the environment; -var overrides', async () => {
  await withExample('variables.pkr.hcl', async (dir) => {
    const r = await runCli(['build', 'variables.pkr.hcl'], dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /: TEST_VAR=default-value$/m);
    assert.match(r.stdout, /: BUILD_NAME=variable-interpolation-test$/m);
    assert.match(r.stdout, /: PACKER_RUN_UUID=[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/m);
    const o = await runCli(['build', '-var', 'test_value=other', 'variables.pkr.hcl'], dir);
    assert.match(o.stdout, /: TEST_VAR=other$/m);
  });
});

test('resume-demo: fails at step 2 until "fixed" exists; step 3 and the manifest do not run', async () => {
  await withExample('resume-demo.pkr.hcl', async (dir) => {
    const r = await runCli(['build', 'resume-demo.pkr.hcl'], dir);
    assert.equal(r.code, 1);
    assert.equal(await readFile(join(dir, 'steps.log'), 'utf8'), 'step1\nstep2\n');
    assert.match(r.stdout, /^Build 'resume-demo\.null\.demo' errored after .*: Script exited with non-zero exit status: 1\.Allowed exit codes are: \[0\]$/m);
    assert.match(r.stdout, /==> Some builds didn't complete successfully and had errors:\n--> resume-demo\.null\.demo: Script exited/);
    await assert.rejects(stat(join(dir, 'resume-manifest.json')));
  });
});

/**
 * `build.*` values a plugin builder generates reach provisioners and post-processors: a builder
 * marked as served by a plugin (`plugin` set, as src/plugins/wiring.ts marks plugin builders) gives
 * its values from `connect` (for a plugin: its provision hook data — `ID` and its generated
 * variables), and names only the plugin knows (`build.SourceImage`) bind without an error, because
 * a plugin's generated variables are known only once its own Prepare runs. A name it does not give
 * fails the step that uses it, and a native builder still refuses an unknown `build.*` name at
 * validate. Run in-process with the real binder, planner and runner; the plugin protocol itself is
 * tested with Packer 1.6.6's plugins in cli.test.ts (`build.ID` as `packer build` prints it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nativeComponents } from '../../src/components.js';
import type { BuilderDef } from '../../src/sdk/component.js';
import { runInProcess } from '../cli/run.js';

const generating: BuilderDef<Record<string, never>> = {
  type: 'generating',
  plugin: { component: 'generating', name: 'packer-plugin-generating', version: '1.0.0', digest: 'sha256:0' },
  builderId: 'test.generating',
  configSpec: { attributes: {} },
  prepare: () => ({ config: {}, errors: [], warnings: [] }),
  async create() {
    return { id: 'run-key', metadata: {} };
  },
  async connect() {
    return { values: { ID: 'i-0abc', ConnType: 'none', SourceImage: 'img-42' } };
  },
  async finish() {
    return { builderId: 'test.generating', id: 'artifact', files: [], description: 'generated', state: {}, destroy: async () => undefined };
  },
  async destroy() {},
};

function template(ref: string): string {
  return `source "generating" "a" {}
build {
  sources = ["source.generating.a"]
  provisioner "shell-local" {
    inline = ["echo 'id=\${build.ID} source=\${build.${ref}} host=\${build.Host}' >> out.txt"]
  }
  post-processor "shell-local" {
    inline = ["echo 'post \${build.${ref}}' >> out.txt"]
  }
}
`;
}

test('a plugin builder generated build.* values reach provisioners and post-processors; a name it does not give fails the step', async (t) => {
  const base = nativeComponents();
  const components = { ...base, builders: base.builders.with([generating as BuilderDef<unknown>]) };
  const dir = mkdtempSync(join(tmpdir(), 'builder-generated-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const run = (...args: string[]) => runInProcess([...args, 't.pkr.hcl'], { cwd: dir, env: { PATH: process.env.PATH }, components });

  writeFileSync(join(dir, 't.pkr.hcl'), template('SourceImage'));
  const v = await run('validate');
  assert.equal(v.code, 0, v.stdout + v.stderr);
  const b = await run('build', '-color=false');
  assert.equal(b.code, 0, b.stdout + b.stderr);
  // the plugin's values replace builder's own (its ID, not the run key); a usual key it does not
  // give reads <unknown>, as Packer prints it
  assert.equal(readFileSync(join(dir, 'out.txt'), 'utf8'), 'id=i-0abc source=img-42 host=<unknown>\npost img-42\n');

  rmSync(join(dir, 'out.txt'));
  writeFileSync(join(dir, 't.pkr.hcl'), template('NotGenerated'));
  const bad = await run('build', '-color=false');
  assert.equal(bad.code, 1, bad.stdout + bad.stderr);
  assert.match(bad.stdout + bad.stderr, /NotGenerated/);
});

test('a native builder still refuses a build.* name it does not give, at validate', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'builder-generated-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 't.pkr.hcl'), template('SourceImage').replace('source "generating" "a" {}', 'source "null" "a" {\n  communicator = "none"\n}').replace('source.generating.a', 'source.null.a'));
  const v = await runInProcess(['validate', 't.pkr.hcl'], { cwd: dir, env: {} });
  assert.equal(v.code, 1, v.stdout + v.stderr);
  assert.match(v.stderr, /SourceImage/);
});

/**
 * A kept instance that is gone when the build resumes: the run says so, records it, and builds
 * from the start. The null and file builders cannot lose an instance (the null builder's is the
 * host it connects to), so this test registers a builder of its own whose instances are files in
 * the build's folder — deleting the file makes the instance vanish — and runs `builder build`
 * in-process against it, with the real state, planner and runner.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nativeComponents } from '../../src/components.js';
import type { BuilderDef } from '../../src/sdk/component.js';
import type { StateFile } from '../../src/state/types.js';
import { runInProcess } from '../cli/run.js';

let created = 0;
/** Instances are files named by their id in the working folder. */
const vanishing: BuilderDef<Record<string, never>> = {
  type: 'vanishing',
  builderId: 'test.vanishing',
  configSpec: { attributes: {} },
  prepare: () => ({ config: {}, errors: [], warnings: [] }),
  async create(_config, ctx) {
    const id = `vm-${++created}`;
    writeFileSync(join(ctx.cwd, id), '');
    return { id, metadata: {} };
  },
  async connect() {
    return {};
  },
  async finish(_config, instance) {
    return { builderId: 'test.vanishing', id: instance.id, files: [], description: `instance ${instance.id}`, state: {}, destroy: async () => undefined };
  },
  async destroy(_config, instance, ctx) {
    rmSync(join(ctx.cwd, instance.id), { force: true });
  },
  async reconnect(_config, instance, ctx) {
    return existsSync(join(ctx.cwd, instance.id));
  },
};

const template = `source "vanishing" "a" {}
build {
  sources = ["source.vanishing.a"]
  provisioner "shell-local" {
    inline = ["echo s1 >> steps.log"]
  }
  provisioner "shell-local" {
    inline = ["echo s2 >> steps.log", "test -f fixed"]
  }
}
`;

test('a kept instance that is gone on resume: -plan and the run say so, and the run builds from the start', async (t) => {
  const base = nativeComponents();
  const components = { ...base, builders: base.builders.with([vanishing as BuilderDef<unknown>]) };
  const dir = mkdtempSync(join(tmpdir(), 'builder-gone-'));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  writeFileSync(join(dir, 't.pkr.hcl'), template);
  const build = (...args: string[]) => runInProcess(['build', '-color=false', ...args, 't.pkr.hcl'], { cwd: dir, env: { PATH: process.env.PATH }, components });
  const state = async (): Promise<StateFile> => JSON.parse((await runInProcess(['state', 'pull'], { cwd: dir, components })).stdout) as StateFile;

  const first = await build();
  assert.equal(first.code, 1, first.stdout + first.stderr);
  const kept = (await state()).builds['t.pkr.hcl/vanishing.a']!;
  assert.equal(kept.instance?.id, 'vm-1');
  assert.equal(kept.instance?.keep_on_failure, true);
  assert.ok(existsSync(join(dir, 'vm-1')), 'the failed build kept its instance');

  rmSync(join(dir, 'vm-1')); // the instance vanishes (deleted outside builder)
  writeFileSync(join(dir, 'fixed'), '');
  const plan = await build('-plan');
  assert.equal(plan.code, 0, plan.stdout + plan.stderr);
  assert.match(plan.stdout, /the kept instance is gone/, 'the plan checks the kept instance, as the run does');
  assert.match(plan.stdout, /Plan: 1 to build from the start, 0 to resume, 0 up to date\./);
  assert.equal((await state()).builds['t.pkr.hcl/vanishing.a']?.instance?.id, 'vm-1', '-plan writes nothing');

  const second = await build();
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.match(second.stdout, /The kept instance vm-1 is gone; building from the start\./);
  assert.deepEqual(readFileSync(join(dir, 'steps.log'), 'utf8').trim().split('\n'), ['s1', 's2', 's1', 's2'], 'step 1 ran again on the new instance');
  const after = (await state()).builds['t.pkr.hcl/vanishing.a']!;
  assert.equal(after.status, 'complete');
  assert.deepEqual(after.provisioners.map((p) => p.status), ['complete', 'complete']);
  assert.equal(after.artifacts[0]?.id, 'vm-2', 'the artifact is the new instance\'s');
  assert.equal(after.instance, null, 'an instance that ends with the build is not kept once it completed');
});

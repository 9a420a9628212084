/**
 * The defects of the stateful core found by trying `builder` as a new user would (issue 9's first
 * list), each end to end through the CLI: they failed on the tree before the stateful-core work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, copyFile, readFile, writeFile } from 'node:fs/promises';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nativeComponents } from '../../src/components.js';
import type { BuilderDef } from '../../src/sdk/component.js';
import type { StateFile } from '../../src/state/types.js';
import { runInProcess } from '../cli/run.js';
import { repoRoot } from '../build/cli.js';
import { expectExit, inWorkdir } from './semantics-helpers.js';
import { nullShellLocal } from '../helpers/templates.js';

test('a removed step of a completed build rebuilds from the start (never on a machine later steps changed)', async () => {
  await inWorkdir(async (w) => {
    await copyFile(join(repoRoot, 'examples', 'multi-provisioner.pkr.hcl'), join(w.dir, 't.pkr.hcl'));
    expectExit(await w.build('t.pkr.hcl'), 0);
    const text = await readFile(join(w.dir, 't.pkr.hcl'), 'utf8');
    const second = text.indexOf('  provisioner "shell-local" {', text.indexOf('Step 1'));
    const third = text.indexOf('  provisioner "shell-local" {', second + 1);
    await writeFile(join(w.dir, 't.pkr.hcl'), text.slice(0, second) + text.slice(third).replace("-eq 2", '-eq 1'));
    const again = await w.build('t.pkr.hcl');
    expectExit(again, 0);
    assert.match(again.stdout, /Building from the start: /);
    assert.doesNotMatch(again.stdout, /Resuming/);
    assert.match(again.stdout, /=== Step 1: Setup ===/, 'every step ran again');
  });
});

test("a shell-local post-processor's script is fingerprinted: editing it rebuilds", async () => {
  await inWorkdir(async (w) => {
    await w.write('pp.sh', '#!/bin/sh\necho first >> pp.log\n');
    await chmod(join(w.dir, 'pp.sh'), 0o755);
    await w.write(
      't.pkr.hcl',
      `source "null" "a" { communicator = "none" }
build {
  sources = ["source.null.a"]
  post-processor "shell-local" { script = "pp.sh" }
}
`,
    );
    expectExit(await w.build('t.pkr.hcl'), 0);
    const same = await w.build('t.pkr.hcl');
    expectExit(same, 0);
    assert.match(same.stdout, /Up to date: /);
    await w.write('pp.sh', '#!/bin/sh\necho second >> pp.log\n');
    const edited = await w.build('t.pkr.hcl');
    expectExit(edited, 0);
    assert.doesNotMatch(edited.stdout, /Up to date: /);
    assert.deepEqual(await w.lines('pp.log'), ['first', 'second']);
  });
});

test('-force keeps Packer\'s meaning only: a CI job that always passes it still skips and resumes; -replace builds from the start', async () => {
  await inWorkdir(async (w) => {
    await w.write('t.pkr.hcl', nullShellLocal(['echo one >> steps.log'], ['echo two >> steps.log', 'test -f ok']));
    const failed = await w.build('-force', 't.pkr.hcl');
    expectExit(failed, 1);
    assert.match(failed.stdout, /Resume from the step that did not complete with: builder build -force t\.pkr\.hcl — /);
    await w.write('ok', '');
    const resumed = await w.build('-force', 't.pkr.hcl');
    expectExit(resumed, 0);
    assert.match(resumed.stdout, /Resuming/);
    assert.deepEqual(await w.lines('steps.log'), ['one', 'two', 'two'], 'the first step did not run again');
    const skipped = await w.build('-force', 't.pkr.hcl');
    expectExit(skipped, 0);
    assert.match(skipped.stdout, /Up to date: /);
    const replaced = await w.build('-replace=null.*', 't.pkr.hcl');
    expectExit(replaced, 0);
    assert.match(replaced.stdout, /Building from the start: -replace names it/);
    assert.deepEqual(await w.lines('steps.log'), ['one', 'two', 'two', 'one', 'two']);
  });
});

/** Two steps; the second fails until a file named `ok` exists. */
const FAILS_UNTIL_OK = nullShellLocal(['echo one >> steps.log'], ['test -f ok']);

test('a failed -replace run prints a resume command that resumes (without -replace)', async () => {
  await inWorkdir(async (w) => {
    await w.write('t.pkr.hcl', FAILS_UNTIL_OK);
    const failed = await w.build('-replace', 'null.a', 't.pkr.hcl');
    expectExit(failed, 1);
    const hint = /Resume from the step that did not complete with: (.*) — /.exec(failed.stdout)?.[1];
    assert.equal(hint, 'builder build t.pkr.hcl');
    await w.write('ok', '');
    const resumed = await w.build('t.pkr.hcl');
    expectExit(resumed, 0);
    assert.deepEqual(await w.lines('steps.log'), ['one'], 'the resume did not run the first step again');
  });
});

test('-on-error has one default policy: keep what can be resumed; an explicit cleanup keeps nothing', async () => {
  await inWorkdir(async (w) => {
    await w.write('t.pkr.hcl', FAILS_UNTIL_OK);
    expectExit(await w.build('-on-error=cleanup', 't.pkr.hcl'), 1);
    assert.equal((await w.buildState('null.a')).instance?.keep_on_failure ?? false, false);
    const next = await w.build('-plan', 't.pkr.hcl');
    assert.match(next.stdout, /Building from the start/);
    expectExit(await w.build('t.pkr.hcl'), 1);
    assert.equal((await w.buildState('null.a')).instance?.keep_on_failure, true);
  });
});

/** A builder without `reconnect`, whose instances are files: a failed build must not leak one. */
function fileInstances(): BuilderDef<Record<string, never>> {
  let n = 0;
  return {
    type: 'leaky',
    builderId: 'test.leaky',
    configSpec: { attributes: {} },
    prepare: () => ({ config: {}, errors: [], warnings: [] }),
    async create(_c, ctx) {
      const id = `vm-${++n}`;
      writeFileSync(join(ctx.cwd, id), '');
      return { id, metadata: {} };
    },
    async connect() {
      return {};
    },
    async finish(_c, instance) {
      return { builderId: 'test.leaky', id: instance.id, files: [], description: instance.id, state: {}, destroy: async () => undefined };
    },
    async destroy(_c, instance, ctx) {
      rmSync(join(ctx.cwd, instance.id), { force: true });
    },
  };
}

test('a builder that cannot reconnect: a failed build destroys its instance, and -on-error=abort leaves it recorded so the next run destroys it', async () => {
  await inWorkdir(async (w) => {
    const base = nativeComponents();
    const components = { ...base, builders: base.builders.with([fileInstances() as BuilderDef<unknown>]) };
    await w.write(
      't.pkr.hcl',
      `source "leaky" "a" {}
build {
  sources = ["source.leaky.a"]
  provisioner "shell-local" { inline = ["test -f ok"] }
}
`,
    );
    const run = (...args: string[]) => runInProcess(['build', '-color=false', ...args, 't.pkr.hcl'], { cwd: w.dir, env: { PATH: process.env.PATH }, components });
    const state = async (): Promise<StateFile> => JSON.parse((await runInProcess(['state', 'pull'], { cwd: w.dir })).stdout) as StateFile;

    expectExit(await run(), 1);
    assert.equal(existsSync(join(w.dir, 'vm-1')), false, 'the instance was destroyed');
    assert.equal((await state()).builds['t.pkr.hcl/leaky.a']!.instance, null, 'and the state says so');

    expectExit(await run('-on-error=abort'), 1);
    assert.equal(existsSync(join(w.dir, 'vm-2')), true, 'abort leaves the instance');
    assert.equal((await state()).builds['t.pkr.hcl/leaky.a']!.instance?.id, 'vm-2', 'and the state still records it');

    await w.write('ok', '');
    const fresh = await run();
    expectExit(fresh, 0);
    assert.match(fresh.stdout, /Destroying the kept instance vm-2/);
    assert.equal(existsSync(join(w.dir, 'vm-2')), false, 'the next run destroyed the leftover instance');
    assert.equal(existsSync(join(w.dir, 'vm-3')), false, 'and its own, as Packer does');
  });
});

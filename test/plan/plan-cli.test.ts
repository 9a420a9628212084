/**
 * The planner end to end through the CLI. The first example: build examples/multi-provisioner.pkr.hcl,
 * move the work of its second provisioner into the first and delete it, build again. The host's work/ folder is gone (step 4 removed it),
 * so resuming at the changed place fails; the plan names the removed step and builds fresh, and
 * the build succeeds as Packer's does. And an impure value is named as the cause of a change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../build/cli.js';
import { expectExit, inWorkdir } from '../stateful/semantics-helpers.js';

test('multi-provisioner: a removed provisioner of a completed build rebuilds fresh, named as removed', async () => {
  await inWorkdir(async (w) => {
    const text = await readFile(join(repoRoot, 'examples/multi-provisioner.pkr.hcl'), 'utf8');
    await w.write('t.pkr.hcl', text);
    expectExit(await w.build('t.pkr.hcl'), 0);

    const step2 = /\n {2}provisioner "shell-local" \{\n {4}inline = \[\n {6}"echo '=== Step 2: Processing ==='",[^]*?\n {2}\}\n/;
    assert.match(text, step2);
    // Step 3 checks for two lines: step 1 now writes both.
    const step1 = `"echo 'test data' > \${var.work_dir}/data.txt",`;
    assert.ok(text.includes(step1));
    await w.write('t.pkr.hcl', text.replace(step2, '\n').replace(step1, `${step1}\n      "echo 'additional data' >> \${var.work_dir}/data.txt",`));
    const second = await w.build('t.pkr.hcl');
    expectExit(second, 0);
    assert.match(second.stdout, /==> multi-provisioner-test\.null\.steps: Building from the start: provisioner 1 \(shell-local\): inline, provisioner 2 \(shell-local\) was removed; the host already went through the steps after it in the last build, so the build starts from the beginning\.\n/);
    assert.match(second.stdout, /=== Step 1: Setup ===/);
    assert.match(second.stdout, /=== Step 4: Cleanup ===/);
    const state = await w.buildState('multi-provisioner-test.null.steps');
    assert.equal(state.status, 'complete');
    assert.equal(state.provisioners.length, 3);
    assert.deepEqual(state.post_processor_chains, [1]);
    assert.ok(state.provisioners.every((p) => Object.keys(p.inputs).length > 0), 'part hashes recorded');
  });
});

test('a value from timestamp() through a local is named as the cause of the change', async () => {
  await inWorkdir(async (w) => {
    await w.write(
      't.pkr.hcl',
      `locals {
  stamp = timestamp()
  tag   = "build-\${local.stamp}"
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo \${local.tag} > /dev/null"]
  }
}
`,
    );
    expectExit(await w.build('t.pkr.hcl'), 0);
    // timestamp() has a one-second resolution: wait for the next second without timing anything.
    const first = await w.buildState('null.a');
    let again = await w.build('t.pkr.hcl');
    while (/Up to date: /.test(again.stdout)) again = await w.build('t.pkr.hcl');
    expectExit(again, 0);
    assert.match(again.stdout, /==> null\.a: Building from the start: provisioner 1 \(shell-local\): inline \(from timestamp\(\)\); /);
    assert.notEqual((await w.buildState('null.a')).provisioners[0]!.inputs.inline, first.provisioners[0]!.inputs.inline);
  });
});

/**
 * `builder plan` names who holds a build another run is working on (issue 11), on the file
 * backend (test/stateful/postgres-shared-run.test.ts checks it on PostgreSQL, in a shared run):
 * while a `builder build` is in a step, the plan of that build says "held by WHO (pid N, build
 * since …, lock ID …): running now"; `plan -json` gives the same holder as the build's `held_by`
 * (no run id or expiry: file locks have neither); once the build ended, neither says anything of
 * the kind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { until } from '../helpers/postgres.js';
import type { PlanDocumentJson } from '../../src/plan/plan-json.js';
import { expectExit, inWorkdir, runCli, startCli } from '../stateful/semantics-helpers.js';

test('plan names the holder of a build another run is working on', async () => {
  await inWorkdir(async (w) => {
    await w.write(
      't.pkr.hcl',
      'source "null" "a" { communicator = "none" }\nsource "null" "b" { communicator = "none" }\n' +
        'build {\n  sources = ["source.null.a", "source.null.b"]\n' +
        '  provisioner "shell-local" { inline = ["echo s1 >> steps.log"] }\n' +
        '  provisioner "shell-local" { inline = ["if [ $PACKER_BUILD_NAME = a ]; then touch started; while [ ! -e go ]; do sleep 0.1; done; fi"] }\n' +
        '}\n',
    );
    const run = startCli(['build', '-color=false', '-only=null.a', 't.pkr.hcl'], w.dir);
    try {
      await until('the build to be in its second step', async () => existsSync(join(w.dir, 'started')) || run.child.exitCode !== null);
      const plan = await runCli(['plan', '-color=false', 't.pkr.hcl'], w.dir);
      expectExit(plan, 0);
      assert.match(plan.stdout, new RegExp(`\\n\\s+null\\.a:\\s+held by \\S+ \\(pid ${run.child.pid}, build since [^)]+, lock ID [^)]+\\): running now; what it does may change this plan\\n`));
      assert.doesNotMatch(plan.stdout, /null\.b:\s+held by/, 'a build nobody holds names no holder');
      const lockId = /lock ID ([^)]+)\)/.exec(plan.stdout)?.[1];
      const json = await runCli(['plan', '-json', 't.pkr.hcl'], w.dir);
      expectExit(json, 0);
      const doc = JSON.parse(json.stdout) as PlanDocumentJson;
      const a = doc.builds.find((b) => b.build === 'null.a');
      const held = a?.held_by;
      assert.ok(held, 'plan -json names the holder of null.a');
      assert.deepEqual(Object.keys(held).sort(), ['host', 'lock_id', 'operation', 'pid', 'since', 'who'], 'file locks have no run id or expiry');
      assert.equal(held.pid, run.child.pid);
      assert.equal(held.operation, 'build');
      assert.equal(held.lock_id, lockId, 'the same lock as the text form names');
      assert.match(held.who, /\S+@\S+/);
      assert.ok(!Number.isNaN(Date.parse(held.since)), `since is a time: ${held.since}`);
      assert.equal(doc.builds.find((b) => b.build === 'null.b')?.held_by, undefined, 'a build nobody holds has no held_by');
    } finally {
      await writeFile(join(w.dir, 'go'), '');
      expectExit(await run.done, 0);
    }
    const after = await runCli(['plan', '-color=false', 't.pkr.hcl'], w.dir);
    expectExit(after, 0);
    assert.doesNotMatch(after.stdout, /held by/);
    const afterJson = await runCli(['plan', '-json', 't.pkr.hcl'], w.dir);
    expectExit(afterJson, 0);
    assert.ok((JSON.parse(afterJson.stdout) as PlanDocumentJson).builds.every((b) => b.held_by === undefined), 'no holder once the build ended');
  });
});

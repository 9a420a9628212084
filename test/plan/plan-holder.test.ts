/**
 * `builder plan` names who holds a build another run is working on (issue 11), on the file
 * backend (test/stateful/postgres-shared-run.test.ts checks it on PostgreSQL, in a shared run):
 * while a `builder build` is in a step, the plan of that build says "held by WHO (pid N, build
 * since …, lock ID …): running now"; once the build ended, it says nothing of the kind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { until } from '../helpers/postgres.js';
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
    } finally {
      await writeFile(join(w.dir, 'go'), '');
      expectExit(await run.done, 0);
    }
    const after = await runCli(['plan', '-color=false', 't.pkr.hcl'], w.dir);
    expectExit(after, 0);
    assert.doesNotMatch(after.stdout, /held by/);
  });
});

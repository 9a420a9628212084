/**
 * `build -plan` and `plan` read the state without the write lock (issue 15): `build -plan` printed
 * its plan and then waited for the write lock (to compact the journal on close) as long as another
 * process held it. The write lock is held here by another client for the whole test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FileStateClient } from '../../src/state/file/client.js';
import { runInProcess } from '../cli/run.js';
import { expectExit, inWorkdir } from '../stateful/semantics-helpers.js';

test('build -plan and plan finish while another process holds the write lock', async () => {
  await inWorkdir(async (w) => {
    await w.write('t.pkr.hcl', 'source "null" "a" { communicator = "none" }\nbuild { sources = ["source.null.a"] }\n');
    expectExit(await w.build('t.pkr.hcl'), 0); // a state with a journal to compact
    const holder = new FileStateClient({ path: join(w.dir, '.packer.d', 'builder-state.json') });
    const lock = await holder.lock({ scope: 'write', operation: 'held by the test', timeoutMs: 1000 });
    try {
      for (const args of [['build', '-plan', 't.pkr.hcl'], ['plan', 't.pkr.hcl']]) {
        const r = await runInProcess(args, { cwd: w.dir, env: {} });
        assert.equal(r.code, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        assert.match(r.stdout, /1 up to date/);
      }
    } finally {
      await holder.unlock(lock.id);
    }
  });
});

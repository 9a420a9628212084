/**
 * SIGINT during a long step: the step's whole process tree ends, cleanups run (the
 * error-cleanup-provisioner here), the run says "Cleanly cancelled builds after being
 * interrupted." and exits 1; no process the step started is left (checked by pid).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { alive, inTempDir } from './helpers.js';
import { startCli } from './cli.js';
import { keptAfterFailureMessage } from '../../src/stateful/messages.js';
import type { InstanceState } from '../../src/state/types.js';

/** What the null builder records for `communicator = "none"`: no host of its own. */
const nullInstance: InstanceState = { id: 'null', builder_id: 'fnoeding.null', provider: 'null', created_at: '', metadata: { communicator: 'none' }, keep_on_failure: true };

const template = `
source "null" "a" {
  communicator = "none"
}

source "null" "b" {
  communicator = "none"
}

build {
  sources = ["source.null.a", "source.null.b"]

  provisioner "shell-local" {
    inline = [
      "sleep 300 & echo $! > child-$PACKER_BUILD_NAME.pid",
      "(sleep 300 & echo $! > grandchild-$PACKER_BUILD_NAME.pid; wait) &",
      "echo $$ > shell-$PACKER_BUILD_NAME.pid",
      "echo started",
      "wait",
    ]
  }

  error-cleanup-provisioner "shell-local" {
    inline = ["echo cleaned > cleaned-$PACKER_BUILD_NAME.txt"]
  }
}
`;

async function readPid(dir: string, name: string): Promise<number> {
  for (let i = 0; i < 500; i++) {
    const n = Number((await readFile(join(dir, name), 'utf8').catch(() => '')).trim());
    if (n > 0) return n;
    await delay(20);
  }
  throw new Error(`${name} never appeared`);
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  test(`${sig} cancels every running step, kills its process tree and cleans up`, async () => {
    await inTempDir(async (dir) => {
      await writeFile(join(dir, 't.pkr.hcl'), template);
      const { child, done } = startCli(['build', 't.pkr.hcl'], dir);
      const pids: number[] = [];
      for (const b of ['a', 'b']) for (const f of ['child', 'grandchild', 'shell']) pids.push(await readPid(dir, `${f}-${b}.pid`));
      assert.ok(pids.every(alive));
      child.kill(sig);
      const r = await done;
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /Cancelling build after receiving interrupt/);
      // Packer's last line; builder then says, per build, how to resume (src/stateful/messages.ts).
      const after = r.stdout.split('Cleanly cancelled builds after being interrupted.\n')[1];
      assert.ok(after !== undefined, r.stdout);
      assert.deepEqual(
        after.split('\n').filter((l) => l !== ''),
        ['a', 'b'].map((b) => `==> null.${b}: ${keptAfterFailureMessage(nullInstance, true, 'builder build t.pkr.hcl', `builder state rm t.pkr.hcl null.${b}`)}`),
      );
      assert.equal(await readFile(join(dir, 'cleaned-a.txt'), 'utf8'), 'cleaned\n');
      assert.equal(await readFile(join(dir, 'cleaned-b.txt'), 'utf8'), 'cleaned\n');
      for (let i = 0; i < 100 && pids.some(alive); i++) await delay(20);
      assert.deepEqual(pids.filter(alive), [], 'no process of the cancelled steps is left');
    });
  });
}

/**
 * `builder snapshots list|prune` without a container engine: what prune chooses (orphaned, missing,
 * beyond -keep per build), and the commands on a state whose snapshots' builder cannot be reached
 * (a warning; recorded snapshots still listed; nothing removed). Against Podman, the commands are
 * run end to end in test/builders/docker-stateful.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toPrune } from '../../src/commands/snapshots/prune.js';
import type { SnapshotRow } from '../../src/commands/snapshots/inventory.js';
import { openFileState } from '../../src/state/open.js';
import { runInProcess } from '../cli/run.js';
import { completeBuild, tempDir } from '../state/helpers/fixtures.js';

const row = (id: string, build: string, step: number, status: SnapshotRow['status'] = 'recorded'): SnapshotRow => ({ id, build, step, status, created: 0, size: 0, builderType: 'docker' });

test('snapshots prune chooses orphaned and missing snapshots, and with -keep=N all but the newest N of each build', () => {
  const rows = [row('a1', 'a', 1), row('a2', 'a', 2), row('a3', 'a', 3), row('b1', 'b', 1), row('o', 'gone', 2, 'orphaned'), row('m', 'b', 2, 'missing')];
  assert.deepEqual(toPrune(rows, undefined).map((r) => r.id), ['o', 'm']);
  assert.deepEqual(toPrune(rows, 1).map((r) => r.id), ['o', 'm', 'a2', 'a1']);
  assert.deepEqual(toPrune(rows, 0).map((r) => r.id).sort(), ['a1', 'a2', 'a3', 'b1', 'm', 'o']);
});

test('snapshots list and prune: an engine that cannot be reached is a warning; recorded snapshots are listed and kept', async (t) => {
  const dir = tempDir(t);
  const m = await openFileState({ path: join(dir, '.packer.d', 'builder-state.json') });
  await m.update('web.docker.main', () => {
    const b = completeBuild('web', 2);
    b.type = 'docker';
    b.provisioners[0]!.snapshot = { id: 'f'.repeat(64), chain: 'sha256:x' };
    return b;
  });
  await m.close();
  const env = { DOCKER_HOST: `unix://${join(dir, 'no-such.sock')}` };
  const list = await runInProcess(['snapshots', 'list'], { cwd: dir, env });
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stderr, /Warning: could not list the docker snapshots: /);
  assert.match(list.stdout, /^BUILD\s+STEP\s+STATUS\s+ID\s+SIZE\s+CREATED\nweb\.docker\.main\s+step 1\s+recorded\s+f{19}\s+-\s+-\n$/);
  const prune = await runInProcess(['snapshots', 'prune'], { cwd: dir, env });
  assert.equal(prune.code, 0, prune.stderr);
  assert.match(prune.stdout, /Pruned 0 snapshot\(s\); 1 kept\./);
  const usage = await runInProcess(['snapshots', 'prune', '-keep=-1'], { cwd: dir, env });
  assert.equal(usage.code, 1);
  assert.match(usage.stderr, /-keep must be 0 or more/);
});

test('builder.hcl: snapshots = false is read (as -snapshots=false); a value that is not a bool is refused naming the place', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 't.pkr.hcl'), 'source "null" "a" {\n  communicator = "none"\n}\nbuild {\n  sources = ["source.null.a"]\n}\n');
  writeFileSync(join(dir, 'builder.hcl'), 'snapshots = false\n');
  const ok = await runInProcess(['plan', 't.pkr.hcl'], { cwd: dir, env: {} });
  assert.equal(ok.code, 0, ok.stderr);
  writeFileSync(join(dir, 'builder.hcl'), 'snapshots = "no"\n');
  const bad = await runInProcess(['plan', 't.pkr.hcl'], { cwd: dir, env: {} });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /builder\.hcl:1,13: snapshots in .*builder\.hcl must be true or false\./);
});

/**
 * `state push` / `state restore` are not starved by builds that keep running (issue 15): the state
 * lock excludes every build lock, and builds that overlap (one always running, checkpointing) never
 * left a moment without a build lock, so a waiting push timed out however long it waited. The
 * waiter now records its intent: no new build lock is granted meanwhile, the running ones end, and
 * the state lock is granted. No timing is asserted: the push is given a minute, the builds finish
 * in milliseconds each.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openFileState } from '../../src/state/open.js';
import { completeBuild, tempDir } from '../state/helpers/fixtures.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a state lock waiter gets the lock while overlapping builds keep starting and checkpointing', async (t) => {
  const path = join(tempDir(t), 'builder-state.json');
  let stop = false;
  const runs = [0, 0, 0];
  /** A "builder" process: one build at a time, each held for a few checkpoints, back to back. */
  const worker = async (w: number): Promise<void> => {
    const m = await openFileState({ path, lockTimeoutMs: 60_000 });
    try {
      await sleep(w * 7); // staggered, so that some build is always running
      while (!stop) {
        const key = `w${w}.null.main`;
        const lock = await m.lockBuild(key, 'build');
        for (let i = 0; i < 5 && !stop; i++) {
          await m.update(key, () => completeBuild(`w${w}-${runs[w]}`));
          await sleep(3);
        }
        if (lock) await m.unlock(lock.id);
        runs[w]!++;
      }
    } finally {
      await m.close();
    }
  };
  const workers = [0, 1, 2].map(worker);
  try {
    while (runs.some((r) => r < 2)) await sleep(10); // every worker is going
    const pusher = await openFileState({ path, lockTimeoutMs: 60_000 });
    const lock = await pusher.lockState('state push');
    assert.ok(lock, 'the state lock was granted');
    assert.equal(existsSync(`${path}.locks/state.intent`), false, 'the intent is removed once the lock is granted');
    const before = runs.reduce((a, b) => a + b);
    await pusher.unlock(lock.id);
    await pusher.close();
    // The builds go on after the push.
    while (runs.reduce((a, b) => a + b) < before + 3) await sleep(10);
  } finally {
    stop = true;
    await Promise.all(workers);
  }
});

test('a run that holds a build lock takes its next build lock despite an intent (no deadlock with the waiter)', async (t) => {
  const path = join(tempDir(t), 'builder-state.json');
  const run = await openFileState({ path, lockTimeoutMs: 60_000 });
  const first = await run.lockBuild('a.null.main', 'build');
  const pusher = await openFileState({ path, lockTimeoutMs: 60_000 });
  const pushed = pusher.lockState('state push');
  while (!existsSync(`${path}.locks/state.intent`)) await sleep(5);
  // Another process's new build waits (fails at once with no lock timeout)…
  const other = await openFileState({ path, lockTimeoutMs: 0 });
  await assert.rejects(other.lockBuild('c.null.main', 'build'), /waiting to state push/);
  await other.close();
  // …but the run already inside takes its second build's lock.
  const second = await run.lockBuild('b.null.main', 'build');
  assert.ok(first && second);
  await run.close();
  const lock = await pushed;
  assert.ok(lock);
  await pusher.close();
});

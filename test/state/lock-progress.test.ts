/**
 * Waiting for a held lock says so (issue 13): "Acquiring state lock…" naming the holder when the
 * wait starts, then a line per interval, as Terraform does. The interval is injected (no timing
 * is asserted): the holder lets go once the waiter has said it is still waiting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openFileState } from '../../src/state/open.js';
import { StateLockedError } from '../../src/state/errors.js';
import { completeBuild, tempDir } from './helpers/fixtures.js';

test('a wait for a build lock says "Acquiring state lock" with the holder, then a line per interval, and takes the lock once free', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const holder = await openFileState({ path });
  await holder.update('web', () => completeBuild('web'));
  const held = await holder.lockBuild('web', 'build');
  const said: string[] = [];
  const waiter = await openFileState({
    path,
    lockTimeoutMs: 10 * 60_000,
    lockProgressIntervalMs: 1,
    onProgress: (m) => {
      said.push(m);
      if (said.length === 2) void holder.unlock(held!.id);
    },
  });
  const got = await waiter.lockBuild('web', 'build');
  assert.ok(got, 'the lock is taken once its holder let go');
  assert.ok(said.length >= 2);
  assert.match(
    said[0]!,
    new RegExp(`^Acquiring state lock\\. This may take a few moments\\.\\.\\. \\(waiting for the lock of build "web" of .*state\\.json, held by \\S+ \\(pid ${process.pid}\\) for "build" since \\S+, lock ID ${held!.id}\\)$`),
  );
  assert.match(said[1]!, /^Still waiting for the lock of build "web" of .*state\.json \(\S+ elapsed\)\.\.\.$/);
  await waiter.close();
  await holder.close();
});

test('no wait (-lock-timeout 0) refuses at once and says nothing about acquiring', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const holder = await openFileState({ path });
  await holder.update('web', () => completeBuild('web'));
  await holder.lockBuild('web', 'build');
  const said: string[] = [];
  const other = await openFileState({ path, onProgress: (m) => void said.push(m) });
  await assert.rejects(other.lockBuild('web', 'build'), StateLockedError);
  assert.deepEqual(said, []);
  await holder.close();
});

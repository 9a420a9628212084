/**
 * The in-memory backend passes the shared backend conformance suite (its tests across processes
 * are skipped: a memory state lives in one process), and is reached through openState like any
 * other backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { MemoryStateClient } from '../../src/state/memory/client.js';
import { resolveStateLocation } from '../../src/state/location.js';
import { openState } from '../../src/state/open.js';
import { newBuild } from '../../src/state/types.js';
import { runBackendConformance } from './conformance.js';

runBackendConformance('memory', async () => {
  const name = `conformance-${randomUUID()}`;
  return {
    open: async () => new MemoryStateClient({ name }),
    spec: undefined,
    cleanup: async () => undefined,
  };
});

test('memory:// locations open the memory backend, one store per workspace', async () => {
  const url = `memory://${randomUUID()}`;
  const dev = resolveStateLocation({ state: url, workspace: 'dev', env: {}, cwd: '/' });
  assert.equal(dev.backend, 'memory');
  const m = await openState(dev);
  await m.update('a', () => newBuild('a', 'null'));
  assert.deepEqual((await openState(dev)).buildKeys(), ['a']);
  assert.equal((await openState(resolveStateLocation({ state: url, env: {}, cwd: '/' }))).exists, false, 'the default workspace is another state');
});

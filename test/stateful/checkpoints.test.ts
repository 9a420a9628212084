/**
 * Checkpoints (src/stateful/checkpoints.ts) against the real file backend: which records of a build
 * are flushed to the disk (fdatasync/fsync) and which are only persisted, in the order the build
 * runner writes them. Every record is readable by another reader at once, flushed or not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { beginBuild, checkpointHooks, type CheckpointTarget } from '../../src/stateful/checkpoints.js';
import type { Artifact } from '../../src/sdk/component.js';
import type { BuildInputs, BuildPlan } from '../../src/plan/plan.js';
import { FileStateClient } from '../../src/state/file/client.js';
import { nodeFileSystem, type FileSystem } from '../../src/state/file/fs.js';
import { StateManager } from '../../src/state/manager.js';
import { openFileState } from '../../src/state/open.js';
import { tempDir } from '../state/helpers/fixtures.js';

/** A file system that logs every flush with the name of the file or folder flushed. */
function recordingFs(): { fs: FileSystem; flushes: string[] } {
  const names = new Map<number, string>();
  const flushes: string[] = [];
  const fs: FileSystem = {
    ...nodeFileSystem,
    open(path, flags, mode) {
      const fd = nodeFileSystem.open(path, flags, mode);
      names.set(fd, basename(path));
      return fd;
    },
    openFolder(path) {
      const fd = nodeFileSystem.openFolder(path);
      names.set(fd, basename(path));
      return fd;
    },
    fdatasync(fd) {
      flushes.push(names.get(fd) ?? '?');
      nodeFileSystem.fdatasync(fd);
    },
    fsync(fd) {
      flushes.push(names.get(fd) ?? '?');
      nodeFileSystem.fsync(fd);
    },
  };
  return { fs, flushes };
}

const inputs: BuildInputs = {
  key: 'b.null.s',
  name: 'b.null.s',
  sourceFingerprint: 'sha256:source',
  provisioners: [{ type: 'shell-local', name: '', fingerprint: 'sha256:p0' }],
  postProcessorChains: [[{ type: 'manifest', name: '', fingerprint: 'sha256:pp0' }]],
  canReconnect: true,
  instanceOutlivesBuild: true,
  builderType: 'null',
};

const fresh: BuildPlan = {
  key: inputs.key,
  name: inputs.name,
  action: 'fresh',
  reason: 'no state',
  firstProvisioner: 0,
  firstChain: 0,
  artifacts: [],
  instanceOutlivesBuild: true,
  steps: [],
  changes: [],
};

const artifact: Artifact = {
  builderId: 'packer.post-processor.manifest',
  id: 'Null',
  files: [],
  description: 'Did not export anything. This is the null builder',
  state: {},
  destroy: async () => undefined,
};

test('a build flushes its instance, each step end and its artifacts; its layout, status changes and step starts are persisted without a flush', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'state.json');
  const { fs, flushes } = recordingFs();
  const state = await StateManager.open({ client: new FileStateClient({ path, fs }), template: 'x.pkr.hcl' });
  await state.setTemplate({ path: 'x.pkr.hcl', hash: '', variables: {}, files: {} }); // the state file exists
  const target: CheckpointTarget = {
    state,
    key: inputs.key,
    buildName: 'b',
    builderType: 'null',
    builderId: 'fnoeding.null',
    inputs,
    keepInstanceOnFailure: true,
    instanceOutlivesBuild: true,
    cwd: dir,
  };
  const hooks = checkpointHooks(target);
  /** Runs one checkpoint; returns what it flushed, after checking another reader sees it. */
  const step = async (what: string, write: () => Promise<unknown> | void, seen: (s: Awaited<ReturnType<typeof openFileState>>) => unknown): Promise<string[]> => {
    flushes.length = 0;
    await write();
    const reader = await openFileState({ path, template: 'x.pkr.hcl', lock: false });
    assert.ok(seen(reader), `${what}: not visible to another reader`);
    return [...flushes];
  };

  const b = (r: Awaited<ReturnType<typeof openFileState>>) => r.build(inputs.key);
  // The journal is created by the first record, which is not flushed: its folder is flushed with the first flushed record.
  assert.deepEqual(await step('layout', () => beginBuild(target, fresh), (r) => b(r)?.status === 'pending'), []);
  assert.deepEqual(await step('creating', () => hooks.onBuildStatus?.('creating'), (r) => b(r)?.status === 'creating'), []);
  assert.deepEqual(
    await step('instance', () => hooks.onInstance?.({ id: 'i-1', metadata: { host: '127.0.0.1' } }), (r) => b(r)?.instance?.id === 'i-1'),
    ['state.json.journal', basename(dir)],
  );
  assert.deepEqual(await step('provisioning', () => hooks.onBuildStatus?.('provisioning'), (r) => b(r)?.status === 'provisioning'), []);
  hooks.onStepStart?.('provisioner.0', 1);
  assert.deepEqual(
    await step('step end', () => hooks.onStepEnd?.('provisioner.0', { status: 'complete', attempts: 1 }), (r) => b(r)?.provisioners[0]?.status === 'complete'),
    ['state.json.journal'],
  );
  assert.deepEqual(await step('post-processing', () => hooks.onBuildStatus?.('post_processing'), (r) => b(r)?.status === 'post_processing'), []);
  hooks.onStepStart?.('post-processor.0.0', 1);
  assert.deepEqual(
    await step('post-processor end', () => hooks.onStepEnd?.('post-processor.0.0', { status: 'complete', attempts: 1 }), (r) => b(r)?.post_processors[0]?.status === 'complete'),
    ['state.json.journal'],
  );
  assert.deepEqual(await step('complete', () => hooks.onBuildStatus?.('complete'), (r) => b(r)?.status === 'complete'), []);
  hooks.onArtifact?.('post-processor.0.0', artifact);
  assert.deepEqual(
    await step('artifacts', () => hooks.recordArtifacts([artifact]), (r) => b(r)?.artifacts.length === 1),
    ['state.json.journal'],
  );
  // The end of the run writes the whole state durably; the journal's truncation needs no flush
  // (its records are then at or below the state file's serial, which readers skip).
  const closing = await step('close', () => state.close(), (r) => b(r)?.status === 'complete' && b(r)?.artifacts.length === 1);
  assert.equal(closing.length, 2, closing.join(', '));
  assert.match(closing[0]!, /^\.state\.json\.tmp-/);
  assert.equal(closing[1], basename(dir));
});

/**
 * The planner's resume on the builder's recorded artifact: every provisioner completed, a
 * post-processor chain failed (or changed), there is no instance to resume on, and the state
 * records the builder's artifact (step "finish") with its files present — the chains from the
 * first to run re-run on it; no instance is created.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planBuild, type BuildInputs } from '../../src/plan/plan.js';
import { planToJson } from '../../src/plan/plan-json.js';
import { planMessage } from '../../src/stateful/messages.js';
import { newBuild, newStep, type ArtifactState, type BuildState } from '../../src/state/types.js';

function inputs(over: Partial<BuildInputs> = {}): BuildInputs {
  return {
    key: 't/b.file.x',
    name: 'b.file.x',
    builderType: 'file',
    sourceFingerprint: 'src',
    provisioners: [{ type: 'shell-local', name: '', fingerprint: 'p1' }],
    postProcessorChains: [[{ type: 'manifest', name: '', fingerprint: 'm' }], [{ type: 'shell-local', name: 'upload', fingerprint: 's' }]],
    canReconnect: false,
    instanceOutlivesBuild: false,
    ...over,
  };
}

const builderArtifact: ArtifactState = { id: 'File', builder_id: 'packer.file', type: 'file', files: ['out.txt'], metadata: { step: 'finish', description: 'Stored file: out.txt' }, hash: 'sha256:x' };

/** A build of the file builder whose second chain failed; the builder's artifact recorded unless `withArtifact` is false. */
function failedInChain2(withArtifact = true): BuildState {
  const b = newBuild('b', 'file');
  b.status = 'failed';
  b.fingerprint = 'src';
  b.post_processor_chains = [1, 1];
  b.provisioners = [{ ...newStep('shell-local'), status: 'complete', fingerprint: 'p1' }];
  b.post_processors = [
    { ...newStep('manifest'), status: 'complete', fingerprint: 'm' },
    { ...newStep('shell-local', 'upload'), status: 'failed', fingerprint: 's', error: 'exit 1' },
  ];
  b.artifacts = [...(withArtifact ? [builderArtifact] : []), { ...builderArtifact, metadata: { step: 'post-processor.0.0' } }];
  return b;
}

const present = { force: false, artifactPresent: () => true };

test('failed post-processor chain, builder artifact recorded: resume chain 2 on it, no instance', () => {
  const p = planBuild(inputs(), failedInChain2(), present);
  assert.equal(p.action, 'resume');
  assert.equal(p.firstProvisioner, 1);
  assert.equal(p.firstChain, 1);
  assert.equal(p.instance, undefined);
  assert.deepEqual(p.builderArtifact, builderArtifact);
  assert.deepEqual(
    p.steps.map((s) => `${s.label} ${s.action}`),
    ['provisioner 1 (shell-local) skip', 'post-processor 1 (manifest) skip', 'post-processor 2 (upload) run'],
  );
  assert.equal(
    planMessage(p),
    'Resuming: post-processor 2 (upload) failed (exit 1); re-runs post-processor chain 2 on the recorded artifact of the builder (File), without creating an instance.',
  );
  assert.equal(planToJson(p).action, 'resume');
});

test('the builder artifact is not recorded (Packer deleted it), or its files are gone: from the start', () => {
  assert.equal(planBuild(inputs(), failedInChain2(false), present).action, 'fresh');
  const gone = planBuild(inputs(), failedInChain2(), { force: false, artifactPresent: (a) => a.metadata.step !== 'finish' });
  assert.equal(gone.action, 'fresh');
});

test('a provisioner changed or did not complete: from the start, the artifact is not used', () => {
  const changed = planBuild(inputs({ provisioners: [{ type: 'shell-local', name: '', fingerprint: 'p1-new' }] }), failedInChain2(), present);
  assert.equal(changed.action, 'fresh');
  const rec = failedInChain2();
  rec.provisioners[0]!.status = 'failed';
  assert.equal(planBuild(inputs(), rec, present).action, 'fresh');
});

test('a kept instance the builder can reconnect to is preferred (the existing resume)', () => {
  const rec = failedInChain2();
  rec.instance = { id: 'i-1', builder_id: 'x', provider: 'x', created_at: '', metadata: {}, keep_on_failure: true };
  const p = planBuild(inputs({ canReconnect: true }), rec, present);
  assert.equal(p.action, 'resume');
  assert.equal(p.instance?.id, 'i-1');
  assert.equal(p.builderArtifact, undefined);
});

test('a completed build whose post-processor changed re-runs that chain on the recorded artifact', () => {
  const rec = failedInChain2();
  rec.status = 'complete';
  rec.post_processors[1]!.status = 'complete';
  const p = planBuild(inputs({ postProcessorChains: [[{ type: 'manifest', name: '', fingerprint: 'm2' }], [{ type: 'shell-local', name: 'upload', fingerprint: 's' }]] }), rec, present);
  assert.equal(p.action, 'resume');
  assert.equal(p.firstChain, 0);
  assert.match(p.reason, /^post-processor 1 \(manifest\) changed; re-runs post-processor chain 1 on the recorded artifact/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planBuild, type BuildInputs } from '../../src/plan/plan.js';
import { planMessage } from '../../src/stateful/messages.js';
import { newBuild, newStep, type BuildState } from '../../src/state/types.js';

function inputs(over: Partial<BuildInputs> = {}): BuildInputs {
  return {
    key: 'b.null.x',
    name: 'b.null.x',
    builderType: 'null',
    sourceFingerprint: 'src',
    provisioners: [
      { type: 'shell-local', name: '', fingerprint: 'p1' },
      { type: 'shell-local', name: '', fingerprint: 'p2' },
      { type: 'shell-local', name: '', fingerprint: 'p3' },
    ],
    postProcessorChains: [[{ type: 'manifest', name: '', fingerprint: 'm' }]],
    canReconnect: true,
    instanceOutlivesBuild: true,
    ...over,
  };
}

function record(statuses: string[], ppStatus = 'complete', buildStatus: BuildState['status'] = 'complete'): BuildState {
  const b = newBuild('b', 'null');
  b.status = buildStatus;
  b.fingerprint = 'src';
  b.completed_at = '2026-01-01T00:00:00Z';
  b.instance = { id: 'i-1', builder_id: 'null', provider: 'null', created_at: '', metadata: {}, keep_on_failure: buildStatus === 'failed' };
  b.provisioners = statuses.map((s, i) => ({ ...newStep('shell-local'), status: s as never, fingerprint: `p${i + 1}` }));
  b.post_processors = [{ ...newStep('manifest'), status: ppStatus as never, fingerprint: 'm' }];
  b.artifacts = [{ id: 'a', builder_id: 'null', type: 'null', files: [], metadata: {}, hash: '' }];
  return b;
}

const present = { force: false, artifactPresent: () => true };

test('no record: fresh', () => {
  const p = planBuild(inputs(), undefined, present);
  assert.equal(p.action, 'fresh');
  assert.match(planMessage(p), /no previous build is recorded/);
});

test('complete and unchanged: up to date, artifacts reported', () => {
  const p = planBuild(inputs(), record(['complete', 'complete', 'complete']), present);
  assert.equal(p.action, 'up-to-date');
  assert.equal(p.artifacts.length, 1);
});

test('complete but artifact missing: fresh', () => {
  const p = planBuild(inputs(), record(['complete', 'complete', 'complete']), { force: false, artifactPresent: () => false });
  assert.equal(p.action, 'fresh');
  assert.match(p.reason, /missing/);
});

test('-force: fresh, and a kept instance is destroyed first', () => {
  const p = planBuild(inputs(), record(['complete', 'failed', 'pending'], 'pending', 'failed'), { ...present, force: true });
  assert.equal(p.action, 'fresh');
  assert.equal(p.destroyInstance?.id, 'i-1');
});

test('failed at step 2: resume at step 2 on the kept instance', () => {
  const p = planBuild(inputs(), record(['complete', 'failed', 'pending'], 'pending', 'failed'), present);
  assert.equal(p.action, 'resume');
  assert.equal(p.firstProvisioner, 1);
  assert.equal(p.instance?.id, 'i-1');
  assert.match(p.reason, /provisioner 2 \(shell-local\) failed; 1 step already complete/);
});

test('a step left running (killed) is the resume point, not skipped', () => {
  const p = planBuild(inputs(), record(['complete', 'running', 'pending'], 'pending', 'provisioning'), present);
  assert.equal(p.action, 'resume');
  assert.equal(p.firstProvisioner, 1);
  assert.match(p.reason, /interrupted/);
});

test('edited provisioner 2 of a complete build: fresh even when the instance outlives the build (step 3 already ran on it)', () => {
  const p = planBuild(inputs({ provisioners: [...inputs().provisioners.slice(0, 1), { type: 'shell-local', name: '', fingerprint: 'p2-edited' }, inputs().provisioners[2]!] }), record(['complete', 'complete', 'complete']), present);
  assert.equal(p.action, 'fresh');
  assert.match(p.reason, /^provisioner 2 \(shell-local\) changed; the host already went through the steps after it/);
});

test('edited step of a complete build whose instance ends with it: fresh, saying why', () => {
  const p = planBuild(
    inputs({ instanceOutlivesBuild: false, builderType: 'docker', provisioners: [{ type: 'shell-local', name: '', fingerprint: 'x' }, ...inputs().provisioners.slice(1)] }),
    record(['complete', 'complete', 'complete']),
    present,
  );
  assert.equal(p.action, 'fresh');
  assert.match(p.reason, /docker build's instance does not outlive the build/);
});

test('source changed: fresh', () => {
  const p = planBuild(inputs({ sourceFingerprint: 'other' }), record(['complete', 'complete', 'complete']), present);
  assert.equal(p.action, 'fresh');
  assert.match(p.reason, /source configuration changed/);
});

test('a failed post-processor re-runs its chain without re-provisioning', () => {
  const p = planBuild(inputs(), record(['complete', 'complete', 'complete'], 'failed', 'failed'), present);
  assert.equal(p.action, 'resume');
  assert.equal(p.firstProvisioner, 3);
  assert.equal(p.firstChain, 0);
});

test('failed before an instance existed: fresh', () => {
  const r = record(['pending', 'pending', 'pending'], 'pending', 'failed');
  r.instance = null;
  assert.equal(planBuild(inputs(), r, present).action, 'fresh');
});

test('an added provisioner at the end resumes at it', () => {
  const p = planBuild(inputs({ provisioners: [...inputs().provisioners, { type: 'shell-local', name: '', fingerprint: 'p4' }] }), record(['complete', 'complete', 'complete']), present);
  assert.equal(p.action, 'resume');
  assert.equal(p.firstProvisioner, 3);
  assert.match(p.reason, /provisioner 4 \(shell-local\) is new/);
});

test("a post-processor's output file that is gone re-runs its chain; one that exists, or a skipped step's, does not", () => {
  const withOutput = inputs({ postProcessorChains: [[{ type: 'manifest', name: '', fingerprint: 'm', outputs: ['manifest.json'] }]] });
  const gone = { ...present, outputPresent: (f: string) => f !== 'manifest.json' };
  const p = planBuild(withOutput, record(['complete', 'complete', 'complete']), gone);
  assert.equal(p.action, 'resume');
  assert.equal(p.firstProvisioner, 3);
  assert.equal(p.firstChain, 0);
  assert.match(p.reason, /^post-processor 1 \(manifest\) wrote manifest\.json, which is gone;/);
  assert.equal(planBuild(withOutput, record(['complete', 'complete', 'complete']), { ...present, outputPresent: () => true }).action, 'up-to-date');
  assert.equal(planBuild(withOutput, record(['complete', 'complete', 'complete'], 'skipped'), gone).action, 'up-to-date');
  // A builder whose instance ends with the build starts again from the beginning.
  const ends = planBuild({ ...withOutput, instanceOutlivesBuild: false, builderType: 'file' }, record(['complete', 'complete', 'complete']), gone);
  assert.equal(ends.action, 'fresh');
  assert.match(ends.reason, /wrote manifest\.json, which is gone, and a file build's instance does not outlive the build/);
});

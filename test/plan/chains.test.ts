/**
 * The planner over chains (issue 9, "Correct incremental semantics"): one table of recorded builds
 * and template edits, each with the action, where it starts and what the plan names as changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chainHash } from '../../src/plan/chain.js';
import { changeText } from '../../src/plan/changes.js';
import { freshInstead, planBuild, orphans, type BuildInputs, type PlannedStep, type PlanOptions } from '../../src/plan/plan.js';
import { changedVariables, plansToJson } from '../../src/plan/plan-json.js';
import { isStateEvent, planMessage } from '../../src/stateful/messages.js';
import { newBuild, newStep, type BuildState, type StepStatus } from '../../src/state/types.js';

const step = (name: string, fingerprint = name, inputs: Record<string, string> = { inline: `h-${fingerprint}` }): PlannedStep => ({ type: 'shell-local', name, fingerprint, inputs });
const ONE = step('one');
const TWO = step('two');
const THREE = step('three');
const MANIFEST: PlannedStep = { type: 'manifest', name: '', fingerprint: 'm', inputs: { output: 'h-m' } };

/** Inputs of a null build (the instance is the host: it outlives the build). */
function nullInputs(provisioners: PlannedStep[] = [ONE, TWO, THREE], over: Partial<BuildInputs> = {}): BuildInputs {
  return {
    key: 'b.null.x',
    name: 'b.null.x',
    builderType: 'null',
    sourceLabel: 'source.null.x',
    sourceFingerprint: 'src',
    sourceInputs: { communicator: 'h-c' },
    provisioners,
    postProcessorChains: [[MANIFEST]],
    canReconnect: true,
    instanceOutlivesBuild: true,
    ...over,
  };
}

/** A docker-like build: the instance ends with the build; snapshots offered. */
function dockerInputs(provisioners: PlannedStep[] = [ONE, TWO, THREE], over: Partial<BuildInputs> = {}): BuildInputs {
  return nullInputs(provisioners, { builderType: 'docker', sourceLabel: 'source.docker.x', instanceOutlivesBuild: false, canSnapshot: true, ...over });
}

interface RecordSpec {
  build?: BuildState['status'];
  /** Statuses of ONE, TWO, THREE as recorded. */
  steps?: StepStatus[];
  post?: StepStatus;
  instance?: boolean;
  /** Snapshot ids after the recorded steps at these indexes (chain as applied). */
  snapshots?: number[];
  provisioners?: PlannedStep[];
}

function record(r: RecordSpec = {}): BuildState {
  const b = newBuild('b', 'null');
  b.status = r.build ?? 'complete';
  b.fingerprint = 'src';
  b.inputs = { communicator: 'h-c' };
  b.completed_at = b.status === 'complete' ? '2026-01-01T00:00:00Z' : '';
  const unfinished = b.status !== 'complete';
  b.instance = r.instance === false ? null : { id: 'i-1', builder_id: 'null', provider: 'null', created_at: '', metadata: {}, keep_on_failure: unfinished };
  const provs = r.provisioners ?? [ONE, TWO, THREE];
  const statuses = r.steps ?? provs.map(() => 'complete' as const);
  b.provisioners = provs.map((p, i) => ({ ...newStep(p.type, p.name), fingerprint: p.fingerprint, inputs: { ...(p.inputs ?? {}) }, status: statuses[i]!, attempts: 1 }));
  for (const k of r.snapshots ?? []) b.provisioners[k]!.snapshot = { id: `snap-${k + 1}`, chain: chainHash('src', provs.slice(0, k + 1)) };
  b.post_processors = [{ ...newStep('manifest'), fingerprint: 'm', inputs: { output: 'h-m' }, status: r.post ?? (unfinished ? 'pending' : 'complete') }];
  b.post_processor_chains = [1];
  b.artifacts = [{ id: 'a', builder_id: 'null', type: 'null', files: [], metadata: {}, hash: '' }];
  return b;
}

const FAILED_AT_2: RecordSpec = { build: 'failed', steps: ['complete', 'failed', 'pending'] };
const FAILED_AT_3: RecordSpec = { build: 'failed', steps: ['complete', 'complete', 'failed'] };
const INTERRUPTED_AT_2: RecordSpec = { build: 'provisioning', steps: ['complete', 'running', 'pending'] };

interface Row {
  name: string;
  inputs: BuildInputs;
  record: RecordSpec;
  options?: Partial<PlanOptions>;
  action: string;
  /** First provisioner to run (resume, snapshot). */
  from?: number;
  chain?: number;
  reason?: RegExp;
  /** changeText of every change, in order. */
  changes?: string[];
  snapshot?: string;
}

const edited = (s: PlannedStep, part = 'inline'): PlannedStep => ({ ...s, fingerprint: `${s.fingerprint}*`, inputs: { ...s.inputs, [part]: 'h-new' } });

const rows: Row[] = [
  // unchanged
  { name: 'complete, unchanged: up to date', inputs: nullInputs(), record: {}, action: 'up-to-date', changes: [] },
  { name: 'failed at 2, unchanged: resume at 2', inputs: nullInputs(), record: FAILED_AT_2, action: 'resume', from: 1, reason: /^provisioner 2 \(two\) failed; 1 step already complete$/, changes: [] },
  { name: 'interrupted at 2, unchanged: resume at 2', inputs: nullInputs(), record: INTERRUPTED_AT_2, action: 'resume', from: 1, reason: /provisioner 2 \(two\) was interrupted/ },
  { name: 'interrupted (running) after the provisioners: resume at the chain', inputs: nullInputs(), record: { build: 'post_processing', post: 'running' }, action: 'resume', from: 3, chain: 0, reason: /post-processor 1 \(manifest\) was interrupted; 3 steps already complete/ },
  // failed: changed before / at / after the resume point
  { name: 'failed at 2, step 1 changed (before): fresh', inputs: nullInputs([edited(ONE), TWO, THREE]), record: FAILED_AT_2, action: 'fresh', reason: /^provisioner 1 \(one\): inline, before the step the last build stopped at \(provisioner 2 \(two\)\); the kept host already went through the old steps/, changes: ['provisioner 1 (one): inline'] },
  { name: 'failed at 2, step 2 changed (at): resume at 2', inputs: nullInputs([ONE, edited(TWO), THREE]), record: FAILED_AT_2, action: 'resume', from: 1, reason: /^provisioner 2 \(two\) changed; 1 step already complete$/, changes: ['provisioner 2 (two): inline'] },
  { name: 'failed at 2, step 3 changed (after): resume at 2', inputs: nullInputs([ONE, TWO, edited(THREE)]), record: FAILED_AT_2, action: 'resume', from: 1, changes: ['provisioner 3 (three): inline'] },
  { name: 'interrupted at 2, step 1 changed: fresh', inputs: nullInputs([edited(ONE), TWO, THREE]), record: INTERRUPTED_AT_2, action: 'fresh' },
  { name: 'failed at 3, steps 1 and 2 swapped: fresh, reported as moved', inputs: nullInputs([TWO, ONE, THREE]), record: FAILED_AT_3, action: 'fresh', changes: ['provisioner 2 (one) moved (from position 1)'] },
  { name: 'failed at 3, step 2 removed: fresh, reported as removed', inputs: nullInputs([ONE, THREE]), record: FAILED_AT_3, action: 'fresh', changes: ['provisioner 2 (two) was removed'] },
  { name: 'failed at 3, a step inserted before it: fresh, reported as new', inputs: nullInputs([ONE, step('new'), TWO, THREE]), record: FAILED_AT_3, action: 'fresh', changes: ['provisioner 2 (new) is new'] },
  { name: 'failed at 2, the failed step removed: resume at what is now step 2', inputs: nullInputs([ONE, THREE]), record: FAILED_AT_2, action: 'resume', from: 1, changes: ['provisioner 2 (two) was removed'] },
  { name: 'failed at 2 without a kept instance: fresh', inputs: nullInputs(), record: { ...FAILED_AT_2, instance: false }, action: 'fresh', reason: /failed without keeping an instance/ },
  { name: 'failed at 2, builder cannot reconnect: fresh', inputs: nullInputs(undefined, { canReconnect: false }), record: FAILED_AT_2, action: 'fresh', reason: /cannot be reconnected to/ },
  // completed builds
  { name: 'complete, step 2 changed: fresh (step 3 already ran on the host)', inputs: nullInputs([ONE, edited(TWO), THREE]), record: {}, action: 'fresh', reason: /^provisioner 2 \(two\): inline; the host already went through the steps after it/, changes: ['provisioner 2 (two): inline'] },
  { name: 'complete, last step changed: fresh', inputs: nullInputs([ONE, TWO, edited(THREE)]), record: {}, action: 'fresh' },
  { name: 'complete, step 2 removed (the multi-provisioner example): fresh, "removed" not "changed"', inputs: nullInputs([ONE, THREE]), record: {}, action: 'fresh', reason: /^provisioner 2 \(two\) was removed; the host/, changes: ['provisioner 2 (two) was removed'] },
  { name: 'complete, steps swapped: fresh, moved', inputs: nullInputs([ONE, THREE, TWO]), record: {}, action: 'fresh', changes: ['provisioner 3 (two) moved (from position 2)'] },
  { name: 'complete, a step appended: resume at it on the host', inputs: nullInputs([ONE, TWO, THREE, step('four')]), record: {}, action: 'resume', from: 3, chain: 0, changes: ['provisioner 4 (four) is new'] },
  { name: 'complete docker build, a step appended: fresh (its instance ended with the build)', inputs: dockerInputs([ONE, TWO, THREE, step('four')], { canSnapshot: false }), record: { instance: false }, action: 'fresh', reason: /docker build's instance does not outlive the build/ },
  { name: 'complete, post-processor changed: resume at its chain, provisioners skipped', inputs: nullInputs(undefined, { postProcessorChains: [[{ ...MANIFEST, fingerprint: 'm2', inputs: { output: 'h-m2' } }]] }), record: {}, action: 'resume', from: 3, chain: 0, changes: ['post-processor 1 (manifest): output'] },
  { name: 'complete, post-processor output gone: resume at its chain', inputs: nullInputs(undefined, { postProcessorChains: [[{ ...MANIFEST, outputs: ['manifest.json'] }]] }), record: {}, options: { outputPresent: () => false }, action: 'resume', from: 3, chain: 0, changes: ['post-processor 1 (manifest) wrote manifest.json, which is gone'] },
  { name: 'source changed: fresh, the attribute named', inputs: nullInputs(undefined, { sourceFingerprint: 'src2', sourceInputs: { communicator: 'h-other' } }), record: FAILED_AT_2, action: 'fresh', reason: /^the source configuration changed since the last build \(source\.null\.x: communicator\)$/ },
  // what changed, named
  { name: 'an impure value is named as the cause', inputs: nullInputs([ONE, { ...edited(TWO), causes: { inline: { impure: ['timestamp'], variables: [] } } }, THREE]), record: {}, action: 'fresh', changes: ['provisioner 2 (two): inline (from timestamp())'] },
  { name: 'a changed variable is named', inputs: nullInputs([ONE, { ...edited(TWO), causes: { inline: { impure: [], variables: ['greeting', 'other'] } } }, THREE]), record: {}, options: { changedVariables: new Set(['greeting']) }, action: 'fresh', changes: ['provisioner 2 (two): inline (var.greeting changed)'] },
  { name: "a script's content is named", inputs: nullInputs([ONE, { ...TWO, fingerprint: 'two*', inputs: { ...TWO.inputs, 'file:scripts/setup.sh': 'h-2' } }, THREE]), record: { provisioners: [ONE, { ...TWO, inputs: { ...TWO.inputs, 'file:scripts/setup.sh': 'h-1' } }, THREE] }, action: 'fresh', changes: ['provisioner 2 (two): scripts/setup.sh content changed'] },
  { name: 'a record without part hashes (older state): "changed"', inputs: nullInputs([ONE, edited(TWO), THREE]), record: { provisioners: [ONE, { ...TWO, inputs: {} }, THREE] }, action: 'fresh', changes: ['provisioner 2 (two) changed'] },
  {
    name: 'unnamed steps of one type: a changed step pairs with the recorded one sharing most parts, the other was removed',
    inputs: nullInputs([ONE, step('', 'b*', { inline: 'i-new', env: 'e-b' })]),
    record: { provisioners: [ONE, step('', 'a', { inline: 'i-a', env: 'e-a' }), step('', 'b', { inline: 'i-b', env: 'e-b' })] },
    action: 'fresh',
    changes: ['provisioner 2 (shell-local) was removed', 'provisioner 2 (shell-local): inline'],
  },
  // snapshots
  { name: 'docker, complete, step 3 changed: restart from the snapshot after step 2', inputs: dockerInputs([ONE, TWO, edited(THREE)]), record: { instance: false, snapshots: [0, 1, 2] }, action: 'restart-from-snapshot', from: 2, snapshot: 'snap-2', reason: /the snapshot was taken after provisioner 2 \(two\), which saves 2 steps$/ },
  { name: 'docker, complete, step 2 changed: the newest matching snapshot is after step 1', inputs: dockerInputs([ONE, edited(TWO), THREE]), record: { instance: false, snapshots: [0, 1, 2] }, action: 'restart-from-snapshot', from: 1, snapshot: 'snap-1' },
  { name: 'docker, complete, step 1 changed: no snapshot matches, fresh', inputs: dockerInputs([edited(ONE), TWO, THREE]), record: { instance: false, snapshots: [0, 1, 2] }, action: 'fresh' },
  { name: 'docker, post-processor changed: restart from the snapshot after the last step', inputs: dockerInputs(undefined, { postProcessorChains: [[{ ...MANIFEST, fingerprint: 'm2' }]] }), record: { instance: false, snapshots: [2] }, action: 'restart-from-snapshot', from: 3, snapshot: 'snap-3' },
  { name: 'docker, failed at 3 without a kept instance: restart from the snapshot after step 2', inputs: dockerInputs(), record: { ...FAILED_AT_3, instance: false, snapshots: [0, 1] }, action: 'restart-from-snapshot', from: 2, snapshot: 'snap-2' },
  { name: 'a valid resume is preferred to a snapshot', inputs: dockerInputs(), record: { ...FAILED_AT_3, snapshots: [0] }, action: 'resume', from: 2 },
  { name: 'snapshots of a builder that does not offer them are not used', inputs: dockerInputs([ONE, TWO, edited(THREE)], { canSnapshot: false }), record: { instance: false, snapshots: [0, 1] }, action: 'fresh' },
  { name: 'the null builder has no snapshots: fresh', inputs: nullInputs([ONE, edited(TWO), THREE]), record: { snapshots: [0] }, action: 'fresh' },
];

for (const row of rows) {
  test(row.name, () => {
    const p = planBuild(row.inputs, record(row.record), { force: false, artifactPresent: () => true, ...row.options });
    assert.equal(p.action, row.action, p.reason);
    if (row.from !== undefined) assert.equal(p.firstProvisioner, row.from, 'first provisioner');
    if (row.chain !== undefined) assert.equal(p.firstChain, row.chain, 'first chain');
    if (row.reason) assert.match(p.reason, row.reason);
    if (row.changes) assert.deepEqual(p.changes.map(changeText), row.changes);
    assert.equal(p.snapshot?.id, row.snapshot);
    if (p.action === 'resume') assert.equal(p.instance?.id, 'i-1');
    else assert.equal(p.instance, undefined);
    // steps: skipped exactly before the start, for every action
    const n = row.inputs.provisioners.length;
    const expected = row.inputs.provisioners.map((_, i) => (p.action === 'up-to-date' || (p.action !== 'fresh' && i < p.firstProvisioner) ? 'skip' : 'run'));
    assert.deepEqual(p.steps.slice(0, n).map((s) => s.action), expected);
  });
}

test('plan steps label every step; a resumed chain skips the provisioners', () => {
  const p = planBuild(nullInputs(undefined, { postProcessorChains: [[{ ...MANIFEST, fingerprint: 'm2' }]] }), record(), { force: false, artifactPresent: () => true });
  assert.deepEqual(p.steps, [
    { label: 'provisioner 1 (one)', action: 'skip' },
    { label: 'provisioner 2 (two)', action: 'skip' },
    { label: 'provisioner 3 (three)', action: 'skip' },
    { label: 'post-processor 1 (manifest)', action: 'run' },
  ]);
});

test('-force: fresh, nothing compared', () => {
  const p = planBuild(nullInputs([edited(ONE)]), record(FAILED_AT_2), { force: true, artifactPresent: () => true });
  assert.equal(p.action, 'fresh');
  assert.deepEqual(p.changes, []);
  assert.equal(p.destroyInstance?.id, 'i-1');
});

test('a missing artifact of a complete build: fresh', () => {
  const p = planBuild(nullInputs(), record(), { force: false, artifactPresent: () => false });
  assert.equal(p.action, 'fresh');
  assert.match(p.reason, /the artifact a is missing/);
  assert.deepEqual(p.changes.map(changeText), ['the artifact a is missing or was modified']);
});

test('orphans: builds in the state that the template no longer has, sorted', () => {
  assert.deepEqual(orphans(['z.null.a', 'b.null.x', 'a.null.y'], ['b.null.x']), ['a.null.y', 'z.null.a']);
  assert.deepEqual(orphans([], ['b.null.x']), []);
});

test('the JSON plan: format_version 1, steps, changes, instance, snapshot, orphans', () => {
  const resume = planBuild(nullInputs([ONE, edited(TWO), THREE]), record(FAILED_AT_2), { force: false, artifactPresent: () => true });
  const snap = planBuild(dockerInputs([ONE, TWO, edited(THREE)]), record({ instance: false, snapshots: [1] }), { force: false, artifactPresent: () => true });
  assert.deepEqual(JSON.parse(JSON.stringify(plansToJson([resume, snap], ['old.null.y']))), {
    format_version: 1,
    builds: [
      {
        build: 'b.null.x',
        action: 'resume',
        reason: 'provisioner 2 (two) changed; 1 step already complete',
        steps: [
          { label: 'provisioner 1 (one)', action: 'skip' },
          { label: 'provisioner 2 (two)', action: 'run' },
          { label: 'provisioner 3 (three)', action: 'run' },
          { label: 'post-processor 1 (manifest)', action: 'run' },
        ],
        changes: [{ kind: 'changed', subject: 'provisioner 2 (two)', details: ['inline'], text: 'provisioner 2 (two): inline' }],
        instance: { id: 'i-1', action: 'reuse' },
        snapshot: null,
      },
      {
        build: 'b.null.x',
        action: 'restart-from-snapshot',
        reason:
          "provisioner 3 (three): inline, and a docker build's instance does not outlive the build; the snapshot was taken after provisioner 2 (two), which saves 2 steps",
        steps: [
          { label: 'provisioner 1 (one)', action: 'skip' },
          { label: 'provisioner 2 (two)', action: 'skip' },
          { label: 'provisioner 3 (three)', action: 'run' },
          { label: 'post-processor 1 (manifest)', action: 'run' },
        ],
        changes: [{ kind: 'changed', subject: 'provisioner 3 (three)', details: ['inline'], text: 'provisioner 3 (three): inline' }],
        instance: null,
        snapshot: { id: 'snap-2', after: 'provisioner 2 (two)', saves_steps: 2 },
      },
    ],
    orphans: ['old.null.y'],
  });
});

test('changedVariables: the names whose recorded value differs (sensitive ones compared as recorded)', () => {
  assert.deepEqual([...changedVariables({ a: '1', b: { x: 1, y: 2 }, s: 'hmac:1', gone: 'x' }, { a: '1', b: { y: 2, x: 1 }, s: 'hmac:2', added: true })].sort(), ['added', 'gone', 's']);
});

test('freshInstead (a kept instance found gone): every step runs, nothing reused', () => {
  const p = freshInstead(planBuild(nullInputs(), record(FAILED_AT_2), { force: false, artifactPresent: () => true }), 'the kept instance is gone');
  assert.deepEqual([p.action, p.reason, p.firstProvisioner, p.instance, p.destroyInstance], ['fresh', 'the kept instance is gone', 0, undefined, undefined]);
  assert.ok(p.steps.every((s) => s.action === 'run'));
});

test('the plan line of a restart from a snapshot names the snapshot', () => {
  const p = planBuild(dockerInputs([ONE, TWO, edited(THREE)]), record({ instance: false, snapshots: [1] }), { force: false, artifactPresent: () => true });
  assert.match(planMessage(p), /^Restarting from the snapshot snap-2: provisioner 3 \(three\): inline, and a docker build's instance does not outlive the build; the snapshot was taken after provisioner 2 \(two\), which saves 2 steps\.$/);
  assert.ok(isStateEvent(planMessage(p)));
});

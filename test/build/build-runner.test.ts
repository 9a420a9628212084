import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Artifact, BuilderDef, PostProcessorDef, ProvisionerDef } from '../../src/sdk/component.js';
import { runBuild, type BuildSpec, type PostProcessorSpec, type ProvisionerSpec, type ResumePoint } from '../../src/run/build-runner.js';
import type { OnErrorMode } from '../../src/run/runner.js';
import { inTempDir, testUi } from './helpers.js';

const events: string[] = [];

function artifact(name: string): Artifact {
  return { builderId: `test.${name}`, id: name, files: [], description: `artifact ${name}`, state: {}, destroy: async () => void events.push(`destroy ${name}`) };
}

const builder: BuilderDef<unknown> = {
  type: 'fake',
  builderId: 'test.fake',
  configSpec: { attributes: {} },
  prepare: () => ({ config: {}, errors: [], warnings: [] }),
  create: async () => (events.push('create'), { id: 'i-1', metadata: {} }),
  connect: async () => (events.push('connect'), {}),
  finish: async () => (events.push('finish'), artifact('B')),
  destroy: async () => void events.push('destroy instance'),
};

function prov(name: string, fail = false): ProvisionerSpec {
  const def: ProvisionerDef<unknown> = {
    type: 'fake',
    configSpec: { attributes: {} },
    prepare: () => ({ config: {}, errors: [], warnings: [] }),
    run: async (_c, ctx) => {
      events.push(`prov ${name}`);
      ctx.ui.message(`ran ${name}`);
      if (fail) throw new Error(`${name} failed`);
    },
  };
  return { type: 'fake', def, configure: () => ({}) };
}

function pp(name: string, keep: boolean, opts: { force?: boolean; userKeep?: boolean; fail?: boolean } = {}): PostProcessorSpec {
  const def: PostProcessorDef<unknown> = {
    type: name,
    configSpec: { attributes: {} },
    prepare: () => ({ config: {}, errors: [], warnings: [] }),
    run: async (_c, input) => {
      events.push(`pp ${name}(${input.id})`);
      if (opts.fail) throw new Error(`${name} broke`);
      return { artifact: artifact(name), keep, forceOverride: opts.force ?? false };
    },
  };
  return { type: name, def, configure: () => ({}), keepInputArtifact: opts.userKeep };
}

function spec(over: Partial<BuildSpec>): BuildSpec {
  return { name: 'b.fake.x', packerBuildName: 'x', builderType: 'fake', builder, builderConfig: {}, provisioners: [], postProcessors: [], ...over };
}

async function run(s: BuildSpec, onError: OnErrorMode = 'cleanup', hooks = {}, resume?: ResumePoint) {
  events.length = 0;
  const t = testUi('b.fake.x');
  return inTempDir(async (dir) => {
    const r = await runBuild(s, {
      ui: t.ui,
      signal: new AbortController().signal,
      onError,
      hooks,
      resume,
      context: { cwd: dir, env: {}, runUuid: 'u', sensitive: [] },
    });
    return { r, lines: t.out.lines };
  });
}

test('lifecycle: create, connect, provisioners, finish; destroy as cleanup; no post-processors keeps the builder artifact', async () => {
  const { r } = await run(spec({ provisioners: [prov('1'), prov('2')] }));
  assert.deepEqual(events, ['create', 'connect', 'prov 1', 'prov 2', 'finish', 'destroy instance']);
  assert.deepEqual(r.artifacts.map((a) => a.id), ['B']);
});

test('a failed provisioner: Packer\'s message, the error-cleanup-provisioner, then the cleanups', async () => {
  const { r, lines } = await run(spec({ provisioners: [prov('1'), prov('2', true), prov('3')], errorCleanupProvisioner: prov('cleanup') }));
  assert.equal(r.error?.message, '2 failed');
  assert.deepEqual(events, ['create', 'connect', 'prov 1', 'prov 2', 'prov cleanup', 'destroy instance']);
  assert.ok(lines.includes('==> b.fake.x: Provisioning step had errors: Running the cleanup provisioner, if present...'));
});

test('-on-error=run-cleanup-provisioner runs the cleanup provisioner but leaves the instance', async () => {
  await run(spec({ provisioners: [prov('1', true)], errorCleanupProvisioner: prov('cleanup') }), 'run-cleanup-provisioner');
  assert.deepEqual(events, ['create', 'connect', 'prov 1', 'prov cleanup']);
  const abort = await run(spec({ provisioners: [prov('1', true)], errorCleanupProvisioner: prov('cleanup') }), 'abort');
  assert.deepEqual(events, ['create', 'connect', 'prov 1']);
  assert.ok(abort.lines.includes('==> b.fake.x: Step "StepProvision" failed, aborting...'));
});

test('post-processor chains follow Packer\'s keep/delete rules', async () => {
  // Chain 1: compress-like (keep=false) then manifest-like (keep, force). Chain 2: checksum-like (keep).
  const { r, lines } = await run(spec({ postProcessors: [[pp('c', false), pp('m', true, { force: true })], [pp('k', true)]] }));
  assert.deepEqual(events, ['create', 'connect', 'finish', 'destroy instance', 'pp c(B)', 'pp m(c)', 'pp k(B)']);
  assert.deepEqual(r.artifacts.map((a) => a.id), ['B', 'c', 'm', 'k']);
  assert.ok(lines.includes('==> b.fake.x: Running post-processor:  (type c)'));

  // Nobody keeps the builder artifact: it is destroyed; an intermediate one not kept is destroyed.
  const r2 = await run(spec({ postProcessors: [[pp('c', false), pp('d', false)]] }));
  assert.deepEqual(events.slice(4), ['pp c(B)', 'pp d(c)', 'destroy c', 'destroy B']);
  assert.deepEqual(r2.r.artifacts.map((a) => a.id), ['d']);

  // keep_input_artifact overrides the default, except where the post-processor forces keeping.
  const r3 = await run(spec({ postProcessors: [[pp('c', false, { userKeep: true })]] }));
  assert.deepEqual(r3.r.artifacts.map((a) => a.id), ['B', 'c']);
  const r4 = await run(spec({ postProcessors: [[pp('m', true, { force: true, userKeep: false })]] }));
  assert.deepEqual(r4.r.artifacts.map((a) => a.id), ['B', 'm']);
  const r5 = await run(spec({ postProcessors: [[pp('a', true, { userKeep: false })]] }));
  assert.deepEqual(r5.r.artifacts.map((a) => a.id), ['a']);
  assert.ok(events.includes('destroy B'));
});

test('a failed post-processor ends its chain; the others run; the build errors with Packer\'s MultiError text', async () => {
  const { r } = await run(spec({ postProcessors: [[pp('x', true, { fail: true }), pp('never', true)], [pp('k', true)]] }));
  assert.deepEqual(events.slice(4), ['pp x(B)', 'pp k(B)']);
  assert.equal(r.error?.message, '1 error(s) occurred:\n\n* Post-processor failed: x broke');
});

test('hooks hear every boundary: statuses, steps, instance, artifacts (where checkpoints go)', async () => {
  const heard: string[] = [];
  await run(spec({ provisioners: [prov('1')], postProcessors: [[pp('m', true, { force: true })]] }), 'cleanup', {
    onBuildStatus: (s: string) => void heard.push(`status ${s}`),
    onStepStart: (id: string) => void heard.push(`start ${id}`),
    onStepEnd: (id: string, o: { status: string }) => void heard.push(`end ${id} ${o.status}`),
    onInstance: (i: { id: string }) => void heard.push(`instance ${i.id}`),
    onArtifact: (id: string, a: Artifact) => void heard.push(`artifact ${id} ${a.id}`),
  });
  assert.deepEqual(heard, [
    'status creating',
    'start create',
    'instance i-1',
    'end create complete',
    'start connect',
    'end connect complete',
    'start provision',
    'end provision complete',
    'status provisioning',
    'start provisioner.0',
    'end provisioner.0 complete',
    'start finish',
    'artifact finish B',
    'end finish complete',
    'status post_processing',
    'start post-processor.0.0',
    'artifact post-processor.0.0 m',
    'end post-processor.0.0 complete',
    'status complete',
  ]);
});

test('resume: completed provisioners and whole post-processor chains are skipped; recorded artifacts reported', async () => {
  const recorded = artifact('m-recorded');
  const { r } = await run(
    spec({ provisioners: [prov('1'), prov('2')], postProcessors: [[pp('c', false), pp('m', true, { force: true })], [pp('k', true)]] }),
    'cleanup',
    {},
    { instance: { id: 'i-0', metadata: {} }, skip: new Set(['provisioner.0']), artifacts: new Map([['post-processor.0.1', recorded]]), skipChainsBefore: 1 },
  );
  assert.deepEqual(events, ['create', 'connect', 'prov 2', 'finish', 'destroy instance', 'pp k(B)']);
  assert.deepEqual(r.artifacts.map((a) => a.id), ['B', 'm-recorded', 'k']);
});

test('snapshots: one after each completed provisioner when the run asks (labels per step), reported to the hooks; a failed one is said and the build goes on; a restart starts from the snapshot and skips the steps it holds', async () => {
  let n = 0;
  const snapBuilder: BuilderDef<unknown> = {
    ...builder,
    snapshots: {
      take: async (_c, instance, labels) => {
        events.push(`snapshot ${instance.id} ${labels.step}`);
        if (labels.step === '2') throw new Error('disk full');
        return { id: `s${++n}` };
      },
      startFrom: async (_c, id) => (events.push(`start from ${id}`), { id: `i-from-${id}`, metadata: {} }),
      exists: async () => true,
      list: async () => [],
      remove: async () => undefined,
    },
  };
  const recorded: string[] = [];
  const hooks = { onSnapshot: (step: string, id: string) => void recorded.push(`${step}=${id}`), onInstance: (i: { id: string }) => void recorded.push(`instance ${i.id}`) };
  events.length = 0;
  const t = testUi('b.fake.x');
  const r = await inTempDir((dir) =>
    runBuild(spec({ builder: snapBuilder, provisioners: [prov('1'), prov('2'), prov('3')] }), {
      ui: t.ui,
      signal: new AbortController().signal,
      onError: 'cleanup',
      hooks,
      snapshotLabels: (i) => (i === 2 ? undefined : { step: String(i + 1) }),
      context: { cwd: dir, env: {}, runUuid: 'u', sensitive: [] },
    }),
  );
  assert.equal(r.error, undefined);
  assert.deepEqual(events, ['create', 'connect', 'prov 1', 'snapshot i-1 1', 'prov 2', 'snapshot i-1 2', 'prov 3', 'finish', 'destroy instance']);
  assert.deepEqual(recorded, ['instance i-1', 'provisioner.0=s1']);
  assert.ok(t.out.lines.includes('==> b.fake.x: Snapshot after provisioner 1: s1'), t.out.lines.join('\n'));
  assert.ok(t.out.lines.includes('==> b.fake.x: Snapshot after provisioner 2 failed: disk full'), t.out.lines.join('\n'));

  // the same run under a lease (`abandon`, a shared PostgreSQL run): every hook still heard, snapshots too
  recorded.length = 0;
  n = 0;
  await inTempDir((dir) =>
    runBuild(spec({ builder: snapBuilder, provisioners: [prov('1')] }), {
      ui: testUi('b.fake.x').ui,
      signal: new AbortController().signal,
      abandon: new AbortController().signal,
      onError: 'cleanup',
      hooks,
      snapshotLabels: (i) => ({ step: String(i + 1) }),
      context: { cwd: dir, env: {}, runUuid: 'u', sensitive: [] },
    }),
  );
  assert.deepEqual(recorded, ['instance i-1', 'provisioner.0=s1']);

  // no snapshotLabels: none taken, even though the builder offers them
  await run(spec({ builder: snapBuilder, provisioners: [prov('1')] }));
  assert.deepEqual(events, ['create', 'connect', 'prov 1', 'finish', 'destroy instance']);

  // a restart from snapshot s1: the instance comes from it; provisioner 1 is skipped
  const restart = await run(spec({ builder: snapBuilder, provisioners: [prov('1'), prov('2')] }), 'cleanup', {}, { skip: new Set(['provisioner.0']), snapshot: 's1' });
  assert.equal(restart.r.error, undefined);
  assert.deepEqual(events, ['start from s1', 'connect', 'prov 2', 'finish', 'destroy instance']);
});

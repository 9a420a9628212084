import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSteps, TimeoutError, withPauseBefore, withRetries, withTimeout, type Step, type StepOutcome } from '../../src/run/runner.js';
import { CancelledError } from '../../src/errors.js';
import { testUi } from './helpers.js';

interface Log {
  events: string[];
}

function step(id: string, opts: { fail?: string | number; name?: string; cleanup?: boolean; withProv?: boolean } = {}): Step<Log> {
  let failures = typeof opts.fail === 'number' ? opts.fail : opts.fail ? Infinity : 0;
  return {
    id,
    name: opts.name,
    cleanupWithCleanupProvisioner: opts.withProv,
    async run(ctx) {
      ctx.events.push(`run ${id}`);
      if (failures-- > 0) throw new Error(typeof opts.fail === 'string' ? opts.fail : `${id} failed`);
    },
    cleanup:
      opts.cleanup === false
        ? undefined
        : async (ctx, info) => {
            ctx.events.push(`cleanup ${id}${info.failed ? ' (failed)' : ''}`);
          },
  };
}

const signal = (): AbortSignal => new AbortController().signal;

test('steps run in order, cleanups in reverse, and the observer sees every boundary', async () => {
  const t = testUi();
  const log: Log = { events: [] };
  const seen: string[] = [];
  await runSteps([step('a'), step('b'), step('c')], log, {
    signal: signal(),
    onError: 'cleanup',
    ui: t.ui,
    observer: {
      onStepStart: (id, n) => void seen.push(`start ${id} ${n}`),
      onStepEnd: (id, o: StepOutcome) => void seen.push(`end ${id} ${o.status} ${o.attempts}`),
    },
  });
  assert.deepEqual(log.events, ['run a', 'run b', 'run c', 'cleanup c', 'cleanup b', 'cleanup a']);
  assert.deepEqual(seen, ['start a 1', 'end a complete 1', 'start b 1', 'end b complete 1', 'start c 1', 'end c complete 1']);
});

test('a failing step stops the run; steps that ran (the failed one too) are cleaned up; the error is thrown', async () => {
  const t = testUi();
  const log: Log = { events: [] };
  const ends: string[] = [];
  await assert.rejects(
    runSteps([step('a'), step('b', { fail: 'boom' }), step('c')], log, {
      signal: signal(),
      onError: 'cleanup',
      ui: t.ui,
      observer: { onStepEnd: (id, o) => void ends.push(`${id} ${o.status} ${o.error?.message ?? ''}`) },
    }),
    /boom/,
  );
  assert.deepEqual(log.events, ['run a', 'run b', 'cleanup b (failed)', 'cleanup a (failed)']);
  assert.deepEqual(ends, ['a complete ', 'b failed boom']);
  assert.equal(t.out.text, '');
});

test('-on-error=abort leaves everything as it is and says so the way Packer does', async () => {
  const t = testUi('bb.null.a');
  const log: Log = { events: [] };
  await assert.rejects(
    runSteps([step('create'), step('connect', { name: 'StepConnect' }), step('p', { name: 'StepProvision', cleanup: false, fail: 'Script exited' })], log, {
      signal: signal(),
      onError: 'abort',
      ui: t.ui,
    }),
    /Script exited/,
  );
  assert.deepEqual(log.events, ['run create', 'run connect', 'run p']);
  assert.deepEqual(t.out.lines, [
    '==> bb.null.a: Script exited',
    '==> bb.null.a: Step "StepProvision" failed, aborting...',
    '==> bb.null.a: aborted: skipping cleanup of step "StepConnect"',
  ]);
});

test('-on-error=run-cleanup-provisioner runs only the provisioning cleanup', async () => {
  const t = testUi();
  const log: Log = { events: [] };
  await assert.rejects(
    runSteps([step('connect', { name: 'StepConnect' }), step('provision', { name: 'StepProvision', withProv: true }), step('p', { fail: 'x' })], log, {
      signal: signal(),
      onError: 'run-cleanup-provisioner',
      ui: t.ui,
    }),
  );
  assert.deepEqual(log.events, ['run connect', 'run provision', 'run p', 'cleanup provision (failed)']);
});

test('-on-error=ask without a terminal cleans up; with answers it can retry or abort', async () => {
  const t = testUi();
  const log: Log = { events: [] };
  await assert.rejects(runSteps([step('a'), step('b', { fail: 'nope', name: 'StepB' })], log, { signal: signal(), onError: 'ask', ui: t.ui }));
  assert.deepEqual(log.events, ['run a', 'run b', 'cleanup b (failed)', 'cleanup a (failed)']);
  assert.deepEqual(t.out.lines, ['==> null.a: nope', '==> null.a: Step "StepB" failed']);

  const answers = ['x', 'r'];
  const t2 = testUi();
  t2.ui.ask = async () => answers.shift();
  const log2: Log = { events: [] };
  await runSteps([step('a'), step('b', { fail: 1, name: 'StepB' })], log2, { signal: signal(), onError: 'ask', ui: t2.ui });
  assert.deepEqual(log2.events, ['run a', 'run b', 'run b', 'cleanup b', 'cleanup a']);
  assert.ok(t2.out.lines.includes('==> null.a: Incorrect input: "x"'));

  const t3 = testUi();
  t3.ui.ask = async () => 'a';
  const log3: Log = { events: [] };
  await assert.rejects(runSteps([step('a'), step('b', { fail: 'nope' })], log3, { signal: signal(), onError: 'ask', ui: t3.ui }));
  assert.deepEqual(log3.events, ['run a', 'run b']);
});

test('steps recorded as complete are skipped and not cleaned up (resume)', async () => {
  const t = testUi();
  const log: Log = { events: [] };
  const ends: string[] = [];
  await runSteps([step('a'), step('b'), step('c')], log, {
    signal: signal(),
    onError: 'cleanup',
    ui: t.ui,
    skip: new Set(['a', 'b']),
    observer: { onStepEnd: (id, o) => void ends.push(`${id} ${o.status}`) },
  });
  assert.deepEqual(log.events, ['run c', 'cleanup c']);
  assert.deepEqual(ends, ['a skipped', 'b skipped', 'c complete']);
});

test('cancellation: the running step sees the signal, cleanups still run, CancelledError is thrown', async () => {
  const t = testUi();
  const ac = new AbortController();
  const log: Log = { events: [] };
  const slow: Step<Log> = {
    id: 'slow',
    run: (ctx, sig) =>
      new Promise((_, reject) => {
        ctx.events.push('run slow');
        sig.addEventListener('abort', () => reject(new Error('killed')));
        setImmediate(() => ac.abort());
      }),
    cleanup: async (ctx, info) => void ctx.events.push(`cleanup slow cancelled=${info.cancelled}`),
  };
  await assert.rejects(runSteps([step('a'), slow, step('never')], log, { signal: ac.signal, onError: 'cleanup', ui: t.ui }), CancelledError);
  assert.deepEqual(log.events, ['run a', 'run slow', 'cleanup slow cancelled=true', 'cleanup a (failed)']);
});

test('max_retries retries visibly, then succeeds or gives up with the last error', async () => {
  const t = testUi();
  const log: Log = { events: [] };
  const starts: number[] = [];
  const s = withRetries(step('p', { fail: 2 }), 2, t.ui, { onStepStart: (_id, n) => void starts.push(n) }, 1);
  await runSteps([s], log, { signal: signal(), onError: 'cleanup', ui: t.ui });
  assert.deepEqual(log.events.filter((e) => e.startsWith('run')), ['run p', 'run p', 'run p']);
  assert.deepEqual(starts, [2, 3]);
  assert.deepEqual(t.out.lines, [
    '==> null.a: Provisioner failed with "p failed", retrying with 2 trie(s) left',
    '==> null.a: Provisioner failed with "p failed", retrying with 1 trie(s) left',
  ]);
  const t2 = testUi();
  await assert.rejects(runSteps([withRetries(step('q', { fail: 'always' }), 1, t2.ui, undefined, 1)], { events: [] }, { signal: signal(), onError: 'cleanup', ui: t2.ui }), /always/);
});

test('timeout stops the step and fails naming the timeout; pause_before says it pauses', async () => {
  const t = testUi();
  const hang: Step<Log> = {
    id: 'hang',
    run: (_ctx, sig) => new Promise((_, reject) => sig.addEventListener('abort', () => reject(new Error('Error executing script')))),
  };
  const s = withPauseBefore(withTimeout(hang, 50, t.ui), 10, t.ui);
  await assert.rejects(runSteps([s], { events: [] }, { signal: signal(), onError: 'cleanup', ui: t.ui }), (err: Error) => {
    assert.ok(err instanceof TimeoutError);
    assert.match(err.message, /within its timeout of 50ms/);
    return true;
  });
  assert.deepEqual(t.out.lines, [
    '==> null.a: Pausing 10ms before the next provisioner...',
    '==> null.a: Setting a 50ms timeout for the next provisioner...',
    '==> null.a: Cancelling provisioner after a timeout...',
  ]);
});

test('-debug pauses as Packer does: after the run of each named step, before each provisioner (named), before each cleanup', async () => {
  const t = testUi();
  const asked: string[] = [];
  t.ui.ask = async (q) => (asked.push(q), '');
  const log: Log = { events: [] };
  const prov: Step<Log> = { ...step('provisioner.0'), provisioner: 'shell', debugName: 'StepProvision' };
  await runSteps([step('internal'), { ...step('create'), debugName: 'StepCreateNull' }, { ...step('connect', { name: 'StepConnect' }), debugName: 'StepConnect' }, prov], log, {
    signal: signal(),
    onError: 'cleanup',
    ui: t.ui,
    debug: true,
  });
  assert.deepEqual(asked, [
    "Pausing after run of step 'StepCreateNull'. Press enter to continue.",
    "Pausing after run of step 'StepConnect'. Press enter to continue.",
    "Pausing before the next provisioner 'shell'. Press enter to continue.",
    "Pausing after run of step 'StepProvision'. Press enter to continue.",
    "Pausing before cleanup of step 'StepProvision'. Press enter to continue.",
    "Pausing before cleanup of step 'StepConnect'. Press enter to continue.",
    "Pausing before cleanup of step 'StepCreateNull'. Press enter to continue.",
  ]);
  assert.ok(asked.every((q) => !/internal|provisioner\.0/.test(q)), 'internal ids are never shown');
  assert.deepEqual(log.events, ['run internal', 'run create', 'run connect', 'run provisioner.0', 'cleanup provisioner.0', 'cleanup connect', 'cleanup create', 'cleanup internal']);
});

test('a long step says it is still running at every interval (heartbeat), naming the step or provisioner; none when off', async () => {
  const t = testUi();
  const said: string[] = [];
  const say = t.ui.say.bind(t.ui);
  // The step ends once it has heard two beats: no timing is asserted, only what the beats say.
  let heard: () => void = () => undefined;
  const twoBeats = new Promise<void>((resolve) => (heard = resolve));
  t.ui.say = (m: string) => {
    said.push(m);
    say(m);
    if (said.filter((l) => l.startsWith('Still running')).length === 2) heard();
  };
  const slow: Step<Log> = { id: 'provisioner.0', provisioner: 'shell', run: () => twoBeats };
  await runSteps([slow], { events: [] }, { signal: signal(), onError: 'cleanup', ui: t.ui, heartbeatMs: 1 });
  assert.deepEqual(said.slice(0, 2), ["Still running provisioner 'shell'... 1ms elapsed", "Still running provisioner 'shell'... 2ms elapsed"]);
  const count = said.length;
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(said.length, count, 'the heartbeat stops with its step');
  const quiet = testUi();
  await runSteps([{ ...step('connect'), debugName: 'StepConnect' }], { events: [] }, { signal: signal(), onError: 'cleanup', ui: quiet.ui });
  assert.equal(quiet.out.text, '', 'no heartbeat without heartbeatMs');
});

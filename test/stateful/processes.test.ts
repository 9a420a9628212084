/**
 * Many processes on one state (issue 5): `builder build -only=…` runs in separate processes.
 * - On disjoint builds, at once, ten times in a row: both complete and both are recorded — every
 *   step record of both builds, each side effect once, and as many persisted changes (serial) as
 *   when the two runs go one after the other.
 * - On disjoint builds, one SIGKILLed at a random moment (seeded; BUILDER_CRASH_SEED replays):
 *   the other completes and is recorded in full; the killed one's completed steps never run again,
 *   and its next run completes it.
 * - On the same build: the second run stops at once naming the holder (who, pid, since when, the
 *   `builder state unlock` command), non-zero exit, no stack trace; with -lock-timeout it waits for
 *   the first, then finds the build up to date — or resumes it, when the first failed or was
 *   SIGKILLed (its abandoned lock is taken over, with a warning).
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { repoRoot, runCli, startCli, type CliResult } from '../build/cli.js';
import { openFileState } from '../../src/state/open.js';
import type { StateFile } from '../../src/state/types.js';

const TEMPLATE = join(repoRoot, 'test/fixtures/stateful/two-builds.pkr.hcl');
const STEPS = 5;

async function workDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'builder-processes-'));
  await cp(TEMPLATE, join(dir, 'two-builds.pkr.hcl'));
  return dir;
}

function build(dir: string, args: readonly string[]): ReturnType<typeof startCli> {
  return startCli(['build', '-color=false', ...args, 'two-builds.pkr.hcl'], dir, { TMPDIR: dir, BUILDER_STATE_PATH: '' });
}

async function loadState(dir: string): Promise<StateFile> {
  const state = await openFileState({ path: join(dir, '.packer.d/builder-state.json'), lock: false, onWarning: () => undefined });
  try {
    const s = state.snapshot();
    // Builds by their names in the template (stored as "two-builds.pkr.hcl/NAME").
    return { ...s, builds: Object.fromEntries(Object.entries(s.builds).map(([k, b]) => [k.slice(k.indexOf('/') + 1), b])) };
  } finally {
    await state.close();
  }
}

async function effects(dir: string): Promise<string[]> {
  return (await readFile(join(dir, 'effects.log'), 'utf8').catch(() => '')).split('\n').filter((l) => l !== '').sort();
}

/** Every step of `name` is recorded complete; `onceEach`: each was started once (attempts 1). */
function assertRecordedComplete(state: StateFile, name: string, where: string, onceEach = true): void {
  const b = state.builds[name];
  assert.ok(b, `${where}: ${name} is not in the state (builds: ${Object.keys(state.builds).join(', ')})`);
  assert.equal(b.status, 'complete', `${where}: ${name} is ${b.status}`);
  assert.equal(b.provisioners.length, STEPS, `${where}: ${name} has ${b.provisioners.length} step records`);
  b.provisioners.forEach((p, i) => {
    assert.equal(p.status, 'complete', `${where}: ${name} step ${i + 1} is ${p.status}`);
    if (onceEach) assert.equal(p.attempts, 1, `${where}: ${name} step ${i + 1} attempts`);
    assert.notEqual(p.fingerprint, '', `${where}: ${name} step ${i + 1} has no fingerprint`);
    assert.notEqual(p.ended_at, '', `${where}: ${name} step ${i + 1} has no end time`);
  });
}

function assertOk(r: CliResult, where: string): void {
  assert.equal(r.code, 0, `${where}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
}

const ALL_EFFECTS = ['a', 'b'].flatMap((b) => Array.from({ length: STEPS }, (_, i) => `${b}${i + 1}`)).sort();

test('two processes on disjoint builds of one state, ten times in a row: both recorded, nothing lost', async () => {
  // The reference: the same two runs one after the other.
  const reference = await workDir();
  let expectedSerial: number;
  try {
    assertOk(await build(reference, ['-only=a.*']).done, 'reference a');
    assertOk(await build(reference, ['-only=b.*']).done, 'reference b');
    expectedSerial = (await loadState(reference)).serial;
  } finally {
    await rm(reference, { recursive: true, force: true });
  }

  for (let round = 1; round <= 10; round++) {
    const dir = await workDir();
    try {
      const [a, b] = await Promise.all([build(dir, ['-only=a.*']).done, build(dir, ['-only=b.*']).done]);
      assertOk(a, `round ${round}, -only=a.*`);
      assertOk(b, `round ${round}, -only=b.*`);
      const state = await loadState(dir);
      assertRecordedComplete(state, 'a.null.one', `round ${round}`);
      assertRecordedComplete(state, 'b.null.one', `round ${round}`);
      assert.equal(state.serial, expectedSerial, `round ${round}: serial ${state.serial}, but the same runs one after the other persist ${expectedSerial} changes`);
      assert.deepEqual(await effects(dir), ALL_EFFECTS, `round ${round}: every step ran once`);
      if (round < 10) continue;
      // Both are up to date now, for a run of the whole template (checked once: it is not what
      // the rounds vary).
      const again = await runCli(['build', '-color=false', 'two-builds.pkr.hcl'], dir, { TMPDIR: dir, BUILDER_STATE_PATH: '' });
      assertOk(again, `round ${round}, whole template again`);
      assert.match(again.stdout, /a\.null\.one: Up to date/);
      assert.match(again.stdout, /b\.null\.one: Up to date/);
      assert.deepEqual(await effects(dir), ALL_EFFECTS, `round ${round}: nothing ran again`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
});

/** Starts a run of build `a` whose first step sleeps, and resolves once it holds the build's lock. */
async function startHolder(dir: string, extraArgs: readonly string[] = []): Promise<ReturnType<typeof startCli>> {
  const holder = build(dir, ['-only=a.*', '-var', 'pause=3', ...extraArgs]);
  // The first step has started (its side effect is there): the build lock is held by then.
  for (let i = 0; !(await effects(dir)).includes('a1'); i++) {
    if (holder.child.exitCode !== null) assert.fail(`the first run ended early: ${JSON.stringify(await holder.done)}`);
    assert.ok(i < 600, 'the first run did not start its first step within 30 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  return holder;
}

test('two processes on the same build: the second stops at once naming the holder', async () => {
  const dir = await workDir();
  try {
    const holder = await startHolder(dir);
    const second = await build(dir, ['-only=a.*', '-var', 'pause=3']).done;
    assert.notEqual(second.code, 0, 'the second run fails');
    const pid = holder.child.pid!;
    assert.match(second.stderr, new RegExp(`build "two-builds\\.pkr\\.hcl/a\\.null\\.one" of the state .* is locked by \\S+ \\(pid ${pid}\\) for "build" since \\d{4}-\\d\\d-\\d\\dT`));
    assert.match(second.stderr, /Who: +\S+ \(pid \d+\)/);
    assert.match(second.stderr, /-lock-timeout=DURATION/);
    assert.match(second.stderr, /builder state unlock -state=\S+ [0-9a-f-]{36}/);
    assert.doesNotMatch(second.stderr, /\n\s+at /, 'no stack trace');
    assert.doesNotMatch(second.stdout, /Running local shell script/, 'the second run ran nothing');
    assertOk(await holder.done, 'the first run');
    assert.deepEqual(await effects(dir), ['a1', 'a2', 'a3', 'a4', 'a5']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('two processes on the same build: with -lock-timeout the second waits, then finds the build up to date', async () => {
  const dir = await workDir();
  try {
    const holder = await startHolder(dir);
    const second = build(dir, ['-only=a.*', '-var', 'pause=3', '-lock-timeout=30s']);
    const first = await holder.done;
    assertOk(first, 'the first run');
    const waited = await second.done;
    assertOk(waited, 'the waiting run');
    assert.match(waited.stdout, /a\.null\.one: Up to date/);
    assert.deepEqual(await effects(dir), ['a1', 'a2', 'a3', 'a4', 'a5'], 'nothing ran twice');
    assertRecordedComplete(await loadState(dir), 'a.null.one', 'after both');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('two processes on the same build: with -lock-timeout the second waits, then resumes what the first left failed', async () => {
  const dir = await workDir();
  try {
    // Step 3 of build a fails the first time it runs, and succeeds the second time.
    const path = join(dir, 'two-builds.pkr.hcl');
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.replace('inline = ["echo a3 >> effects.log"]', 'inline = ["echo a3 >> effects.log", "test $(grep -c a3 effects.log) -ge 2"]'));
    const holder = await startHolder(dir);
    const second = build(dir, ['-only=a.*', '-var', 'pause=3', '-lock-timeout=30s']);
    const first = await holder.done;
    assert.notEqual(first.code, 0, `the first run fails at step 3: ${first.stdout}`);
    const waited = await second.done;
    assertOk(waited, 'the waiting run');
    assert.match(waited.stdout, /Resuming/);
    assert.deepEqual(await effects(dir), ['a1', 'a2', 'a3', 'a3', 'a4', 'a5'], 'the waiting run ran steps 3..5 only');
    assertRecordedComplete(await loadState(dir), 'a.null.one', 'after both', false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('two processes on disjoint builds, one SIGKILLed at a random moment, ten times: the other completes and is recorded; the killed one resumes', async (t) => {
  const seed = Number(process.env.BUILDER_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
  t.diagnostic(`seed ${seed} (replay with BUILDER_CRASH_SEED=${seed})`);
  let s = seed >>> 0;
  const random = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
  // How long a run of one build takes here: the kills are drawn from it.
  const probe = await workDir();
  const t0 = Date.now();
  try {
    assertOk(await build(probe, ['-only=a.*']).done, 'probe');
  } finally {
    await rm(probe, { recursive: true, force: true });
  }
  const durationMs = Date.now() - t0;
  for (let round = 1; round <= 10; round++) {
    const dir = await workDir();
    const at = Math.floor(random() * durationMs);
    const where = `round ${round}, a killed at ${at} ms (seed ${seed})`;
    try {
      const a = build(dir, ['-only=a.*']);
      const b = build(dir, ['-only=b.*']);
      const kill = new Promise((r) => setTimeout(r, at)).then(() => a.child.kill('SIGKILL'));
      const [bDone] = await Promise.all([b.done, a.done, kill]);
      assertOk(bDone, `${where}: b`);
      const state = await loadState(dir);
      assertRecordedComplete(state, 'b.null.one', where);
      // Every step of a that the state records complete ran exactly once.
      const seen = await effects(dir);
      (state.builds['a.null.one']?.provisioners ?? []).forEach((p, i) => {
        if (p.status === 'complete') assert.equal(seen.filter((e) => e === `a${i + 1}`).length, 1, `${where}: a${i + 1}`);
      });
      const completeBefore = (state.builds['a.null.one']?.provisioners ?? []).filter((p) => p.status === 'complete').length;
      const aWasComplete = state.builds['a.null.one']?.status === 'complete';
      const again = await build(dir, ['-only=a.*']).done;
      assertOk(again, `${where}: a again`);
      const after = await loadState(dir);
      // A run that finds a up to date (the kill came after it finished) writes nothing.
      if (aWasComplete) assert.equal(after.serial, state.serial, `${where}: a was up to date, yet the serial changed`);
      else assert.ok(after.serial > state.serial, `${where}: the serial grew`);
      assertRecordedComplete(after, 'a.null.one', `${where}, a again`, false);
      assertRecordedComplete(after, 'b.null.one', `${where}, a again`);
      const final = await effects(dir);
      for (let i = 1; i <= completeBefore; i++) assert.equal(final.filter((e) => e === `a${i}`).length, 1, `${where}: a${i} was complete and ran again`);
      for (let i = 1; i <= STEPS; i++) assert.equal(final.filter((e) => e === `b${i}`).length, 1, `${where}: b${i}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
});

test('two processes on the same build: the holder is SIGKILLed while the second waits; the second takes over the lock and resumes', async () => {
  const dir = await workDir();
  try {
    const holder = await startHolder(dir);
    const second = build(dir, ['-only=a.*', '-var', 'pause=3', '-lock-timeout=30s']);
    holder.child.kill('SIGKILL');
    await holder.done;
    const waited = await second.done;
    assertOk(waited, 'the waiting run');
    assert.match(waited.stderr, /was abandoned: that process no longer exists/, 'it says it took over an abandoned lock');
    assert.match(waited.stdout, /Resuming/);
    // Step 1 was running when its run was killed: it runs again; the others once.
    assert.deepEqual(await effects(dir), ['a1', 'a1', 'a2', 'a3', 'a4', 'a5']);
    assertRecordedComplete(await loadState(dir), 'a.null.one', 'after the takeover', false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

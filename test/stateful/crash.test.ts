/**
 * Crash test (issue 5): `builder build` of a template with 20 short steps, each appending its
 * number to effects.log, is SIGKILLed at a random moment, again and again. After every kill:
 * - the state loads (the way every command loads it: `openFileState`; every tenth time also
 *   `builder state show -json`),
 * - its serial never went back,
 * - no step that the state recorded as complete has run again since (side effects are counted per
 *   step; a step may run twice only when it was not recorded complete, e.g. killed while `running`).
 * When a run gets to complete the build before it is killed, the next kills go to a fresh directory
 * (a new "generation"). After all kills, a final run completes the current build.
 *
 * Kill times are drawn, with a seeded generator, from the duration of one whole run measured first.
 * Reproduce a failure with BUILDER_CRASH_SEED=<the seed printed>; BUILDER_CRASH_KILLS sets how many
 * kills (default 100).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { cliPath, repoRoot, runCli } from '../build/cli.js';
import { openFileState } from '../../src/state/open.js';
import type { BuildState } from '../../src/state/types.js';

const TEMPLATE = join(repoRoot, 'test/fixtures/stateful/twenty-steps.pkr.hcl');
const BUILD = 'crash.null.crash';
const STEPS = 20;

/** mulberry32: a small seeded generator, so a failing sequence of kill times can be replayed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface RunOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs `builder build` in `dir`; with `killAfterMs`, SIGKILLs it then (if it is still running). */
async function runBuild(dir: string, killAfterMs?: number): Promise<RunOutcome> {
  const child = spawn(process.execPath, [cliPath, 'build', '-color=false', 'twenty-steps.pkr.hcl'], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1', TMPDIR: dir, BUILDER_STATE_PATH: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<RunOutcome>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
  if (killAfterMs !== undefined) {
    const timer = sleep(killAfterMs).then(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const outcome = await exited;
    await timer;
    return { ...outcome, stderr };
  }
  return exited;
}

/** How many times each step's side effect happened (index 1..STEPS). */
async function countEffects(dir: string): Promise<number[]> {
  const counts = new Array<number>(STEPS + 1).fill(0);
  const text = await readFile(join(dir, 'effects.log'), 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const n = Number(line.trim());
    if (line.trim() !== '' && Number.isInteger(n) && n >= 1 && n <= STEPS) counts[n]! += 1;
  }
  return counts;
}

async function loadBuild(dir: string): Promise<{ serial: number; build: BuildState | undefined }> {
  const state = await openFileState({ path: join(dir, '.packer.d/builder-state.json'), template: 'twenty-steps.pkr.hcl', lock: false, onWarning: () => undefined });
  try {
    return { serial: state.serial, build: state.build(BUILD) };
  } finally {
    await state.close();
  }
}

/** One directory whose build is killed until it completes. */
class Generation {
  /** How many times a kill left a step `running` in the state (the case the next run re-runs). */
  static leftRunning = 0;
  /** Steps that ran more than once in a completed build (allowed: they were not recorded complete). */
  static ranTwice = 0;
  /** Side-effect count of each step when it was first seen recorded complete. */
  private readonly countWhenComplete = new Map<number, number>();
  private serial = 0;
  constructor(readonly dir: string) {}

  /** Checks the invariants after a run ended (killed or not); true when the build is complete. */
  async check(where: string): Promise<boolean> {
    const { serial, build } = await loadBuild(this.dir);
    assert.ok(serial >= this.serial, `${where}: the serial went back from ${this.serial} to ${serial}`);
    this.serial = serial;
    const counts = await countEffects(this.dir);
    for (const [step, count] of this.countWhenComplete) {
      assert.equal(counts[step], count, `${where}: step ${step} was recorded complete after ${count} run(s), then ran again (now ${counts[step]})`);
    }
    (build?.provisioners ?? []).forEach((p, i) => {
      const step = i + 1;
      if (p.status === 'running') Generation.leftRunning++;
      if (p.status !== 'complete' || this.countWhenComplete.has(step)) return;
      assert.ok(counts[step]! >= 1, `${where}: step ${step} is recorded complete but never ran`);
      this.countWhenComplete.set(step, counts[step]!);
    });
    if (build?.status !== 'complete') return false;
    Generation.ranTwice += counts.filter((c) => c > 1).length;
    for (let step = 1; step <= STEPS; step++) assert.ok(this.countWhenComplete.has(step), `${where}: the build is complete but step ${step} is not`);
    return true;
  }
}

test('SIGKILL at random moments: the state loads, the serial never goes back, no completed step runs twice', async (t) => {
  const seed = Number(process.env.BUILDER_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const kills = Number(process.env.BUILDER_CRASH_KILLS ?? 100);
  t.diagnostic(`seed ${seed} (replay with BUILDER_CRASH_SEED=${seed}), ${kills} kills`);
  const random = seededRandom(seed);
  const root = await mkdtemp(join(tmpdir(), 'builder-crash-'));
  let generations = 0;
  const newGeneration = async (): Promise<Generation> => {
    const dir = join(root, `gen-${generations++}`);
    await mkdir(dir);
    await copyFile(TEMPLATE, join(dir, 'twenty-steps.pkr.hcl'));
    return new Generation(dir);
  };
  try {
    // One whole run: what a kill time is drawn from.
    const calibration = await newGeneration();
    const started = Date.now();
    const whole = await runBuild(calibration.dir);
    const durationMs = Date.now() - started;
    assert.equal(whole.code, 0, whole.stderr);
    assert.equal(await calibration.check('calibration run'), true);
    assert.deepEqual((await countEffects(calibration.dir)).slice(1), new Array<number>(STEPS).fill(1));
    t.diagnostic(`a whole run takes ${durationMs} ms; kills are drawn from [0, ${durationMs}) ms`);

    let gen = await newGeneration();
    let killed = 0;
    let completedBeforeKill = 0;
    for (let i = 1; i <= kills; i++) {
      const at = Math.floor(random() * durationMs);
      const where = `kill ${i} at ${at} ms (seed ${seed}, ${gen.dir})`;
      const outcome = await runBuild(gen.dir, at);
      if (outcome.signal === 'SIGKILL') killed++;
      else {
        // It finished before the kill: it must have succeeded, without a stack trace.
        assert.equal(outcome.code, 0, `${where}: the run ended on its own with ${outcome.code}: ${outcome.stderr}`);
        completedBeforeKill++;
      }
      if (i % 10 === 0) {
        // Every tenth kill, also the way a user looks at it: `builder state show -json`.
        // Killed before the first write, there is no state yet: the command says so.
        const shown = await runCli(['state', 'show', '-json'], gen.dir, { BUILDER_STATE_PATH: '' });
        if (existsSync(join(gen.dir, '.packer.d/builder-state.json'))) {
          assert.equal(shown.code, 0, `${where}: builder state show -json: ${shown.stderr}`);
          assert.ok((JSON.parse(shown.stdout) as { serial: number }).serial >= 1);
        } else assert.match(shown.stderr, /^Error: no state at /, `${where}: builder state show -json`);
      }
      if (await gen.check(where)) gen = await newGeneration();
    }
    const final = await runBuild(gen.dir);
    assert.equal(final.code, 0, `final run: ${final.stderr}`);
    assert.doesNotMatch(final.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(await gen.check('final run'), true, 'the final run completes the build');
    t.diagnostic(`${killed} runs killed, ${completedBeforeKill} finished before their kill time, ${generations - 1} build directories`);
    t.diagnostic(`${Generation.leftRunning} kills left a step running; ${Generation.ranTwice} steps of completed builds ran more than once (never one recorded complete)`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

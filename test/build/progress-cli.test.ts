/**
 * What a user sees of issue 13's progress lines in a real `builder build` (in-process): a run that
 * waits for a build lock another run holds says "Acquiring state lock…" naming the holder, then
 * builds once the lock is free; `-debug` pauses name Packer's steps, never internal ids; a step
 * running longer than the heartbeat interval says "Still running … elapsed" with `-timestamp-ui`
 * (each line stamped) and nothing without a terminal and without `-timestamp-ui` (a real process;
 * the interval is shortened with BUILDER_HEARTBEAT_INTERVAL, the knob docs/design.md "Progress"
 * names for tests; the step sleeps ten intervals, so a beat falls inside it however slow the
 * machine is).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { runCli } from '../../src/cli/main.js';
import type { CommandContext } from '../../src/cli/command.js';
import { openFileState } from '../../src/state/open.js';
import { runInProcess, runProcess } from '../cli/run.js';

const TEMPLATE = `
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo hello"]
  }
}
`;

/** A step that runs ten heartbeat intervals (HEARTBEAT_ENV). */
const SLOW = TEMPLATE.replace('inline = ["echo hello"]', 'inline = ["sleep 2", "echo slept"]');
const HEARTBEAT_ENV = { BUILDER_HEARTBEAT_INTERVAL: '200ms' };

function folder(t: { after(fn: () => void): void }, template = TEMPLATE): string {
  const dir = mkdtempSync(join(tmpdir(), 'builder-progress-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 't.pkr.hcl'), template);
  return dir;
}

test('build -lock-timeout: "Acquiring state lock" with the holder, then the build runs once the holder lets go', async (t) => {
  const dir = folder(t);
  const statePath = join(dir, 'state.json');
  // A first run of the template records it, so the other run's lock is on the same build.
  assert.equal((await runInProcess(['build', `-state=${statePath}`, 't.pkr.hcl'], { cwd: dir })).code, 0);
  const holder = await openFileState({ path: statePath });
  const key = holder.buildKeys().find((k) => k.endsWith('/null.a'))!;
  assert.ok(key, 'the build is recorded');
  const lock = await holder.lockBuild(key, 'build');
  let out = '';
  let released = false;
  const stdout = new PassThrough();
  stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c;
    if (out.includes('Acquiring state lock') && !released) {
      released = true;
      void holder.unlock(lock!.id);
    }
  });
  const ctx: CommandContext = {
    stdout,
    stderr: new PassThrough(),
    stdin: Readable.from([]),
    stdinIsTTY: false,
    stdoutIsTTY: false,
    env: {},
    cwd: dir,
    signal: new AbortController().signal,
  };
  const code = await runCli(['build', `-state=${statePath}`, '-force', '-replace=null.a', '-lock-timeout=10m', 't.pkr.hcl'], ctx);
  await holder.close();
  assert.equal(code, 0, out);
  assert.match(out, new RegExp(`Acquiring state lock\\. This may take a few moments\\.\\.\\. \\(waiting for the lock of build "null\\.a" of .*state\\.json, held by \\S+ \\(pid ${process.pid}\\) for "build" since \\S+, lock ID ${lock!.id}\\)\\n`));
  assert.match(out, /Build 'null\.a' finished/);
});

test('build -debug pauses after each step with its Packer name, before the provisioner by name, and before cleanups', async (t) => {
  const dir = folder(t);
  const r = await runInProcess(['build', '-debug', 't.pkr.hcl'], { cwd: dir, stdin: '\n'.repeat(20), terminal: true });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const pauses = r.stdout.split('\n').filter((l) => l.includes('Pausing'));
  assert.deepEqual(pauses, [
    "==> null.a: Pausing after run of step 'StepCreateNull'. Press enter to continue.",
    "==> null.a: Pausing after run of step 'StepConnect'. Press enter to continue.",
    "==> null.a: Pausing before the next provisioner 'shell-local'. Press enter to continue.",
    "==> null.a: Pausing after run of step 'StepProvision'. Press enter to continue.",
    "==> null.a: Pausing after run of step 'StepFinishNull'. Press enter to continue.",
    "==> null.a: Pausing before cleanup of step 'StepProvision'. Press enter to continue.",
    "==> null.a: Pausing before cleanup of step 'StepConnect'. Press enter to continue.",
    "==> null.a: Pausing before cleanup of step 'StepCreateNull'. Press enter to continue.",
  ]);
});

test('build -timestamp-ui: a step sleeping past the heartbeat interval prints stamped "Still running … elapsed" lines', async (t) => {
  const dir = folder(t, SLOW);
  const r = await runProcess(['build', '-timestamp-ui', 't.pkr.hcl'], { cwd: dir, env: HEARTBEAT_ENV });
  assert.equal(r.code, 0, r.stderr);
  const beats = r.stdout.split('\n').filter((l) => l.includes('Still running'));
  assert.ok(beats.length >= 1, r.stdout);
  for (const l of beats) {
    assert.match(l, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}): ==> null\.a: Still running provisioner 'shell-local'\.\.\. [\d.]+m?s elapsed$/);
  }
  // The elapsed time counts the beats: 200ms, 400ms, …
  assert.match(beats[0]!, /\.\.\. 200ms elapsed$/);
  assert.match(r.stdout, /null\.a: slept/);
});

test('build without a terminal and without -timestamp-ui: no heartbeat at all', async (t) => {
  const dir = folder(t, SLOW);
  const r = await runProcess(['build', 't.pkr.hcl'], { cwd: dir, env: HEARTBEAT_ENV });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /null\.a: slept/);
  assert.doesNotMatch(r.stdout + r.stderr, /Still running|elapsed/);
});

test('a BUILDER_HEARTBEAT_INTERVAL that is not a positive duration is one clear error', async (t) => {
  const dir = folder(t, SLOW);
  const r = await runProcess(['build', '-timestamp-ui', 't.pkr.hcl'], { cwd: dir, env: { BUILDER_HEARTBEAT_INTERVAL: 'soon' } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /BUILDER_HEARTBEAT_INTERVAL="soon" is not a duration greater than zero .*\n\[BLD0230\]/);
  assert.doesNotMatch(r.stderr, /\n\s+at |Usage:/, 'no stack trace, no usage text');
});

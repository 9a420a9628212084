/**
 * What a user sees of issue 13's progress lines in a real `builder build` (in-process): a run that
 * waits for a build lock another run holds says "Acquiring state lock…" naming the holder, then
 * builds once the lock is free; `-debug` pauses name Packer's steps, never internal ids.
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
import { runInProcess } from '../cli/run.js';

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

function folder(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'builder-progress-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 't.pkr.hcl'), TEMPLATE);
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

/**
 * The local process driver under attack (issue 15): builder SIGKILLed mid-step must not leave
 * the step running; output is read with back-pressure; an endless line is split, in linear time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { MAX_LINE_CHARS, runLocal } from '../../src/sdk/process.js';
import { firstLine } from '../state/helpers/processes.js';

const RUN_STEP = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'run-step.js');

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // gone
  }
}

/** Waits (up to `limitMs`) for the group to disappear; true when it did. */
async function groupEnds(pgid: number, limitMs = 30_000): Promise<boolean> {
  for (let waited = 0; waited < limitMs; waited += 50) {
    if (!groupAlive(pgid)) return true;
    await delay(50);
  }
  return !groupAlive(pgid);
}

test("builder SIGKILLed mid-step: the step's whole process group dies with it", async (t) => {
  const builder = spawn(process.execPath, [RUN_STEP, '/bin/sh', '-c', 'sleep 300 & echo $$; wait'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pgid = Number(await firstLine(builder));
  t.after(() => killGroup(pgid));
  assert.ok(pgid > 0 && groupAlive(pgid), 'the step runs in its own group');
  builder.kill('SIGKILL');
  assert.equal(await groupEnds(pgid), true, 'the step (and its background sleep) outlived builder');
});

test('a step ending normally keeps what it started in the background (as Packer): only a dying builder kills the group', async (t) => {
  const lines: string[] = [];
  await runLocal(
    { argv: ['/bin/sh', '-c', 'sleep 300 >/dev/null 2>&1 & echo $!'], cwd: process.cwd(), env: process.env, onStdout: (l) => lines.push(l), onStderr: () => undefined },
    new AbortController().signal,
  );
  const pid = Number(lines[0]);
  t.after(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  });
  await delay(300); // room for a watchdog that wrongly fired to act
  assert.doesNotThrow(() => process.kill(pid, 0), 'the background process is still there');
});

test('output is read with back-pressure: while the UI is congested, the command is not read (memory stays bounded)', async () => {
  let received = 0;
  let release: () => void = () => undefined;
  let congested: Promise<void> | undefined = new Promise<void>((resolve) => (release = resolve));
  const done = runLocal(
    {
      argv: ['/bin/sh', '-c', 'head -c 20000000 /dev/zero | tr "\\0" "a" | fold -w 100'],
      cwd: process.cwd(),
      env: process.env,
      onStdout: (l) => (received += l.length + 1),
      onStderr: () => undefined,
      whenWritable: () => congested,
    },
    new AbortController().signal,
  );
  await delay(1000);
  // One read (at most a pipe's worth, 64 KiB, plus a partial line) and then nothing while congested.
  assert.ok(received <= 256 * 1024, `read ${received} bytes while the output was congested`);
  congested = undefined;
  release();
  const result = await done;
  assert.equal(result.exitStatus, 0);
  assert.equal(received, 20_000_000 + 20_000_000 / 100);
});

test('an endless line without a newline is delivered in bounded pieces, all of it', async () => {
  const pieces: number[] = [];
  const total = 8 * 1024 * 1024;
  const result = await runLocal(
    { argv: ['/bin/sh', '-c', `head -c ${total} /dev/zero | tr "\\0" "b"`], cwd: process.cwd(), env: process.env, onStdout: (l) => pieces.push(l.length), onStderr: () => undefined },
    new AbortController().signal,
  );
  assert.equal(result.exitStatus, 0);
  assert.equal(pieces.reduce((a, b) => a + b, 0), total);
  assert.ok(Math.max(...pieces) <= MAX_LINE_CHARS);
  assert.equal(pieces.length, Math.ceil(total / MAX_LINE_CHARS));
});

test('a split never cuts a character in two', async () => {
  const pieces: string[] = [];
  // "a" then emoji (2 UTF-16 units each): the cut at MAX_LINE_CHARS falls inside a pair.
  const count = MAX_LINE_CHARS;
  await runLocal(
    { argv: ['/bin/sh', '-c', `printf a; i=0; while [ $i -lt ${count / 1024} ]; do printf '%s' "$0"; i=$((i+1)); done`, '😀'.repeat(1024)], cwd: process.cwd(), env: process.env, onStdout: (l) => pieces.push(l), onStderr: () => undefined },
    new AbortController().signal,
  );
  assert.ok(pieces.length >= 2);
  const broken = pieces.filter((p) => /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(p));
  assert.equal(broken.length, 0, 'a piece with half a character');
  assert.ok(pieces.join('') === `a${'😀'.repeat(count)}`, 'every character delivered once, in order');
});

test('cancelling a step whose output is congested ends it (the pipes are read to their end)', async () => {
  const abort = new AbortController();
  let lines = 0;
  const done = runLocal(
    {
      argv: ['/bin/sh', '-c', 'while :; do echo flood; done'],
      cwd: process.cwd(),
      env: process.env,
      onStdout: () => void lines++,
      onStderr: () => undefined,
      whenWritable: () => new Promise<void>(() => undefined), // never drains
    },
    abort.signal,
  );
  while (lines === 0) await delay(10);
  abort.abort();
  await assert.rejects(done);
});

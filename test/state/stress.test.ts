/**
 * The concurrent stress test the reference system failed (20+ errors in 5 s): 50 reader processes
 * and 20 writer processes on one state file for STATE_STRESS_SECONDS (default 5) seconds. Every
 * writer adds one to its own build and one to a shared build, again and again; every reader loads
 * the state as fast as it can. Counted by the test: zero errors, zero lost updates (each counter
 * equals the increments its writers report, the serial equals their total), and no reader ever
 * sees a version older than one it saw before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { StateManager } from '../../src/state/manager.js';
import { FileStateClient } from '../../src/state/file/client.js';
import { counter } from './helpers/counters.js';
import { tempDir } from './helpers/fixtures.js';
import { exited, firstLine } from './helpers/processes.js';

const here = dirname(fileURLToPath(import.meta.url));
const CHILD = join(here, 'helpers', 'state-child.js');
const MODULE = pathToFileURL(join(here, 'helpers', 'file-backend.js')).href;
const READERS = 50;
const WRITERS = 20;
const SECONDS = Number(process.env.STATE_STRESS_SECONDS ?? 5);

test(`stress: ${READERS} readers and ${WRITERS} writers for ${SECONDS}s — zero errors, zero lost updates`, { timeout: 300_000 }, async (t) => {
  const path = join(tempDir(t), 'state.json');
  const spec = JSON.stringify({ module: MODULE, export: 'createFileClient', args: [{ path }] });
  const start = (args: string[]): ChildProcess => spawn(process.execPath, [CHILD, spec, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const writers = Array.from({ length: WRITERS }, (_, i) => start(['stress-writer', `writer${i}.null.x`]));
  const readers = Array.from({ length: READERS }, () => start(['stress-reader']));
  const all = [...writers, ...readers];
  t.after(() => all.forEach((c) => c.exitCode === null && c.kill('SIGKILL')));
  // Everyone starts together once all 70 processes are up.
  await Promise.all(all.map(firstLine));
  const results = all.map(exited);
  all.forEach((c) => c.stdin!.write('go\n'));
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  all.forEach((c) => c.stdin!.write('stop\n'));
  const outs = await Promise.all(results);
  const parsed = outs.map((o, i) => {
    assert.equal(o.code, 0, `process ${i} failed: ${o.stderr}`);
    return JSON.parse(o.stdout.trim().split('\n').at(-1)!) as Record<string, number>;
  });
  const w = parsed.slice(0, WRITERS);
  const r = parsed.slice(WRITERS);
  const writerErrors = w.reduce((n, x) => n + x.errors!, 0);
  const readerErrors = r.reduce((n, x) => n + x.errors!, 0);
  const regressions = r.reduce((n, x) => n + x.regressions!, 0);
  const reads = r.reduce((n, x) => n + x.reads!, 0);
  const ownTotal = w.reduce((n, x) => n + x.own!, 0);
  const sharedTotal = w.reduce((n, x) => n + x.shared!, 0);
  t.diagnostic(`${ownTotal + sharedTotal} updates by ${WRITERS} writers, ${reads} loads by ${READERS} readers in ${SECONDS}s`);
  assert.equal(writerErrors, 0, 'writer errors');
  assert.equal(readerErrors, 0, 'reader errors');
  assert.equal(regressions, 0, 'a reader saw an older version after a newer one');
  assert.ok(ownTotal > 0 && reads > 0, 'the processes did work');
  const final = await StateManager.open({ client: new FileStateClient({ path }) });
  assert.equal(counter(final.build('shared')), sharedTotal, 'lost updates on the shared build');
  for (let i = 0; i < WRITERS; i++) assert.equal(counter(final.build(`writer${i}.null.x`)), w[i]!.own, `lost updates on writer ${i}'s build`);
  assert.equal(final.serial, ownTotal + sharedTotal, 'the serial counts every update exactly once');
});

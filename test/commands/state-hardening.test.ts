/**
 * Hostile input to the state commands (issue 15): pushed states with unsafe serials, a
 * `__proto__` build or wrong types get one clear error; `state restore` of a damaged state never
 * moves the serial back; the "restore" advice is only given when a backup exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openFileState } from '../../src/state/open.js';
import { runInProcess } from '../cli/run.js';
import { completeBuild, tempDir } from '../state/helpers/fixtures.js';

const run = (args: string[], cwd: string, stdin?: string) => runInProcess(args, { cwd, env: {}, stdin });

async function seed(dir: string, serial: number): Promise<string> {
  const path = join(dir, '.packer.d', 'builder-state.json');
  const m = await openFileState({ path });
  for (let i = 0; i < serial; i++) {
    await m.update(`b${i % 2}.null.main`, () => completeBuild(`b${i}`));
    await m.compact(); // a full write each time: the backup is the version before
  }
  await m.close();
  return path;
}

test('state push: unsafe serials, a __proto__ build and wrong types are refused with one clear error', async (t) => {
  const dir = tempDir(t);
  await seed(dir, 2);
  const pulled = JSON.parse((await run(['state', 'pull'], dir)).stdout) as Record<string, unknown>;
  delete pulled.checksum;
  const hostile: [string, string, RegExp][] = [
    ['serial 2^53', JSON.stringify({ ...pulled, serial: 2 ** 53 }), /"serial" must be a whole number from 0 to 9007199254740990/],
    ['serial 1e308', JSON.stringify({ ...pulled, serial: 1e308 }), /"serial" must be a whole number/],
    ['serial "3"', JSON.stringify({ ...pulled, serial: '3' }), /"serial" must be a whole number/],
    ['a __proto__ build', JSON.stringify(pulled).replace('"builds":{', '"builds":{"__proto__":' + JSON.stringify(completeBuild('x')) + ','), /a build is named "__proto__"/],
    ['builds as a list', JSON.stringify({ ...pulled, builds: [] }), /"builds" must be an object/],
    ['not an object', '[1,2,3]', /it is not a JSON object/],
  ];
  for (const [what, body, message] of hostile) {
    const r = await run(['state', 'push', '-force', '-'], dir, body);
    assert.equal(r.code, 1, `${what}: ${r.stdout}`);
    assert.match(r.stderr, message, what);
    assert.doesNotMatch(r.stderr, /Internal error|\n {4}at /, what);
  }
  assert.equal(({} as Record<string, unknown>).status, undefined, 'no prototype polluted');
});

test('state restore of a damaged state: the serial goes on from the highest one seen, so a stale push is still refused', async (t) => {
  const dir = tempDir(t);
  const path = await seed(dir, 5);
  const stale = (await run(['state', 'pull'], dir)).stdout; // serial 5
  // Damage the state file (cut short): its serial (5) is still readable as text; the backup has 4.
  const text = readFileSync(path, 'utf8');
  writeFileSync(path, text.slice(0, Math.floor(text.length / 2)));
  const r = await run(['state', 'restore', '-force'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Restored the state: serial 6,/);
  const push = await run(['state', 'push', '-'], dir, stale);
  assert.equal(push.code, 1, 'a copy older than the restored state needs -force');
  assert.match(push.stderr, /is newer \(serial 6\) than the state to write \(serial 5\)/);
});

test('a damaged state without a backup: no advice to run state restore', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, '.packer.d', 'builder-state.json');
  const m = await openFileState({ path });
  await m.update('a.null.main', () => completeBuild('a'));
  await m.close();
  writeFileSync(path, readFileSync(path, 'utf8').replace('"complete"', '"finished"'));
  const r = await run(['state', 'list'], dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /No backup of it exists/);
  assert.doesNotMatch(r.stderr, /state restore/);
});

test('the loser of a state rm race is told why it exits 1', async (t) => {
  const dir = tempDir(t);
  const path = await seed(dir, 1);
  const holder = await openFileState({ path });
  const lock = await holder.lockBuild('b0.null.main', 'test');
  const loser = run(['state', 'rm', '-force', '-lock-timeout=60s', 'b0.null.main'], dir);
  await new Promise((r) => setTimeout(r, 200)); // let it read the state and wait for the lock
  await holder.remove(['b0.null.main']);
  if (lock) await holder.unlock(lock.id);
  await holder.close();
  const r = await loser;
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Build "b0\.null\.main" is no longer in the state .*another process removed it meanwhile|no build "b0\.null\.main"/);
});

test('state rm B A takes its build locks in sorted order: while it waits for A it holds no lock on B', async (t) => {
  const dir = tempDir(t);
  const path = await seed(dir, 2); // builds b0.null.main and b1.null.main
  const holder = await openFileState({ path, lockTimeoutMs: 0 });
  const a = await holder.lockBuild('b0.null.main', 'test');
  const rm = run(['state', 'rm', '-force', '-lock-timeout=60s', 'b1.null.main', 'b0.null.main'], dir);
  await new Promise((r) => setTimeout(r, 300)); // let it start waiting
  // In the old order it held b1 and waited for b0: a `state rm b0 b1` then waited for it — a deadlock.
  const b = await holder.lockBuild('b1.null.main', 'test');
  assert.ok(b, 'b1 is free while state rm waits for b0');
  if (b) await holder.unlock(b.id);
  if (a) await holder.unlock(a.id);
  await holder.close();
  const r = await rm;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Removed 2 build\(s\)/);
});

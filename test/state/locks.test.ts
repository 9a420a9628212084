/**
 * Locks of the local file backend: contention among 100 competitors, build/state granularity,
 * timeouts, abandoned locks (dead holder on this host: taken over with a warning; another host:
 * never), unlock by id, and the message a user sees.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LockNotFoundError, StateLockedError } from '../../src/state/errors.js';
import { FileStateClient } from '../../src/state/file/client.js';
import { FileLocks } from '../../src/state/file/lock-files.js';
import { nodeFileSystem } from '../../src/state/file/fs.js';
import { StateManager } from '../../src/state/manager.js';
import { openFileState } from '../../src/state/open.js';
import { newBuild } from '../../src/state/types.js';
import { tempDir } from './helpers/fixtures.js';
import { deadPid, plantLock } from './helpers/processes.js';

function isLocked(err: unknown): err is StateLockedError {
  return err instanceof StateLockedError && err.code === 'STATE_LOCKED';
}

test('100 competitors for one build lock: each gets it in turn, never two at once', async (t) => {
  const path = join(tempDir(t), 'state.json');
  let holding = 0;
  let maxHolding = 0;
  let acquired = 0;
  const competitors = Array.from({ length: 100 }, async (_, i) => {
    const client = new FileStateClient({ path });
    const lock = await client.lock({ scope: 'build', build: 'web.null.a', operation: `competitor ${i}`, timeoutMs: 120_000 });
    holding++;
    maxHolding = Math.max(maxHolding, holding);
    acquired++;
    await new Promise((r) => setTimeout(r, 1));
    holding--;
    await client.unlock(lock.id);
  });
  await Promise.all(competitors);
  assert.equal(acquired, 100);
  assert.equal(maxHolding, 1);
});

test('100 competitors for the write lock: each read-modify-write keeps every update', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const managers = await Promise.all(Array.from({ length: 100 }, () => StateManager.open({ client: new FileStateClient({ path }) })));
  await Promise.all(
    managers.map((m) =>
      m.update('shared.null.x', (b) => {
        const build = b ?? newBuild('shared', 'null');
        build.artifacts.push({ id: String(build.artifacts.length), builder_id: '', type: '', files: [], metadata: {}, hash: '' });
        return build;
      }),
    ),
  );
  const final = await openFileState({ path });
  assert.equal(final.serial, 100);
  assert.equal(final.build('shared.null.x')?.artifacts.length, 100, 'no lost update');
});

test('different builds lock independently; the same build is refused naming the holder', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const a = await openFileState({ path });
  const b = await openFileState({ path });
  const lockA = await a.lockBuild('web.null.a', 'build');
  const lockB = await b.lockBuild('db.null.b', 'build');
  assert.ok(lockA && lockB);
  await assert.rejects(b.lockBuild('web.null.a', 'build'), (err: unknown) => {
    assert.ok(isLocked(err));
    assert.match(err.message, new RegExp(`^build "web\\.null\\.a" of the state ${path.replace(/[.]/g, '\\.')} is locked by \\S+@${hostname()} \\(pid ${process.pid}\\) for "build" since `));
    assert.match(err.message, /ID: {8}[0-9a-f-]{36}/);
    assert.match(err.message, /builder locks the state so that two runs never work on the same build at once/);
    assert.ok(err.message.includes(`builder state unlock -state=${path} ${lockA.id}`));
    return true;
  });
  // A state lock excludes every build lock, and the other way round.
  await assert.rejects(a.lockState('state push'), (err: unknown) => isLocked(err) && err.holders.length === 2);
  await a.unlock(lockA.id);
  await b.unlock(lockB.id);
  const whole = await a.lockState('state push');
  await assert.rejects(b.lockBuild('web.null.a', 'build'), (err: unknown) => isLocked(err) && /the whole state/.test(err.message));
  await a.unlock(whole!.id);
  assert.ok(await b.lockBuild('web.null.a', 'build'));
  await b.close();
});

test('-lock-timeout waits for the holder with back-off; without it the refusal is immediate', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const holder = await openFileState({ path });
  const waiter = await openFileState({ path, lockTimeoutMs: 30_000 });
  const lock = await holder.lockBuild('web.null.a', 'build');
  setTimeout(() => void holder.unlock(lock!.id), 150);
  const got = await waiter.lockBuild('web.null.a', 'build');
  assert.ok(got);
  const impatient = await openFileState({ path, lockTimeoutMs: 0 });
  await assert.rejects(impatient.lockBuild('web.null.a', 'build'), isLocked);
  const shortWait = await openFileState({ path, lockTimeoutMs: 100 });
  await assert.rejects(shortWait.lockBuild('web.null.a', 'build'), (err: unknown) => isLocked(err) && /\(waited 0\.\ds\)/.test(err.message));
});

test('an abandoned build lock (dead process on this host) is taken over with a warning', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const locks = new FileLocks(nodeFileSystem, path, () => undefined);
  const warnings: string[] = [];
  const m = await openFileState({ path, onWarning: (w) => warnings.push(w) });
  nodeFileSystem.mkdir(locks.locksDir, 0o700);
  const pid = await deadPid();
  plantLock(locks.buildLockFile('web.null.a'), { pid, scope: 'build', build: 'web.null.a', path, id: 'dead-holder-id' });
  const lock = await m.lockBuild('web.null.a', 'build');
  assert.ok(lock);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, new RegExp(`the build lock dead-holder-id on build "web.null.a" of the state .* taken by someone@\\S+ \\(pid ${pid}\\) for "build" at 2026-11-25T09:00:00.000Z, was abandoned: that process no longer exists. Taking it over.`));
});

test('a break guard left by a breaker that died does not block taking over an abandoned lock', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const locks = new FileLocks(nodeFileSystem, path, () => undefined);
  const m = await openFileState({ path, onWarning: () => undefined });
  nodeFileSystem.mkdir(locks.locksDir, 0o700);
  const holder = await deadPid();
  const breaker = await deadPid();
  const file = locks.buildLockFile('web.null.a');
  plantLock(file, { pid: holder, scope: 'build', build: 'web.null.a', path, id: 'dead-holder-id' });
  // A process killed while breaking the lock left its guard: fresh, and naming a dead breaker.
  writeFileSync(`${file}.break`, JSON.stringify({ host: hostname(), pid: breaker }));
  const lock = await m.lockBuild('web.null.a', 'build');
  assert.ok(lock, 'the first run after the crash takes the lock over');
  assert.equal(existsSync(`${file}.break`), false);
});

test('a breaker that dies while writing its guard leaves no guard: the next run takes the abandoned lock over at once', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const locks = new FileLocks(nodeFileSystem, path, () => undefined);
  nodeFileSystem.mkdir(locks.locksDir, 0o700);
  const file = locks.buildLockFile('web.null.a');
  plantLock(file, { pid: await deadPid(), scope: 'build', build: 'web.null.a', path, id: 'dead-holder-id' });
  // The breaker "dies" (its write throws) while writing its identity into the guard.
  const dying = { ...nodeFileSystem };
  dying.write = (fd, data, position) => {
    if ((data as Buffer).includes('"pid"') && !(data as Buffer).includes('"id"')) throw new Error('killed');
    return nodeFileSystem.write(fd, data, position);
  };
  const breaker = await StateManager.open({ client: new FileStateClient({ path, fs: dying }), lockTimeoutMs: 0 });
  await assert.rejects(breaker.lockBuild('web.null.a', 'build'), /killed/);
  assert.equal(existsSync(`${file}.break`), false, 'no guard, so no one waits on an unreadable one');
  // The next run, with no time to wait, takes the lock over.
  const m = await openFileState({ path, lockTimeoutMs: 0, onWarning: () => undefined });
  assert.ok(await m.lockBuild('web.null.a', 'build'));
});

test('build locks never appear empty: a process that dies before linking its lock leaves only a temp file, removed later', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const locks = new FileLocks(nodeFileSystem, path, () => undefined);
  nodeFileSystem.mkdir(locks.locksDir, 0o700);
  const file = locks.buildLockFile('web.null.a');
  const dead = await deadPid();
  writeFileSync(`${file}.${dead}.tmp`, '');
  // Removed only once a minute old (its pid might be of another pid namespace; no live taker keeps one that long).
  const old = new Date(Date.now() - 120_000);
  utimesSync(`${file}.${dead}.tmp`, old, old);
  const m = await openFileState({ path, lockTimeoutMs: 0, onWarning: () => undefined });
  assert.ok(await m.lockBuild('web.null.a', 'build'));
  assert.equal(existsSync(`${file}.${dead}.tmp`), false);
  assert.deepEqual(readdirSync(locks.locksDir).filter((n) => n.endsWith('.tmp')), []);
  assert.match(readFileSync(file, 'utf8'), /"scope":"build"/);
});

test('a fresh break guard of a live breaker is respected', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const locks = new FileLocks(nodeFileSystem, path, () => undefined);
  const m = await openFileState({ path, lockTimeoutMs: 0, onWarning: () => undefined });
  nodeFileSystem.mkdir(locks.locksDir, 0o700);
  const file = locks.buildLockFile('web.null.a');
  plantLock(file, { pid: await deadPid(), scope: 'build', build: 'web.null.a', path, id: 'dead-holder-id' });
  writeFileSync(`${file}.break`, JSON.stringify({ host: hostname(), pid: process.pid }));
  await assert.rejects(m.lockBuild('web.null.a', 'build'), isLocked);
  assert.equal(existsSync(`${file}.break`), true);
});

test('an abandoned write lock (a writer killed mid-write) is taken over, and the update goes through', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const warnings: string[] = [];
  const m = await openFileState({ path, onWarning: (w) => warnings.push(w) });
  plantLock(`${path}.lock`, { pid: await deadPid(), scope: 'write', path, operation: 'update build x' });
  assert.equal(await m.update('x.null.y', () => newBuild('x', 'null')), true);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /the write lock planted-0000-1111 on the state .* was abandoned/);
  assert.equal(existsSync(`${path}.lock`), false);
});

test('an empty (damaged) lock file is removed once it has been seen unchanged for a while', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const warnings: string[] = [];
  const m = await openFileState({ path, onWarning: (w) => warnings.push(w) });
  writeFileSync(`${path}.lock`, '');
  const old = new Date(Date.now() - 60_000);
  utimesSync(`${path}.lock`, old, old);
  assert.equal(await m.update('x.null.y', () => newBuild('x', 'null')), true);
  assert.match(warnings[0]!, /cannot be read .* Removing it/);
});

test('a lock from another host is never broken automatically, even if its pid is dead here', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const locks = new FileLocks(nodeFileSystem, path, () => undefined);
  nodeFileSystem.mkdir(locks.locksDir, 0o700);
  const info = plantLock(locks.buildLockFile('web.null.a'), {
    pid: await deadPid(),
    scope: 'build',
    build: 'web.null.a',
    path,
    host: 'ci-runner-7.example.com',
    who: 'ci@ci-runner-7.example.com',
  });
  const warnings: string[] = [];
  const m = await openFileState({ path, lockTimeoutMs: 200, onWarning: (w) => warnings.push(w) });
  await assert.rejects(m.lockBuild('web.null.a', 'build'), (err: unknown) => {
    assert.ok(isLocked(err));
    assert.match(err.message, /locked by ci@ci-runner-7\.example\.com \(pid \d+\)/);
    assert.match(err.message, /it was taken on another host, so builder never breaks it on its own/);
    assert.ok(err.message.includes(`builder state unlock -state=${path} ${info.id}`));
    return true;
  });
  assert.deepEqual(warnings, []);
  // The user breaks it by id; a wrong id changes nothing.
  await assert.rejects(m.unlock('not-the-id'), (err: unknown) => err instanceof LockNotFoundError && /no lock with ID "not-the-id"/.test(err.message) && err.message.includes(info.id));
  assert.equal((await m.locks()).length, 1);
  assert.equal((await m.unlock(info.id)).who, 'ci@ci-runner-7.example.com');
  assert.deepEqual(await m.locks(), []);
  assert.ok(await m.lockBuild('web.null.a', 'build'));
});

test('-lock=false takes no lock and says so', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const warnings: string[] = [];
  const holder = await openFileState({ path });
  await holder.lockBuild('web.null.a', 'build');
  const m = await openFileState({ path, lock: false, onWarning: (w) => warnings.push(w) });
  assert.match(warnings[0]!, /state locking is disabled \(-lock=false\): another run on .* at the same time can overwrite/);
  assert.equal(await m.lockBuild('web.null.a', 'build'), undefined);
  assert.equal(await m.update('web.null.a', () => newBuild('web', 'null')), true);
});

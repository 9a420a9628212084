/**
 * Attacks on the local file backend (issue 15): links planted by another user at the names the
 * backend writes, an unsafe state folder, special files at state paths, a lock holder in another
 * pid namespace, and a write lock judged by its age. Each test reproduces the attack.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { StateAccessError, StateCorruptError, StateLockedError, StateWriteError } from '../../src/state/errors.js';
import { decodeState, MAX_STATE_BYTES } from '../../src/state/format.js';
import { FileStateClient } from '../../src/state/file/client.js';
import { StateFolderUnsafeError } from '../../src/state/file/folder-check.js';
import { FileLocks } from '../../src/state/file/lock-files.js';
import { nodeFileSystem } from '../../src/state/file/fs.js';
import { StateManager } from '../../src/state/manager.js';
import { openFileState } from '../../src/state/open.js';
import { newBuild } from '../../src/state/types.js';
import { tempDir } from './helpers/fixtures.js';
import { exited, firstLine, plantLock } from './helpers/processes.js';

const isRoot = process.geteuid?.() === 0;
const VICTIM = 'precious content of another file\n';

function victim(dir: string): string {
  const file = join(dir, 'victim.txt');
  writeFileSync(file, VICTIM);
  return file;
}

test('a link planted at the journal is not followed: the victim file is untouched and the write fails clearly', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'state.json');
  const target = victim(dir);
  const m = await openFileState({ path });
  await m.update('a.null.x', () => newBuild('a', 'null')); // the first write creates the state file
  symlinkSync(target, `${path}.journal`);
  await assert.rejects(m.update('b.null.x', () => newBuild('b', 'null')), (err: unknown) => {
    assert.ok(err instanceof StateWriteError || err instanceof StateAccessError, String(err));
    assert.match(err.message, /journal .*symbolic link/);
    return true;
  });
  assert.equal(readFileSync(target, 'utf8'), VICTIM);
});

test('a link planted at the state file or the backup is replaced, never written through', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'state.json');
  const target = victim(dir);
  symlinkSync(target, `${path}.backup`);
  const m = await openFileState({ path });
  await m.update('a.null.x', () => newBuild('a', 'null'));
  await m.compact();
  await m.update('b.null.x', () => newBuild('b', 'null'));
  await m.compact();
  assert.equal(readFileSync(target, 'utf8'), VICTIM);
});

test('lock temp files have unpredictable names: a link planted at the old name is not followed', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'state.json');
  const target = victim(dir);
  const locks = new FileLocks(nodeFileSystem, path, () => undefined);
  mkdirSync(locks.locksDir, { mode: 0o700 });
  const file = locks.buildLockFile('web.null.a');
  symlinkSync(target, `${file}.${process.pid}.tmp`);
  symlinkSync(target, `${path}.lock.${process.pid}.tmp`);
  const m = await openFileState({ path, lockTimeoutMs: 0 });
  assert.ok(await m.lockBuild('web.null.a', 'build'));
  await m.update('web.null.a', () => newBuild('web', 'null'));
  assert.equal(readFileSync(target, 'utf8'), VICTIM);
  assert.match(readFileSync(file, 'utf8'), /"scope":"build"/);
});

test('a link at a lock path is reported, not followed', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'state.json');
  const target = victim(dir);
  symlinkSync(target, `${path}.lock`);
  const m = await openFileState({ path, lockTimeoutMs: 0 });
  await assert.rejects(m.update('a.null.x', () => newBuild('a', 'null')), (err: unknown) => {
    assert.ok(err instanceof StateAccessError || err instanceof StateLockedError, String(err));
    assert.match(err.message, /state\.json\.lock/);
    return true;
  });
  assert.equal(readFileSync(target, 'utf8'), VICTIM);
});

test('a state folder owned by another user is refused with a clear message', async (t) => {
  if (!isRoot) return t.skip('needs root to give a folder to another user (nobody)');
  const dir = join(tempDir(t), 'shared');
  mkdirSync(dir, { mode: 0o755 });
  chownSync(dir, 65534, 65534);
  const m = await openFileState({ path: join(dir, 'state.json'), lockTimeoutMs: 0 });
  await assert.rejects(m.update('a.null.x', () => newBuild('a', 'null')), (err: unknown) => {
    assert.ok(err instanceof StateFolderUnsafeError, String(err));
    assert.match(err.message, /refusing to use the state folder .*shared: it belongs to another user \(uid 65534/);
    return true;
  });
  assert.deepEqual(readdirSync(dir), [], 'nothing written');
});

test('the attack as another user: nobody plants a link in a folder it owns; root refuses the folder', async (t) => {
  if (!isRoot) return t.skip('needs root and a second user (nobody)');
  const parent = tempDir(t);
  chmodSync(parent, 0o711); // nobody may pass through to its folder
  const dir = join(parent, 'theirs');
  mkdirSync(dir, { mode: 0o755 });
  chownSync(dir, 65534, 65534);
  const target = victim(dirname(dir));
  const planted = spawnSync('runuser', ['-u', 'nobody', '--', 'ln', '-s', target, join(dir, 'state.json.journal')], { encoding: 'utf8' });
  if (planted.status !== 0) return t.skip(`runuser -u nobody failed: ${planted.stderr}`);
  const m = await openFileState({ path: join(dir, 'state.json'), lockTimeoutMs: 0 });
  await assert.rejects(m.update('a.null.x', () => newBuild('a', 'null')), StateFolderUnsafeError);
  assert.equal(readFileSync(target, 'utf8'), VICTIM);
});

test('a state folder anyone may write to is refused, naming the chmod that fixes it', async (t) => {
  const dir = join(tempDir(t), 'open');
  mkdirSync(dir);
  chmodSync(dir, 0o777);
  const m = await openFileState({ path: join(dir, 'state.json'), lockTimeoutMs: 0 });
  await assert.rejects(m.lockBuild('a.null.x', 'build'), (err: unknown) => {
    assert.ok(err instanceof StateFolderUnsafeError, String(err));
    assert.match(err.message, /anyone may write to it \(mode 0777\).*chmod o-w/s);
    return true;
  });
  chmodSync(dir, 0o770); // a group-shared folder is accepted
  assert.ok(await m.lockBuild('a.null.x', 'build'));
});

test('special files at state paths give clear errors, never a hang: FIFO journal, directory lock, /dev/zero state, huge lock', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'state.json');
  const m = await openFileState({ path, lockTimeoutMs: 0 });
  await m.update('a.null.x', () => newBuild('a', 'null'));
  const mkfifo = spawnSync('mkfifo', [`${path}.journal`]);
  assert.equal(mkfifo.status, 0);
  const reader = new FileStateClient({ path });
  await assert.rejects(reader.get(), (err: unknown) => {
    assert.ok(err instanceof StateAccessError, String(err));
    assert.match(err.message, /could not read the journal .*named pipe \(FIFO\), not a regular file \(remove it\)/);
    return true;
  });
  // /dev/zero linked at the state file: refused (a link), not read forever.
  const other = join(dir, 'other.json');
  symlinkSync('/dev/zero', other);
  await assert.rejects(new FileStateClient({ path: other }).get(), /symbolic link/);
  // A directory where the write lock goes.
  const third = join(dir, 'third.json');
  mkdirSync(`${third}.lock`);
  const m3 = await openFileState({ path: third, lockTimeoutMs: 0 });
  await assert.rejects(m3.update('a.null.x', () => newBuild('a', 'null')), /could not read the lock file .*third\.json\.lock: it is a directory/);
  // 200 MB at a build lock's path: not read whole.
  const fourth = join(dir, 'fourth.json');
  const locks = new FileLocks(nodeFileSystem, fourth, () => undefined);
  mkdirSync(locks.locksDir, { mode: 0o700 });
  writeFileSync(locks.buildLockFile('a.null.x'), '');
  spawnSync('truncate', ['-s', '200M', locks.buildLockFile('a.null.x')]);
  const m4 = await openFileState({ path: fourth, lockTimeoutMs: 0 });
  await assert.rejects(m4.lockBuild('a.null.x', 'build'), /far larger than such a file can be/);
});

test('an unreadable write lock with an old (or skewed) mtime is not taken over at once: only after being seen unchanged', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'state.json');
  const warnings: string[] = [];
  const locks = new FileLocks(nodeFileSystem, path, (w) => warnings.push(w));
  writeFileSync(`${path}.lock`, '');
  const old = new Date(Date.now() - 3600_000);
  utimesSync(`${path}.lock`, old, old); // a clock moved, or a holder stalled long ago
  await assert.rejects(locks.lock({ scope: 'write', operation: 'test', timeoutMs: 300 }), StateLockedError);
  assert.ok(existsSync(`${path}.lock`));
  assert.deepEqual(warnings, []);
  // Seen unchanged long enough (this process's own clock), it is damaged: removed.
  const taken = await locks.lock({ scope: 'write', operation: 'test', timeoutMs: 10_000 });
  assert.equal(taken.scope, 'write');
  assert.match(warnings[0] ?? '', /cannot be read/);
});

test('a forged lock with a future mtime is broken by the command the message offers', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'state.json');
  const locks = new FileLocks(nodeFileSystem, path, () => undefined);
  mkdirSync(locks.locksDir, { mode: 0o700 });
  const file = locks.buildLockFile('a.null.x');
  writeFileSync(file, 'garbage');
  const future = new Date(Date.now() + 86400_000 * 365);
  utimesSync(file, future, future);
  const m = await openFileState({ path, lockTimeoutMs: 0 });
  let id = '';
  await assert.rejects(m.lockBuild('a.null.x', 'build'), (err: unknown) => {
    assert.ok(err instanceof StateLockedError);
    const match = /builder state unlock -state=\S+ (unreadable-\d+)$/.exec(err.message);
    assert.ok(match, err.message);
    id = match[1]!;
    return true;
  });
  await m.unlock(id);
  assert.ok(await m.lockBuild('a.null.x', 'build'));
});

test('the write lock appears whole: a writer dying while writing it leaves no lock file', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const dying = { ...nodeFileSystem };
  dying.write = (fd, data, position) => {
    if ((data as Buffer).includes('"scope":"write"')) throw new Error('killed');
    return nodeFileSystem.write(fd, data, position);
  };
  const m = await StateManager.open({ client: new FileStateClient({ path, fs: dying }), lockTimeoutMs: 0 });
  await assert.rejects(m.update('a.null.x', () => newBuild('a', 'null')), /killed/);
  assert.equal(existsSync(`${path}.lock`), false);
});

test('an old break guard of a live breaker (stalled) is respected, not removed by age', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const locks = new FileLocks(nodeFileSystem, path, () => undefined);
  mkdirSync(locks.locksDir, { mode: 0o700 });
  const file = locks.buildLockFile('web.null.a');
  plantLock(file, { pid: 999_999_999, scope: 'build', build: 'web.null.a', path, id: 'dead-holder-id' });
  writeFileSync(`${file}.break`, JSON.stringify({ host: hostname(), pid: process.pid }));
  const old = new Date(Date.now() - 3600_000);
  utimesSync(`${file}.break`, old, old);
  const m = await openFileState({ path, lockTimeoutMs: 0, onWarning: () => undefined });
  await assert.rejects(m.lockBuild('web.null.a', 'build'), StateLockedError);
  assert.equal(existsSync(`${file}.break`), true);
});

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'state-child.js');
const BACKEND = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'file-backend.js')).href;

test('a build lock held in another pid namespace (a container sharing the folder and host name) is never taken over', async (t) => {
  const probe = spawnSync('unshare', ['--pid', '--fork', 'true']);
  if (probe.status !== 0) return t.skip(`unshare --pid --fork is not possible here: ${probe.error?.message ?? String(probe.stderr).trim()}`);
  const dir = tempDir(t);
  const path = join(dir, 'state.json');
  const spec = JSON.stringify({ module: BACKEND, export: 'createFileClient', args: [{ path }] });
  // `; true` keeps sh as pid 1, so the holder is pid 2 in its namespace: here, pid 2 is a kernel
  // thread, alive with another start time — judged by pid and start time alone it looked dead.
  const holder = spawn('unshare', ['--pid', '--fork', 'sh', '-c', 'node "$0" "$1" hold-build web.null.a; true', CHILD, spec], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  t.after(() => {
    try {
      process.kill(-holder.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  const line = JSON.parse(await firstLine(holder)) as { id?: string };
  assert.ok(line.id, 'the holder in its namespace took the lock');
  const info = JSON.parse(readFileSync(new FileLocks(nodeFileSystem, path, () => undefined).buildLockFile('web.null.a'), 'utf8')) as { pid: number; pid_ns: string };
  assert.equal(info.pid, 2);
  const warnings: string[] = [];
  const m = await openFileState({ path, lockTimeoutMs: 0, onWarning: (w) => warnings.push(w) });
  await assert.rejects(m.lockBuild('web.null.a', 'build'), (err: unknown) => {
    assert.ok(err instanceof StateLockedError, String(err));
    assert.match(err.message, /another pid namespace/);
    assert.match(err.message, new RegExp(`builder state unlock -state=\\S+ ${line.id}`));
    return true;
  });
  assert.deepEqual(warnings, []);
  holder.stdin!.end('release\n');
  const done = await exited(holder);
  assert.equal(done.code, 0, done.stderr);
  assert.ok(await m.lockBuild('web.null.a', 'build'), 'free once released');
  assert.equal(statSync(dir).isDirectory(), true);
});

test('a read-only or full state folder: taking a lock fails with one clear error naming the file', async (t) => {
  const path = join(tempDir(t), 'state.json');
  for (const code of ['EROFS', 'ENOSPC', 'EACCES']) {
    const failing = { ...nodeFileSystem };
    failing.open = (p, flags, mode) => {
      if (flags === 'wx') throw Object.assign(new Error(`${code}: simulated, open '${p}'`), { code, syscall: 'open' });
      return nodeFileSystem.open(p, flags, mode);
    };
    const m = await StateManager.open({ client: new FileStateClient({ path, fs: failing }), lockTimeoutMs: 0 });
    await assert.rejects(m.lockBuild('a.null.x', 'build'), (err: unknown) => {
      assert.ok(err instanceof StateAccessError, `${code}: ${String(err)}`);
      assert.match(err.message, new RegExp(`could not create the lock file .*state\\.json\\.lock: .*\\(${code}\\)\\. Fix the cause`));
      return true;
    });
  }
});

test('a state too big for a string (a hostile push of huge arrays) is refused with a clear error, not an internal one', () => {
  const huge = Buffer.alloc(MAX_STATE_BYTES + 1, 0x20);
  assert.throws(() => decodeState(huge, { file: 'pushed.json', requireChecksum: false }), (err: unknown) => {
    assert.ok(err instanceof StateCorruptError, String(err));
    assert.match(err.message, /pushed\.json cannot be read: it is 536870889 bytes long; builder reads states of up to 536870888 bytes/);
    return true;
  });
});

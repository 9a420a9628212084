/**
 * ENOSPC and EIO injected at the file-system call: the write fails with a message naming the
 * file and the cause, the previous state is intact and loads, no temporary file is left behind,
 * and the next write succeeds once the fault is gone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { StateWriteError } from '../../src/state/errors.js';
import { FileStateClient } from '../../src/state/file/client.js';
import { nodeFileSystem, type FileSystem } from '../../src/state/file/fs.js';
import { StateManager } from '../../src/state/manager.js';
import { newBuild } from '../../src/state/types.js';
import { completeBuild, tempDir } from './helpers/fixtures.js';

type Call = keyof FileSystem;

/** A file system that throws `code` from `call` on paths matching `target` while `armed`. */
function faulty(call: Call, code: string, target: RegExp): { fs: FileSystem; arm(on: boolean): void; hits(): number } {
  let armed = false;
  let hits = 0;
  const fdPaths = new Map<number, string>();
  const fs: FileSystem = { ...nodeFileSystem };
  fs.open = (path, flags, mode) => {
    const fd = nodeFileSystem.open(path, flags, mode);
    fdPaths.set(fd, path);
    return fd;
  };
  fs.close = (fd) => {
    fdPaths.delete(fd);
    nodeFileSystem.close(fd);
  };
  const original = nodeFileSystem[call] as (...args: unknown[]) => unknown;
  (fs as unknown as Record<string, unknown>)[call] = (...args: unknown[]) => {
    const subject = typeof args[0] === 'number' ? (fdPaths.get(args[0]) ?? '') : String(args[0]);
    if (armed && target.test(subject)) {
      hits++;
      if (call === 'write') {
        // A short write before the failure, as a full disk does.
        const data = args[1] as Buffer;
        nodeFileSystem.write(args[0] as number, data.subarray(0, Math.floor(data.length / 2)), args[2] as number | undefined);
      }
      const err = new Error(`${code}: injected failure, ${call}`) as NodeJS.ErrnoException;
      err.code = code;
      throw err;
    }
    return original(...args);
  };
  return { fs, arm: (on) => void (armed = on), hits: () => hits };
}

const cases: { name: string; call: Call; code: string; target: RegExp; cause: RegExp; whole: boolean }[] = [
  { name: 'ENOSPC writing the state file', call: 'write', code: 'ENOSPC', target: /\.tmp-/, cause: /no space left on device \(ENOSPC\)/, whole: true },
  { name: 'EIO at fdatasync of the state file', call: 'fdatasync', code: 'EIO', target: /\.tmp-/, cause: /input\/output error \(EIO\)/, whole: true },
  { name: 'ENOSPC creating the temporary file', call: 'open', code: 'ENOSPC', target: /\.tmp-/, cause: /\(ENOSPC\)/, whole: true },
  { name: 'EIO at the rename', call: 'rename', code: 'EIO', target: /\.tmp-/, cause: /\(EIO\)/, whole: true },
  { name: 'ENOSPC appending to the journal', call: 'write', code: 'ENOSPC', target: /\.journal$/, cause: /no space left on device \(ENOSPC\)/, whole: false },
  { name: 'EIO at fdatasync of the journal', call: 'fdatasync', code: 'EIO', target: /\.journal$/, cause: /input\/output error \(EIO\)/, whole: false },
];

for (const c of cases) {
  test(`${c.name}: the previous state is intact and the error names the cause`, async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'state.json');
    const inject = faulty(c.call, c.code, c.target);
    const m = await StateManager.open({ client: new FileStateClient({ path, fs: inject.fs }) });
    await m.update('a.null.x', () => completeBuild('a'));
    await m.update('a.null.x', (b) => void (b!.error = 'second'));
    const before = await new FileStateClient({ path }).get();
    inject.arm(true);
    const attempt = c.whole ? m.replace({ ...m.snapshot(), builds: { 'z.null.z': newBuild('z', 'null') } }, { force: true }) : m.update('a.null.x', (b) => void (b!.error = 'third'));
    await assert.rejects(attempt, (err: unknown) => {
      assert.ok(err instanceof StateWriteError, String(err));
      assert.equal(err.code, 'STATE_WRITE_FAILED');
      assert.match(err.message, c.cause);
      assert.ok(err.message.includes(c.whole ? path : `${path}.journal`), err.message);
      assert.match(err.message, /The previous state is intact/);
      return true;
    });
    assert.ok(inject.hits() > 0, 'the fault was injected');
    inject.arm(false);
    const after = await new FileStateClient({ path }).get();
    assert.deepEqual(after, before);
    assert.equal(m.serial, 2, 'the manager forgot the change that was not persisted');
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp-')), []);
    // With the fault gone, writing works again and the serial continues from the intact state.
    await m.update('a.null.x', (b) => void (b!.error = 'fourth'));
    const final = await new FileStateClient({ path }).get();
    assert.equal(final?.serial, 3);
    assert.equal(final?.builds['a.null.x']?.error, 'fourth');
  });
}

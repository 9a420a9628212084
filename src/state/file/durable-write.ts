/**
 * Atomic, durable replacement of a file: the bytes go to a uniquely named temporary file in the
 * same folder (created 0600), which is fsync'd and renamed over the target; then the folder is
 * fsync'd so the rename itself survives a power loss. A reader sees the old file or the new one,
 * never a mix. Optionally the version being replaced is kept as `backup` (by a hard link, so it
 * costs no copy).
 */
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { StateWriteError } from '../errors.js';
import { isErrno, type FileStat, type FileSystem } from './fs.js';

export function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** fsyncs a folder, so that entries created or renamed in it are durable. */
export function syncFolder(fs: FileSystem, dir: string): void {
  const fd = fs.openFolder(dir);
  try {
    fs.fsync(fd);
  } finally {
    fs.close(fd);
  }
}

/**
 * Replaces `path` with `bytes` atomically and durably (one write, one fdatasync of the file, one
 * fsync of the folder). When `backup` is given and `path` exists, the replaced version becomes
 * `backup`. Returns the identity of the new file. Throws StateWriteError naming the cause; on
 * failure `path` is untouched and the temporary file is removed.
 */
export function writeFileDurably(fs: FileSystem, path: string, bytes: Buffer, backup?: string): FileStat {
  const dir = dirname(path);
  const tmp = tempNameFor(path);
  let action = 'create a temporary file next to';
  let fd: number | undefined;
  try {
    try {
      fd = fs.open(tmp, 'wx', 0o600);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      fs.mkdir(dir, 0o700); // the folder is created on the first write only
      fd = fs.open(tmp, 'wx', 0o600);
    }
    action = 'write';
    fs.write(fd, bytes);
    action = 'flush (fdatasync)';
    fs.fdatasync(fd); // data and size: all a new file needs before its rename
    const written = fs.fstat(fd); // a rename keeps inode, size and mtime
    fs.close(fd);
    fd = undefined;
    if (backup) {
      action = 'keep a backup of';
      keepBackup(fs, path, backup);
    }
    action = 'replace';
    fs.rename(tmp, path);
    action = 'flush (fsync) the folder of';
    syncFolder(fs, dir);
    return written;
  } catch (err) {
    if (fd !== undefined) {
      try {
        fs.close(fd);
      } catch {
        // already failing; the write error below is the one to report
      }
    }
    try {
      fs.unlink(tmp);
    } catch {
      // the temporary file may not exist (or was already renamed)
    }
    throw new StateWriteError(path, action, err);
  }
}

/** Makes `backup` a second name of the current `path` (or a copy where hard links are refused). */
function keepBackup(fs: FileSystem, path: string, backup: string): void {
  const tmp = tempNameFor(backup);
  try {
    try {
      fs.link(path, tmp);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return; // nothing to back up yet
      if (!isErrno(err, 'EPERM') && !isErrno(err, 'ENOTSUP') && !isErrno(err, 'EXDEV')) throw err;
      const fd = fs.open(tmp, 'wx', 0o600);
      try {
        fs.write(fd, fs.readFile(path));
        fs.fsync(fd);
      } finally {
        fs.close(fd);
      }
    }
    fs.rename(tmp, backup);
  } catch (err) {
    try {
      fs.unlink(tmp);
    } catch {
      // it was never created
    }
    throw err;
  }
}

/**
 * The file-system calls the local file backend makes, behind one small interface so that tests
 * can inject failures (ENOSPC, EIO) at the exact call. The calls are synchronous: a state write is
 * a handful of system calls that take microseconds to milliseconds, and the synchronous calls are
 * several times cheaper than their promise versions (which hop through the thread pool).
 */
import * as nodeFs from 'node:fs';

export interface FileStat {
  ino: number;
  size: number;
  mtimeMs: number;
}

export interface FileSystem {
  /** `flags` as for fs.openSync ("r", "wx", "a", …). */
  open(path: string, flags: string, mode?: number): number;
  /** Writes every byte of `data` (at `position`, or at the file position). */
  write(fd: number, data: Buffer, position?: number): void;
  /** Reads up to `length` bytes at `position`; returns how many were read. */
  read(fd: number, buffer: Buffer, offset: number, length: number, position: number): number;
  fsync(fd: number): void;
  fdatasync(fd: number): void;
  ftruncate(fd: number, length: number): void;
  fstat(fd: number): FileStat;
  close(fd: number): void;
  /** Throws ENOENT when the file does not exist. */
  stat(path: string): FileStat;
  readFile(path: string): Buffer;
  rename(from: string, to: string): void;
  link(existing: string, newPath: string): void;
  unlink(path: string): void;
  mkdir(path: string, mode: number): void;
  readdir(path: string): string[];
}

export const nodeFileSystem: FileSystem = {
  open: (path, flags, mode) => nodeFs.openSync(path, flags, mode),
  write(fd, data, position) {
    let done = 0;
    while (done < data.length) {
      done += nodeFs.writeSync(fd, data, done, data.length - done, position === undefined ? null : position + done);
    }
  },
  read: (fd, buffer, offset, length, position) => nodeFs.readSync(fd, buffer, offset, length, position),
  fsync: (fd) => nodeFs.fsyncSync(fd),
  fdatasync: (fd) => nodeFs.fdatasyncSync(fd),
  ftruncate: (fd, length) => nodeFs.ftruncateSync(fd, length),
  fstat: (fd) => nodeFs.fstatSync(fd),
  close: (fd) => nodeFs.closeSync(fd),
  stat: (path) => nodeFs.statSync(path),
  readFile: (path) => nodeFs.readFileSync(path),
  rename: (from, to) => nodeFs.renameSync(from, to),
  link: (existing, newPath) => nodeFs.linkSync(existing, newPath),
  unlink: (path) => nodeFs.unlinkSync(path),
  mkdir: (path, mode) => void nodeFs.mkdirSync(path, { recursive: true, mode }),
  readdir: (path) => nodeFs.readdirSync(path),
};

/** True when `err` is a Node system error with this code. */
export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === code;
}

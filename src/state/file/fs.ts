/**
 * The file-system calls the local file backend makes, behind one small interface so that tests
 * can inject failures (ENOSPC, EIO) at the exact call. The calls are synchronous: a state write is
 * a handful of system calls that take microseconds to milliseconds, and the synchronous calls are
 * several times cheaper than their promise versions (which hop through the thread pool).
 *
 * The real implementation never follows a symbolic link at the last component of a path it opens
 * (O_NOFOLLOW), opens without blocking (O_NONBLOCK: a FIFO planted at a state path cannot hang a
 * run) and accepts regular files only (anything else fails with the code ENOTREG): everyone who can
 * write the state folder could otherwise redirect a root build's writes to any file. `stat` does
 * not follow links either (lstat). Only `openFolder` follows a link, for the state folder itself,
 * which is the user's choice.
 */
import * as nodeFs from 'node:fs';

export interface FileStat {
  ino: number;
  size: number;
  mtimeMs: number;
  /** Owner and mode bits (file type included), for the folder check. */
  uid: number;
  mode: number;
}

export interface FileSystem {
  /** `flags` as for fs.openSync: "r", "r+", "w", "wx" (see the module comment: regular files only,
   * no link followed). */
  open(path: string, flags: OpenFlags, mode?: number): number;
  /** Opens a folder for fsync. */
  openFolder(path: string): number;
  /** Writes every byte of `data` (at `position`, or at the file position). */
  write(fd: number, data: Buffer, position?: number): void;
  /** Reads up to `length` bytes at `position`; returns how many were read. */
  read(fd: number, buffer: Buffer, offset: number, length: number, position: number): number;
  fsync(fd: number): void;
  fdatasync(fd: number): void;
  ftruncate(fd: number, length: number): void;
  fstat(fd: number): FileStat;
  close(fd: number): void;
  /** Throws ENOENT when the file does not exist; a link is described, not followed. */
  stat(path: string): FileStat;
  /** stat following links (for the state folder itself only). */
  statFollowing(path: string): FileStat;
  /** The whole file, through `open` (so with its checks); throws EFBIG past `maxBytes`. */
  readFile(path: string, maxBytes?: number): Buffer;
  rename(from: string, to: string): void;
  link(existing: string, newPath: string): void;
  unlink(path: string): void;
  mkdir(path: string, mode: number): void;
  readdir(path: string): string[];
}

export type OpenFlags = 'r' | 'r+' | 'w' | 'wx';

const C = nodeFs.constants;
const FLAGS: Record<OpenFlags, number> = {
  r: C.O_RDONLY,
  'r+': C.O_RDWR,
  w: C.O_WRONLY | C.O_CREAT | C.O_TRUNC,
  wx: C.O_WRONLY | C.O_CREAT | C.O_EXCL,
};

/** An error with a Node-style code, for a file that is not a regular file. */
function notRegular(path: string, what: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${path} is ${what}, not a regular file`);
  err.code = what === 'a directory' ? 'EISDIR' : 'ENOTREG';
  err.path = path;
  return err;
}

function fileKind(mode: number): string {
  switch (mode & C.S_IFMT) {
    case C.S_IFDIR:
      return 'a directory';
    case C.S_IFIFO:
      return 'a named pipe (FIFO)';
    case C.S_IFCHR:
    case C.S_IFBLK:
      return 'a device';
    case C.S_IFSOCK:
      return 'a socket';
    default:
      return 'not a regular file';
  }
}

function openRegular(path: string, flags: OpenFlags, mode?: number): number {
  // O_NONBLOCK: opening a FIFO must not wait for a peer (regular files ignore the flag).
  const fd = nodeFs.openSync(path, FLAGS[flags] | C.O_NOFOLLOW | C.O_NONBLOCK, mode);
  if (flags === 'wx') return fd; // created by this call (O_EXCL): a new regular file
  const st = nodeFs.fstatSync(fd);
  if (!st.isFile()) {
    nodeFs.closeSync(fd);
    throw notRegular(path, fileKind(st.mode));
  }
  return fd;
}

export const nodeFileSystem: FileSystem = {
  open: openRegular,
  openFolder: (path) => nodeFs.openSync(path, C.O_RDONLY | C.O_DIRECTORY),
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
  stat: (path) => nodeFs.lstatSync(path),
  statFollowing: (path) => nodeFs.statSync(path),
  readFile(path, maxBytes = Number.MAX_SAFE_INTEGER) {
    const fd = openRegular(path, 'r');
    try {
      const size = nodeFs.fstatSync(fd).size;
      if (size > maxBytes) {
        const err: NodeJS.ErrnoException = new Error(`${path} is ${size} bytes long, more than the ${maxBytes} expected`);
        err.code = 'EFBIG';
        throw err;
      }
      return nodeFs.readFileSync(fd);
    } finally {
      nodeFs.closeSync(fd);
    }
  },
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

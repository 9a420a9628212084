/**
 * The local file backend: the state in one JSON file (src/state/format.ts), the changes since it
 * was last written in full in `<state>.journal` (src/state/file/journal.ts), the previous full
 * version in `<state>.backup`, and locks as files (src/state/file/lock-files.ts).
 *
 * Reading: the state file, then the journal records that follow it. A reader takes no lock; if a
 * compaction replaced the state file while it read the journal, it reads again, so it never sees
 * an older version after a newer one.
 *
 * Writing (the manager holds the write lock): a change is appended to the journal as one record
 * and fdatasync'd — the checkpoint — at a cost independent of the size of the state. When the
 * journal outgrows `compactBytes` (or on `compact()`, or when a whole state is put), the state is
 * written in full (atomically and durably, keeping the previous version as the backup) and the
 * journal emptied. A crash at any instant leaves the old or the new version: a torn journal
 * record fails its checksum and is ignored (and cut off by the next writer), and the state file is
 * only ever replaced by rename.
 *
 * A state file of an older format version (written by an older builder) is upgraded in memory on
 * read, its journal replayed in that older format first (src/state/file/journal.ts). Nothing is
 * appended to it: the first write writes the whole state in the current format (atomically, the
 * old file kept as the backup) and then empties the old journal. A crash before the rename leaves
 * the old files, read as before; a crash after it leaves old records whose serials are not above
 * the new state file's, which readers skip (or, failing the current format's checks, end the
 * journal at) and the next writer cuts off or appends after.
 *
 * Safety against other users: no file is opened through a symbolic link (src/state/file/fs.ts),
 * and before its first write or lock a client refuses a state folder (or locks folder) that another
 * user owns or anyone may write to (src/state/file/folder-check.ts).
 */
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { holderState } from '../lock-holder.js';
import { decodeState, encodeState } from '../format.js';
import { StateAccessError, StateWriteError } from '../errors.js';
import { checkStateFolder } from './folder-check.js';
import type { LockInfo, LockRequest, PutOptions, StateChange, StateClient } from '../interfaces.js';
import { STATE_FORMAT_VERSION, type StateFile } from '../types.js';
import { syncFolder, writeFileDurably } from './durable-write.js';
import { isErrno, nodeFileSystem, type FileStat, type FileSystem } from './fs.js';
import { applyRecords, encodeRecord, parseJournal, replayOlder, type ParsedJournal } from './journal.js';
import { newSecretKey, readSecretKey, writeSecretKey } from './secret-key.js';
import { FileLocks } from './lock-files.js';

export interface FileStateClientOptions {
  path: string;
  /** File-system calls (tests inject failures here). */
  fs?: FileSystem;
  /** Compact when the journal grows past this many bytes and past a quarter of the state file.
   * Default 1 MiB: a record of a build-level change holds the whole build (about 25 KB for a
   * 100-step build), so a smaller budget made a long build rewrite the state file and its backup
   * every few steps. (A step's start or end is a record of that step only, a few hundred bytes.) */
  compactBytes?: number;
  onWarning?: (message: string) => void;
}

/** What this client knows of the files, for incremental refreshes. */
interface Cursor {
  /** The object last returned or stored; refresh() may only advance this one. */
  state: StateFile;
  base: FileStat;
  /** Journal bytes already applied to `state` (valid records only). */
  journalEnd: number;
  /** True when bytes after journalEnd are a torn record the next append must cut off. */
  torn: boolean;
  /** True when this client created the journal in a non-durable append and its folder (which
   * holds the journal's name) is still to be flushed, by the next durable append. */
  folderUnsynced?: boolean;
  /** True when the state file is of an older format version: nothing may be appended to its
   * journal (the next write is a whole one, in the current format). */
  older?: boolean;
}

const MAX_READ_ATTEMPTS = 20;

export class FileStateClient implements StateClient {
  readonly location: string;
  readonly journalPath: string;
  readonly backupPath: string;
  private readonly fs: FileSystem;
  private readonly compactBytes: number;
  private readonly locksImpl: FileLocks;
  private cursor: Cursor | undefined;
  /** Whether leftovers of dead writers were looked for (once per client). */
  private tidied = false;
  /** Whether the state folder was found safe to write to (once per client). */
  private folderChecked = false;

  constructor(options: FileStateClientOptions) {
    this.location = options.path;
    this.journalPath = `${options.path}.journal`;
    this.backupPath = `${options.path}.backup`;
    this.fs = options.fs ?? nodeFileSystem;
    this.compactBytes = options.compactBytes ?? 1024 * 1024;
    this.locksImpl = new FileLocks(this.fs, options.path, options.onWarning ?? (() => undefined));
  }

  /** The state's key (see secret-key.ts): a new one is written with this client's next write. */
  secretKey(): string {
    return readSecretKey(this.fs, this.location) ?? (this.pendingKey ??= newSecretKey());
  }
  private pendingKey: string | undefined;

  async get(): Promise<StateFile | undefined> {
    return this.readFresh();
  }

  async refresh(known: StateFile): Promise<StateFile | undefined> {
    const c = this.cursor;
    if (!c || c.state !== known || c.older) return this.readFresh();
    let base: FileStat;
    try {
      base = this.fs.stat(this.location);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return this.readFresh();
      throw err;
    }
    if (!sameFile(base, c.base)) return this.readFresh();
    const bytes = this.readJournalBytes(c.journalEnd);
    if (bytes === undefined) return this.readFresh(); // the journal was cut: a compaction happened
    const tail = parseJournal(bytes, c.journalEnd);
    if (tail.records.length > 0 && !applyRecords(known, tail.records)) return this.readFresh();
    c.journalEnd = tail.validEnd;
    c.torn = tail.torn;
    return known;
  }

  async put(state: StateFile, changes?: readonly StateChange[], options: PutOptions = {}): Promise<void> {
    this.checkFolder();
    this.putState(state, changes, options);
    if (this.pendingKey !== undefined) {
      writeSecretKey(this.fs, this.location, this.pendingKey);
      this.pendingKey = undefined;
    }
  }

  private putState(state: StateFile, changes: readonly StateChange[] | undefined, options: PutOptions): void {
    const c = this.cursor;
    if (changes !== undefined && changes.length > 0 && c !== undefined && c.state === state && !c.older && this.baseUnchanged(c)) {
      this.append(c, state, changes, options.durable !== false);
      if (c.journalEnd > this.compactBytes && c.journalEnd > c.base.size / 4) this.writeFull(state);
      return;
    }
    this.writeFull(state);
  }

  async delete(): Promise<void> {
    this.checkFolder();
    for (const f of [this.location, this.journalPath]) {
      try {
        this.fs.unlink(f);
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw new StateWriteError(f, 'remove', err);
      }
    }
    this.cursor = undefined;
  }

  /** `onlyWhenWorthIt` (a manager closing): not while the journal is under 1/64 of the state file
   * — rewriting a 117 MB state for a few records cost a one-build `build` most of its time. */
  async compact(onlyWhenWorthIt = false): Promise<void> {
    const state = this.cursor ? await this.refresh(this.cursor.state) : await this.readFresh();
    const c = this.cursor;
    if (!state || !c || (c.journalEnd === 0 && !c.older)) return;
    if (onlyWhenWorthIt && c.journalEnd * 64 < c.base.size) return;
    this.writeFull(state);
  }

  async backup(): Promise<StateFile | undefined> {
    let bytes: Buffer;
    try {
      bytes = this.fs.readFile(this.backupPath);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw new StateAccessError(this.backupPath, 'read the backup', err);
    }
    return decodeState(bytes, { file: this.backupPath, requireChecksum: true });
  }

  async saveCopy(label: string): Promise<string | undefined> {
    const state = await this.readFresh();
    if (!state) return undefined;
    this.checkFolder();
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const path = `${this.location}.${stamp}.${label}.backup`;
    writeFileDurably(this.fs, path, encodeState(state));
    return path;
  }

  async lock(request: LockRequest): Promise<LockInfo> {
    this.checkFolder();
    return this.locksImpl.lock(request);
  }

  async unlock(id: string): Promise<LockInfo> {
    this.checkFolder();
    return this.locksImpl.unlock(id);
  }

  /** Refuses an unsafe state folder (see the module comment) before the first write or lock. */
  private checkFolder(): void {
    if (this.folderChecked) return;
    for (const folder of [dirname(this.location), this.locksImpl.locksDir]) {
      try {
        checkStateFolder(this.fs, folder);
      } catch (err) {
        if (err instanceof StateAccessError || !isSystemError(err)) throw err;
        throw new StateAccessError(folder, 'check the folder', err);
      }
    }
    this.folderChecked = true;
  }

  async locks(): Promise<LockInfo[]> {
    return this.locksImpl.list();
  }

  // ---- reading ---------------------------------------------------------------------------------

  /** The state file plus its journal, as fresh objects; retried if a compaction raced the read. */
  private readFresh(): StateFile | undefined {
    for (let attempt = 0; ; attempt++) {
      let fd: number;
      try {
        fd = this.fs.open(this.location, 'r');
      } catch (err) {
        if (isErrno(err, 'ENOENT')) {
          this.cursor = undefined;
          return undefined;
        }
        throw new StateAccessError(this.location, 'read the state file', err);
      }
      let base: FileStat;
      let bytes: Buffer;
      try {
        base = this.fs.fstat(fd);
        bytes = Buffer.allocUnsafe(base.size);
        let got = 0;
        while (got < base.size) {
          const n = this.fs.read(fd, bytes, got, base.size - got, got);
          if (n === 0) break;
          got += n;
        }
        bytes = bytes.subarray(0, got);
      } finally {
        this.fs.close(fd);
      }
      // The "restore the backup" advice of a damaged state only when there is a backup.
      const backup = this.backupExists() ? this.backupPath : undefined;
      const journalBytes = this.readJournalBytes(0) ?? Buffer.alloc(0);
      // A state file of an older format: its journal is replayed onto it before the upgrade.
      const older: { journal?: ParsedJournal; consistent: boolean } = { consistent: true };
      const beforeUpgrade = (doc: Record<string, unknown>): void => {
        older.journal = parseJournal(journalBytes, 0, doc.version as number);
        older.consistent = replayOlder(doc, older.journal.older);
      };
      const state = decodeState(bytes, { file: this.location, backup, requireChecksum: true, lazyBuilds: true, beforeUpgrade });
      const journal = older.journal ?? parseJournal(journalBytes, 0, STATE_FORMAT_VERSION);
      const consistent = older.consistent && applyRecords(state, journal.records);
      let now: FileStat | undefined;
      try {
        now = this.fs.stat(this.location);
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
      }
      if (consistent && now && sameFile(now, base)) {
        this.cursor = { state, base, journalEnd: journal.validEnd, torn: journal.torn, older: older.journal !== undefined };
        return state;
      }
      if (attempt >= MAX_READ_ATTEMPTS) {
        // The state file keeps changing under us, or the journal does not follow it (a record is
        // missing): the state file alone is a consistent, if older, version.
        const alone = decodeState(bytes, { file: this.location, backup, requireChecksum: true, lazyBuilds: true });
        this.cursor = undefined;
        return alone;
      }
    }
  }

  private backupExists(): boolean {
    try {
      this.fs.stat(this.backupPath);
      return true;
    } catch {
      return false;
    }
  }

  /** The journal's bytes from `offset`; undefined when the journal is shorter than that. */
  private readJournalBytes(offset: number): Buffer | undefined {
    let fd: number;
    try {
      fd = this.fs.open(this.journalPath, 'r');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return offset === 0 ? Buffer.alloc(0) : undefined;
      throw new StateAccessError(this.journalPath, 'read the journal', err);
    }
    try {
      const size = this.fs.fstat(fd).size;
      if (size < offset) return undefined;
      const bytes = Buffer.allocUnsafe(size - offset);
      let got = 0;
      while (got < bytes.length) {
        const n = this.fs.read(fd, bytes, got, bytes.length - got, offset + got);
        if (n === 0) break;
        got += n;
      }
      return bytes.subarray(0, got);
    } finally {
      this.fs.close(fd);
    }
  }

  private baseUnchanged(c: Cursor): boolean {
    try {
      return sameFile(this.fs.stat(this.location), c.base);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false;
      throw err;
    }
  }

  // ---- writing ---------------------------------------------------------------------------------

  /**
   * Appends one record per change (already applied to `state`; the last is of `state.serial`) in
   * one write and, when `durable`, makes them durable with one fdatasync. Records written without
   * it are in the page cache, which outlives this process; the next fdatasync of the journal
   * flushes them with its own.
   */
  private append(c: Cursor, state: StateFile, changes: readonly StateChange[], durable: boolean): void {
    const first = state.serial - changes.length + 1;
    const record = Buffer.concat(changes.map((change, i) => encodeRecord({ lineage: state.lineage, serial: first + i, change })));
    let created = false;
    let fd: number;
    try {
      try {
        fd = this.fs.open(this.journalPath, 'r+');
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
        fd = this.fs.open(this.journalPath, 'wx', 0o600);
        created = true;
      }
    } catch (err) {
      throw new StateWriteError(this.journalPath, 'open the journal of', err);
    }
    let action = 'append to';
    try {
      if (c.torn) {
        action = 'cut a torn record from';
        this.fs.ftruncate(fd, c.journalEnd);
      }
      action = 'append to';
      this.fs.write(fd, record, c.journalEnd);
      action = 'flush (fdatasync)';
      if (durable) this.fs.fdatasync(fd);
    } catch (err) {
      // Take the records back so the previous state stays the persisted one. If even that fails,
      // the next writer cuts them off (a partial record also fails its checksum).
      try {
        this.fs.ftruncate(fd, c.journalEnd);
      } catch {
        c.torn = true;
      }
      this.fs.close(fd);
      throw new StateWriteError(this.journalPath, action, err);
    }
    this.fs.close(fd);
    if (created) c.folderUnsynced = true;
    if (durable && c.folderUnsynced) {
      try {
        syncFolder(this.fs, dirname(this.journalPath));
      } catch (err) {
        throw new StateWriteError(this.journalPath, 'flush (fsync) the folder of', err);
      }
      c.folderUnsynced = false;
    }
    c.journalEnd += record.length;
    c.torn = false;
  }

  /** Writes the whole state as the new state file (keeping the backup) and empties the journal. */
  private writeFull(state: StateFile): void {
    if (!this.tidied) {
      removeLeftoverTemps(this.fs, this.location);
      this.tidied = true;
    }
    const base = writeFileDurably(this.fs, this.location, encodeState(state), this.backupPath);
    const c = this.cursor;
    // The caller holds the write lock and this client knows the journal holds nothing: done.
    if (c !== undefined && c.state === state && c.journalEnd === 0 && !c.torn) {
      this.cursor = { state, base, journalEnd: 0, torn: false };
      return;
    }
    // The truncation is not flushed: should a power failure undo it, the records that come back
    // have serials up to the new state file's own, which readers skip; the next durable append
    // flushes the journal's new length with its record.
    try {
      const fd = this.fs.open(this.journalPath, 'r+');
      try {
        this.fs.ftruncate(fd, 0);
      } finally {
        this.fs.close(fd);
      }
    } catch (err) {
      // A journal left behind holds only records the new state file already includes (their serials
      // are not above its own), so readers skip them: the write itself succeeded.
      if (!isErrno(err, 'ENOENT')) {
        this.cursor = undefined;
        return;
      }
    }
    this.cursor = { state, base, journalEnd: 0, torn: false };
  }
}

/** A temporary file left by a writer that died mid-write is removed once it is a minute old. */
const LEFTOVER_AGE_MS = 60_000;

/** Removes temporary files of whole writes whose writer (a process on this host) is gone. */
function removeLeftoverTemps(fs: FileSystem, path: string): void {
  const dir = dirname(path);
  const prefixes = [`.${basename(path)}.tmp-`, `.${basename(path)}.backup.tmp-`];
  let names: string[];
  try {
    names = fs.readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const prefix = prefixes.find((p) => name.startsWith(p));
    if (!prefix) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    const file = join(dir, name);
    try {
      if (!Number.isInteger(pid) || Date.now() - fs.stat(file).mtimeMs < LEFTOVER_AGE_MS) continue;
      if (holderState({ host: hostname(), pid }) !== 'dead') continue;
      fs.unlink(file);
    } catch {
      // gone already, or not ours to remove
    }
  }
}

function isSystemError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' && 'syscall' in err;
}

function sameFile(a: FileStat, b: FileStat): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

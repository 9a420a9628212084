/**
 * Locks of the local file backend, as files created exclusively (O_EXCL) next to the state:
 *
 * - `<state>.lock` — the write lock: held for one read-modify-write of the state (microseconds to
 *   milliseconds). Everyone waits for it; it only fails after a long wait on a holder that is alive
 *   but stuck (a stopped process), naming that holder.
 * - `<state>.locks/build-<hash of key>.lock` — one per build being worked on, held for a whole run.
 * - `<state>.locks/state.lock` — the whole state (push, restore): excludes every build lock.
 * - `<state>.locks/state.intent` — a process waiting for the state lock, until a time it records:
 *   no new build lock is granted while it stands (writer preference, so that a push or restore is
 *   not starved by overlapping builds); it lapses at that time, or when its process is gone.
 *
 * Build and state locks are checked and created while holding the write lock, so "no state lock
 * exists, so create my build lock" (and the reverse) cannot race. Each file holds the LockInfo
 * JSON (id, operation, who, pid, created, path, version).
 *
 * A lock whose holder is a dead process on this host (same boot, same pid namespace: see
 * src/state/lock-holder.ts) is taken over with a warning; a lock from another host, boot or pid
 * namespace is never broken automatically (the error names `builder state unlock ID`). Breaking a lock happens under a guard file
 * (`<lock>.break`, created exclusively), which is re-checked so that two processes finding the same
 * abandoned lock cannot remove a fresh lock one of them just took. A guard is held for
 * microseconds; one older than GUARD_STALE_MS was left by a crash and is removed.
 *
 * Every lock file and break guard appears whole: it is written to a temporary file of a random
 * name (`<name>.<pid>-<random>.tmp`, created exclusively, so no planted link is followed) and
 * hard-linked to its name, so a live holder's lock always names it. (The write lock used to be
 * created in place and then written: a holder stalled between the two for UNREADABLE_STALE_MS —
 * or a clock moved by as much — had its lock judged abandoned and removed, and two writers
 * appended at one journal offset.) A lock file that cannot be read is therefore damaged or forged,
 * never a live holder's; it is removed once this process has seen it unchanged for
 * UNREADABLE_STALE_MS (measured on this process's monotonic clock, so a wrong or future mtime
 * changes nothing), and `builder state unlock unreadable-<inode>` removes it at once.
 * A temporary file left by a process that died between writing and linking it is removed, once
 * a minute old, by the next process that takes a build or state lock on this host.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { LockNotFoundError, StateAccessError, StateLockedError } from '../errors.js';
import type { LockInfo, LockRequest } from '../interfaces.js';
import { holderState, newLockInfo, ownIdentity, type HolderIdentity } from '../lock-holder.js';
import { isErrno, type FileSystem, type FileStat, type OpenFlags } from './fs.js';

/** A lock file seen unreadable and unchanged this long is damaged or forged (never a live holder's). */
const UNREADABLE_STALE_MS = 2000;
/** A break guard of a breaker whose process cannot be checked (another namespace) is removed after this. */
const GUARD_STALE_MS = 5000;
/** A temporary file of createWhole this old was left by a process that died (one lives microseconds). */
const TEMP_STALE_MS = 60_000;
/** A lock file is a few hundred bytes: a bigger one is not a lock file. */
const MAX_LOCK_BYTES = 64 * 1024;
/** How often a process waiting for the write lock looks at who holds it. */
const INSPECT_EVERY_MS = 250;

interface Holder {
  file: string;
  info: LockInfo | undefined;
  stat: FileStat;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class FileLocks {
  readonly writeLockFile: string;
  readonly locksDir: string;
  /**
   * The locks this object took, by id: the file, the record and the file's identity when created,
   * so that releasing one is a stat and an unlink (no read, no search).
   */
  private readonly own = new Map<string, { file: string; info: LockInfo; stat: FileStat }>();
  /** The id of the intent to take the state lock this object recorded (see recordIntent). */
  private intentId: string | undefined;
  /** Whether temporary files left by dead processes were looked for (once per object). */
  private tidied = false;
  /** Unreadable lock files seen, by file and identity: when first seen (monotonicMs()). */
  private readonly unreadableSeen = new Map<string, number>();

  constructor(
    private readonly fs: FileSystem,
    private readonly statePath: string,
    private readonly onWarning: (message: string) => void,
  ) {
    this.writeLockFile = `${statePath}.lock`;
    this.locksDir = `${statePath}.locks`;
  }

  buildLockFile(build: string): string {
    return join(this.locksDir, `build-${createHash('sha256').update(build).digest('hex').slice(0, 24)}.lock`);
  }

  get stateLockFile(): string {
    return join(this.locksDir, 'state.lock');
  }

  async lock(request: LockRequest): Promise<LockInfo> {
    if (request.scope === 'write') return this.lockWrite(request.operation, request.timeoutMs);
    const info = newLockInfo(request.scope, request.operation, this.statePath, request.build);
    const file = request.scope === 'build' ? this.buildLockFile(request.build ?? '') : this.stateLockFile;
    const started = Date.now();
    let delay = 10;
    for (;;) {
      const write = await this.lockWrite(`take a lock for ${request.operation}`, Math.max(request.timeoutMs, 60_000));
      let conflicts: LockInfo[];
      try {
        conflicts = request.scope === 'build' ? this.buildConflicts(this.holdsBuildLock()) : this.stateConflicts();
        if (conflicts.length === 0) {
          this.removeLeftoverTemps();
          let holder = this.tryCreate(file, info);
          if (holder && this.takeOverIfAbandoned(holder)) holder = this.tryCreate(file, info);
          if (!holder) {
            if (request.scope === 'state') this.dropIntent();
            return info;
          }
          conflicts.push(holder.info ?? unreadableHolder(holder, this.statePath));
        }
        if (request.scope === 'state') this.recordIntent(info, request.waitUntil);
      } finally {
        this.releaseOwn(write.id);
      }
      const waited = Date.now() - started;
      if (waited >= request.timeoutMs) throw new StateLockedError(this.statePath, conflicts, request.timeoutMs > 0 ? waited : 0);
      await sleep(Math.min(delay * (0.75 + Math.random() / 2), request.timeoutMs - waited));
      delay = Math.min(delay * 1.6, 1000);
    }
  }

  /** Breaks (or releases) the lock with this id, wherever it is. */
  async unlock(id: string): Promise<LockInfo> {
    if (this.own.has(id)) {
      const info = this.releaseOwn(id);
      if (info) return info;
    }
    for (const holder of this.holders()) {
      if ((holder.info?.id ?? unreadableId(holder)) === id) {
        if (this.breakLock(holder)) return holder.info ?? unreadableHolder(holder, this.statePath);
      }
    }
    throw new LockNotFoundError(this.statePath, id, this.list());
  }

  /** Every lock file that currently exists (unreadable ones shown with what is known). */
  list(): LockInfo[] {
    return this.holders().map((h) => h.info ?? unreadableHolder(h, this.statePath));
  }

  private async lockWrite(operation: string, timeoutMs: number): Promise<LockInfo> {
    const info = newLockInfo('write', operation, this.statePath);
    let current: Holder | 'held' | undefined = this.tryCreate(this.writeLockFile, info, true);
    if (!current) return info;
    const started = Date.now();
    let inspected = started;
    let delay = 1;
    for (;;) {
      // Look at the holder (is it dead? who is it?) now and then only: the write lock is usually
      // free again within a millisecond, and reading it on every try slows down its holder.
      if (current === 'held' || !this.takeOverIfAbandoned(current)) {
        const waited = Date.now() - started;
        if (waited >= timeoutMs) {
          const holder = current === 'held' ? this.readHolder(this.writeLockFile) : current;
          if (holder) throw new StateLockedError(this.statePath, [holder.info ?? unreadableHolder(holder, this.statePath)], waited);
        }
        await sleep(Math.min(delay * (0.5 + Math.random()), Math.max(1, timeoutMs - waited)));
        delay = Math.min(delay * 1.5, 10);
      }
      const inspect = Date.now() - inspected >= INSPECT_EVERY_MS;
      if (inspect) inspected = Date.now();
      current = this.tryCreate(this.writeLockFile, info, inspect);
      if (!current) return info;
    }
  }

  /**
   * Creates `file` holding `info`, appearing whole (see the module comment); returns undefined when
   * created, else the current holder — or just 'held' when `inspect` is false.
   */
  private tryCreate(file: string, info: LockInfo, inspect: false): Holder | 'held' | undefined;
  private tryCreate(file: string, info: LockInfo, inspect?: true): Holder | undefined;
  private tryCreate(file: string, info: LockInfo, inspect: boolean): Holder | 'held' | undefined;
  private tryCreate(file: string, info: LockInfo, inspect = true): Holder | 'held' | undefined {
    for (;;) {
      try {
        this.own.set(info.id, { file, info, stat: this.createWhole(file, Buffer.from(JSON.stringify(info))) });
        return undefined;
      } catch (err) {
        if (!isErrno(err, 'EEXIST')) throw new StateAccessError(file, 'create the lock file', err);
      }
      if (!inspect) return 'held';
      const holder = this.readHolder(file);
      if (holder) return holder;
    }
  }

  /**
   * Writes `bytes` to a temporary file beside `file` and hard-links it to `file`: throws EEXIST,
   * leaving nothing behind, when `file` exists. Returns the identity of the new file.
   */
  private createWhole(file: string, bytes: Buffer): FileStat {
    const temp = `${file}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
    const fd = this.openCreatingFolder(temp, 'wx');
    try {
      let stat: FileStat;
      try {
        this.fs.write(fd, bytes);
        stat = this.fs.fstat(fd);
      } finally {
        this.fs.close(fd);
      }
      this.fs.link(temp, file);
      return stat;
    } finally {
      try {
        this.fs.unlink(temp);
      } catch {
        // already gone
      }
    }
  }

  /** Opens `path` (mode 0600), creating its folder first when it does not exist yet (a new state's
   * folder, or the locks folder). */
  private openCreatingFolder(path: string, flags: OpenFlags): number {
    try {
      return this.fs.open(path, flags, 0o600);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      this.fs.mkdir(dirname(path), 0o700);
      return this.fs.open(path, flags, 0o600);
    }
  }

  /**
   * Removes the temporary files of createWhole left by dead processes of this host: in the locks
   * folder, and the write lock's and its break guard's beside the state.
   */
  private removeLeftoverTemps(): void {
    if (this.tidied) return;
    this.tidied = true;
    const writeLockTemp = `${basename(this.writeLockFile)}.`; // the write lock's and its break guard's
    for (const dir of [this.locksDir, dirname(this.statePath)]) {
      let names: string[];
      try {
        names = this.fs.readdir(dir);
      } catch {
        continue;
      }
      for (const name of names) {
        const m = /\.(\d+)(?:-[0-9a-f]+)?\.tmp$/.exec(name);
        if (!m || Number(m[1]) === process.pid || (dir !== this.locksDir && !name.startsWith(writeLockTemp))) continue;
        try {
          // Old enough, by its own age, and its pid dead here: a pid alone might be of another
          // namespace, but no live process keeps such a file for a minute.
          if (Date.now() - this.fs.stat(join(dir, name)).mtimeMs < TEMP_STALE_MS) continue;
          if (holderState({ host: hostname(), pid: Number(m[1]) }) !== 'dead') continue;
          this.fs.unlink(join(dir, name));
        } catch {
          // removed by another process meanwhile
        }
      }
    }
  }

  /** The holder recorded in `file`, or undefined when the file is gone. */
  private readHolder(file: string): Holder | undefined {
    let bytes: Buffer;
    let stat: FileStat;
    try {
      stat = this.fs.stat(file);
      bytes = this.fs.readFile(file, MAX_LOCK_BYTES);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw new StateAccessError(file, 'read the lock file', err);
    }
    let info: LockInfo | undefined;
    try {
      const parsed = JSON.parse(bytes.toString('utf8')) as LockInfo;
      if (typeof parsed === 'object' && parsed !== null && typeof parsed.id === 'string' && typeof parsed.pid === 'number') info = parsed;
    } catch {
      info = undefined;
    }
    return { file, info, stat };
  }

  private holders(): Holder[] {
    const files = [this.writeLockFile];
    try {
      for (const name of this.fs.readdir(this.locksDir)) if (name.endsWith('.lock')) files.push(join(this.locksDir, name));
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
    return files.map((f) => this.readHolder(f)).filter((h): h is Holder => h !== undefined);
  }

  /** Live holders that forbid a build lock: a state lock, or the intent of a process waiting for
   * it (see recordIntent). (Build/build conflicts are the O_EXCL create.) */
  private buildConflicts(ignoreIntent: boolean): LockInfo[] {
    const holder = this.readHolder(this.stateLockFile);
    if (holder && !this.takeOverIfAbandoned(holder)) return [holder.info ?? unreadableHolder(holder, this.statePath)];
    if (ignoreIntent) return [];
    const intent = this.readHolder(this.intentFile);
    if (!intent) return [];
    const until = (intent.info as { wait_until?: unknown } | undefined)?.wait_until;
    const state = intent.info ? holderState(intent.info) : 'dead';
    if (state === 'alive' && typeof until === 'number' && Date.now() < until) return [intent.info!];
    // Lapsed, or left by a process that is gone (or cannot be seen: an intent only ever delays
    // builds, so one that cannot be judged is not obeyed).
    if (state === 'dead' || (typeof until === 'number' && Date.now() >= until)) this.breakLock(intent);
    return [];
  }

  /**
   * True when this object holds a build lock: a run that holds some of its builds' locks takes the
   * rest despite an intent (it would otherwise wait for the waiter, which waits for it).
   */
  private holdsBuildLock(): boolean {
    for (const o of this.own.values()) if (o.info.scope === 'build') return true;
    return false;
  }

  /** The intent file: a process waiting for the state lock (push, restore) until `wait_until`. */
  get intentFile(): string {
    return join(this.locksDir, 'state.intent');
  }

  /**
   * Records that this process waits for the state lock until `waitUntil` (writer preference): while
   * the intent stands, no new build lock is granted, so the running builds' locks drain and the
   * state lock is granted in bounded time even while overlapping builds keep starting. Called
   * under the write lock; one intent at a time (a second waiter relies on the first one's).
   */
  private recordIntent(info: LockInfo, waitUntil: number | undefined): void {
    if (waitUntil === undefined || Date.now() >= waitUntil || (this.intentId && this.own.has(this.intentId))) return;
    const intent = { ...info, id: `${info.id}-intent`, operation: `waiting to ${info.operation}`, wait_until: waitUntil };
    const current = this.readHolder(this.intentFile);
    if (current) {
      const until = (current.info as { wait_until?: unknown } | undefined)?.wait_until;
      const lapsed = !current.info || holderState(current.info) === 'dead' || typeof until !== 'number' || Date.now() >= until;
      if (!lapsed || !this.breakLock(current)) return;
    }
    if (this.tryCreate(this.intentFile, intent, false) === undefined) this.intentId = intent.id;
  }

  /** Removes the intent this object recorded, if any (it got the state lock). */
  private dropIntent(): void {
    if (this.intentId) this.releaseOwn(this.intentId);
    this.intentId = undefined;
  }

  /** Live holders that forbid a state lock: any build or state lock. */
  private stateConflicts(): LockInfo[] {
    return this.holders()
      .filter((h) => h.file !== this.writeLockFile && !this.takeOverIfAbandoned(h))
      .map((h) => h.info ?? unreadableHolder(h, this.statePath));
  }

  /** Removes the lock when its holder is dead (warning the user); true when it was removed. */
  private takeOverIfAbandoned(holder: Holder): boolean {
    if (holder.info) {
      if (holderState(holder.info) !== 'dead') return false;
    } else if (!this.seenUnreadableLongEnough(holder)) {
      return false;
    }
    if (!this.breakLock(holder)) return false;
    const i = holder.info;
    this.onWarning(
      i
        ? `the ${i.scope} lock ${i.id} on ${i.build ? `build "${i.build}" of ` : ''}the state ${this.statePath}, taken by ` +
            `${i.who} (pid ${i.pid}) for "${i.operation}" at ${i.created}, was abandoned: that process no longer exists. ` +
            'Taking it over.'
        : `the lock file ${holder.file} cannot be read (damaged, or not written by builder) and did not change for ` +
            `${UNREADABLE_STALE_MS / 1000}s. Removing it.`,
    );
    return true;
  }

  /** True once this process has seen the same unreadable `holder` for UNREADABLE_STALE_MS. */
  private seenUnreadableLongEnough(holder: Holder): boolean {
    const key = `${holder.file}\0${holder.stat.ino}\0${holder.stat.size}\0${holder.stat.mtimeMs}`;
    const now = monotonicMs();
    const first = this.unreadableSeen.get(key);
    if (first === undefined) {
      this.unreadableSeen.set(key, now);
      return false;
    }
    return now - first >= UNREADABLE_STALE_MS;
  }

  /**
   * Removes `holder.file` if it still holds the same lock, under the break guard. The guard holds
   * the breaker's identity, so a guard left by a breaker that died (killed mid-break) is removed at
   * once, and the break is tried again, rather than blocking every takeover for GUARD_STALE_MS.
   */
  private breakLock(holder: Holder): boolean {
    const guard = `${holder.file}.break`;
    const identity = Buffer.from(JSON.stringify(ownIdentity()));
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        this.createWhole(guard, identity);
      } catch (err) {
        if (!isErrno(err, 'EEXIST')) throw err;
        if (!this.removeAbandonedGuard(guard)) return false;
        continue;
      }
      try {
        const now = this.readHolder(holder.file);
        if (!now) return true;
        const same = holder.info
          ? now.info?.id === holder.info.id
          : now.info === undefined && now.stat.ino === holder.stat.ino && now.stat.mtimeMs === holder.stat.mtimeMs;
        if (!same) return false;
        this.fs.unlink(holder.file);
        return true;
      } finally {
        this.fs.unlink(guard);
      }
    }
    return false;
  }

  /** Removes a break guard whose breaker died, or that is older than any break takes; true when
   * it is gone (removed here or by another process). */
  private removeAbandonedGuard(guard: string): boolean {
    try {
      const stat = this.fs.stat(guard);
      const age = Date.now() - stat.mtimeMs;
      let breaker: HolderIdentity | undefined;
      try {
        breaker = JSON.parse(this.fs.readFile(guard, MAX_LOCK_BYTES).toString('utf8')) as HolderIdentity;
      } catch {
        breaker = undefined; // not written by createWhole: left by an older version of builder
      }
      // A breaker this process can see is waited for as long as it lives (however slow): removing
      // the guard of a live, stalled breaker let it later remove a lock taken after its check.
      // One that cannot be seen (another namespace or host) or an unreadable guard goes by age.
      const state = breaker && typeof breaker === 'object' && typeof breaker.pid === 'number' ? holderState(breaker) : undefined;
      const abandoned = state === 'dead' || ((state === undefined || state === 'unknown' || state === 'other-host') && age > GUARD_STALE_MS);
      if (!abandoned) return false;
      this.fs.unlink(guard);
      return true;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return true; // another process removed it first
      throw err;
    }
  }

  /** Releases a lock this object took. Returns its info, or undefined when someone broke it. */
  private releaseOwn(id: string): LockInfo | undefined {
    const own = this.own.get(id);
    if (own === undefined) return undefined;
    this.own.delete(id);
    let now: FileStat;
    try {
      now = this.fs.stat(own.file);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
    // Same inode, size and modification time: still the file this object wrote.
    if (now.ino !== own.stat.ino || now.size !== own.stat.size || now.mtimeMs !== own.stat.mtimeMs) return undefined;
    this.fs.unlink(own.file);
    return own.info;
  }

}

/** A monotonic clock in milliseconds (process.hrtime: `performance` would load perf_hooks at start-up). */
function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1_000_000n);
}

/** The id `state unlock` accepts for an unreadable lock file. */
function unreadableId(holder: Holder): string {
  return `unreadable-${holder.stat.ino}`;
}

function unreadableHolder(holder: Holder, statePath: string): LockInfo {
  return {
    id: unreadableId(holder),
    scope: 'write',
    operation: `unknown (the lock file ${holder.file} is empty or damaged)`,
    who: 'unknown',
    host: '',
    pid: 0,
    created: new Date(holder.stat.mtimeMs).toISOString(),
    path: statePath,
    version: 'unknown',
  };
}

/**
 * The state engine's user errors. Each says what happened, where, and what to do next; their
 * `code`s never change once released. None of them is a bug, so the CLI prints them without a
 * stack trace.
 */
import { UserError, type ErrorCode } from '../errors.js';
import { hostname } from 'node:os';
import type { LockInfo } from './interfaces.js';
import { holderState } from './lock-holder.js';

/** Quotes a value for a POSIX shell so that the command we print can be pasted as is. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The exact command that breaks a lock. */
export function unlockCommand(lock: Pick<LockInfo, 'id' | 'path'>): string {
  return `builder state unlock -state=${shellQuote(lock.path)} ${lock.id}`;
}

export function describeLock(lock: LockInfo): string {
  const what = lock.scope === 'build' ? `build "${lock.build ?? ''}"` : lock.scope === 'state' ? 'the whole state' : 'a state write';
  return (
    `  ID:        ${lock.id}\n` +
    `  Locks:     ${what}\n` +
    `  Operation: ${lock.operation}\n` +
    `  Who:       ${lock.who} (pid ${lock.pid})\n` +
    `  Created:   ${lock.created}\n` +
    `  Version:   builder ${lock.version}\n` +
    `  Path:      ${lock.path}`
  );
}

const WHY_LOCKING =
  'builder locks the state so that two runs never work on the same build at once or overwrite each ' +
  "other's changes.";

/** Another process holds a lock this operation needs. */
export class StateLockedError extends UserError {
  readonly holders: readonly LockInfo[];
  constructor(statePath: string, holders: readonly LockInfo[], waitedMs: number) {
    const first = holders[0];
    const waited = waitedMs > 0 ? ` (waited ${(waitedMs / 1000).toFixed(1)}s)` : '';
    const remote = holders.some((h) => h.host !== hostname());
    const unseen = !remote && holders.some((h) => holderState(h) === 'unknown');
    const headline =
      holders.length === 1 && first
        ? `${first.scope === 'build' ? `build "${first.build ?? ''}" of the state` : 'the state'} ${statePath} is locked by ` +
          `${first.who} (pid ${first.pid}) for "${first.operation}" since ${first.created}${waited}.`
        : `the state ${statePath} is locked by ${holders.length} holders${waited}.`;
    super(
      'STATE_LOCKED',
      `${headline}\n\n` +
        `Lock info:\n${holders.map(describeLock).join('\n\n')}\n\n` +
        `${WHY_LOCKING} Wait for the holder to finish (or pass -lock-timeout=DURATION to wait), ` +
        `or, if you are sure no one is using it${
          remote
            ? ' (it was taken on another host, so builder never breaks it on its own)'
            : unseen
              ? ' (it was taken in another pid namespace — a container sharing this folder — or before a reboot, where ' +
                'builder cannot see whether its process still runs, so it never breaks it on its own)'
              : ''
        }, ` +
        `break it with:\n\n  ${first ? unlockCommand(first) : 'builder state unlock LOCK_ID'}`,
    );
    this.holders = holders;
  }
}

/** The state file (or journal) cannot be trusted: it does not parse, fails its checksum, or is of an unknown version. */
export class StateCorruptError extends UserError {
  readonly file: string;
  readonly fault: string;
  /**
   * `viaCommand` false: the fault was found in one build after the file was opened (see
   * src/state/format.ts, lazy builds), where `builder state restore` would stop at the same fault,
   * so only the copy command is offered.
   */
  constructor(file: string, fault: string, backup: string | undefined, code: ErrorCode = 'STATE_CORRUPT', viaCommand = true) {
    const restore = !backup
      ? 'No backup of it exists; move the file away to start a new state.'
      : viaCommand
        ? `Restore the previous version with:\n\n  builder state restore -state=${shellQuote(file)}\n\n` +
          `or copy it by hand:\n\n  cp ${shellQuote(backup)} ${shellQuote(file)}`
        : `Restore the previous version by copying it:\n\n  cp ${shellQuote(backup)} ${shellQuote(file)}`;
    super(code, `the state file ${file} cannot be read: ${fault}.\n\n${restore}`);
    this.file = file;
    this.fault = fault;
  }
}

/** The state file was written by a newer builder (or is not a builder state). */
export class StateVersionError extends StateCorruptError {
  constructor(file: string, version: unknown, supported: number, backup: string | undefined) {
    super(
      file,
      `its format version ${JSON.stringify(version)} is not one this builder knows (it reads versions 1 to ${supported}); ` +
        'it may have been written by a newer builder',
      backup,
      'STATE_VERSION_UNSUPPORTED',
    );
  }
}

/** A write failed; the previous state is intact. */
export class StateWriteError extends UserError {
  override readonly cause: unknown;
  constructor(file: string, action: string, cause: unknown) {
    super(
      'STATE_WRITE_FAILED',
      `could not ${action} the state file ${file}: ${describeSystemError(cause)}. ` +
        'The previous state is intact; fix the cause and run the command again.',
    );
    this.cause = cause;
  }
}

/** A state, journal, backup or lock file could not be read or created (not a write of the state). */
export class StateAccessError extends UserError {
  override readonly cause: unknown;
  constructor(file: string, action: string, cause: unknown) {
    super('STATE_ACCESS_FAILED', `could not ${action} ${file}: ${describeSystemError(cause)}. Fix the cause and run the command again.`);
    this.cause = cause;
  }
}

/** `state push` of a state from another lineage, or older than the destination. */
export class StatePushRefusedError extends UserError {
  constructor(code: 'STATE_LINEAGE_MISMATCH' | 'STATE_SERIAL_OLDER', message: string) {
    super(code, `${message}\n\nPass -force to overwrite the state anyway (its current version is kept as the backup).`);
  }
}

export class LockNotFoundError extends UserError {
  constructor(statePath: string, id: string, held: readonly LockInfo[]) {
    const list = held.length === 0 ? 'The state has no locks.' : `Its locks are:\n\n${held.map(describeLock).join('\n\n')}`;
    super('STATE_LOCK_NOT_FOUND', `no lock with ID "${id}" is held on the state ${statePath}. ${list}`);
  }
}

export class BuildNotInStateError extends UserError {
  constructor(statePath: string, build: string, known: readonly string[]) {
    const hint = known.length === 0 ? 'The state has no builds.' : `Builds in the state: ${known.join(', ')}.`;
    super('STATE_BUILD_NOT_FOUND', `no build "${build}" in the state ${statePath}. ${hint}`);
  }
}

export class StateNotFoundError extends UserError {
  constructor(statePath: string) {
    super('STATE_NOT_FOUND', `no state at ${statePath}. Run a build first, or name the state file with -state=PATH.`);
  }
}

/** "no space left on device (ENOSPC)" from a Node system error. */
export function describeSystemError(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') {
    const known: Record<string, string> = {
      ENOSPC: 'no space left on device',
      EIO: 'input/output error',
      EDQUOT: 'disk quota exceeded',
      EACCES: 'permission denied',
      EPERM: 'operation not permitted',
      EROFS: 'read-only file system',
      ENOENT: 'no such file or directory',
      ELOOP: 'it is a symbolic link, which builder never follows there (someone may be redirecting the write; remove the link)',
      ENOTREG: 'it is not a regular file (remove it)',
      EISDIR: 'it is a directory (remove it)',
      EFBIG: 'it is far larger than such a file can be (remove it)',
      ENOTDIR: 'a part of the path is not a directory',
    };
    const text = err.code === 'ENOTREG' && err instanceof Error ? `${err.message} (remove it)` : known[err.code];
    return `${text ?? (err instanceof Error ? err.message : err.code)} (${err.code})`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** The state (file, or its folder) was removed by someone else while this process was using it. */
export class StateGoneError extends UserError {
  constructor(location: string) {
    super(
      'STATE_GONE',
      `the state ${location} was removed while this run was using it (its file or folder was deleted by another process), ` +
        'so what this run did cannot be recorded. Restore the state (or its folder) from a copy if you have one, ' +
        'and run the command again.',
    );
  }
}

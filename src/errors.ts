/**
 * The error model (see docs/design.md, "Errors"). Every module throws these; only the CLI
 * (src/cli/main.ts) turns them into output and exit codes.
 *
 * - UsageError: a bad flag or argument. The CLI prints the message and the command's usage; exit 1.
 * - UserError: a problem the user can cause and fix (bad template, locked or corrupt state, an
 *   unreachable host, a failed step). The CLI prints one clear message — what happened, where,
 *   what to do next — followed by its stable code (`[BLD0101]`), no stack trace. Its `code` name
 *   and number never change once released: they are listed in ERROR_CODES, and a test checks that
 *   every code used is listed.
 * - CancelledError: the run was interrupted (SIGINT/SIGTERM); not a failure of any step.
 * - anything else: an internal error (a bug). The CLI says so and how to report it; the stack is
 *   printed only with BUILDER_LOG=1 or PACKER_LOG=1.
 *
 * Whether an operation may be retried is a separate property (`retryable`), not the class: a
 * communicator retries what is retryable, whatever its kind.
 */

/** Stable numbers of user error codes, printed as `BLD####` (berry's `YN####`). Append only. */
export const ERROR_CODES = {
  // templates and components
  NO_COMMUNICATOR: 1,
  FILE_SOURCE: 2,
  SHELL_SCRIPT: 3,
  SSH_AUTH: 10,
  SSH_HOST_KEY: 11,
  SSH_NO_HOST: 12,
  SSH_TIMEOUT: 13,
  SCRIPT_DISCONNECTED: 14,
  SCRIPT_EXIT_STATUS: 15,
  SETTINGS_INVALID: 16,
  // the docker builder and post-processors
  DOCKER_API: 30,
  DOCKER_ARTIFACT: 31,
  DOCKER_CONFIG: 32,
  DOCKER_ENDPOINT: 33,
  DOCKER_LOGIN: 34,
  DOCKER_PULL: 35,
  DOCKER_PUSH: 36,
  DOCKER_RECORD: 37,
  // state
  STATE_LOCKED: 101,
  STATE_CORRUPT: 102,
  STATE_VERSION_UNSUPPORTED: 103,
  STATE_WRITE_FAILED: 104,
  STATE_LINEAGE_MISMATCH: 105,
  STATE_SERIAL_OLDER: 106,
  STATE_LOCK_NOT_FOUND: 107,
  STATE_BUILD_NOT_FOUND: 108,
  STATE_NOT_FOUND: 109,
  STATE_NO_BACKUP: 110,
  STATE_PUSH_UNREADABLE: 111,
  STATE_RM_KEPT_INSTANCE: 116,
  STATE_CONFIRMATION_NEEDED: 112,
  STATE_JOURNAL_CORRUPT: 113,
  STATE_LOCATION: 114,
  STATE_BACKEND_UNKNOWN: 115,
  STATE_LEASE_LOST: 130,
  STATE_CONFLICT: 131,
  STATE_PG_FAILED: 132,
  STATE_RUN_INPUTS_DIFFER: 133,
  STATE_PG_SCHEMA_NAME: 134,
  STATE_PG_SCHEMA_NEWER: 135,
  STATE_PG_SCHEMA_MISSING: 136,
  STATE_ACCESS_FAILED: 137,
  STATE_FOLDER_UNSAFE: 138,
  // issue 11: runs shared by many runners (build -run-id)
  STATE_RUN_UNSUPPORTED: 150,
  // issue 15: the state removed while a run was using it
  STATE_GONE: 139,
  WORKSPACE_NOT_FOUND: 120,
  WORKSPACE_EXISTS: 121,
  WORKSPACE_INVALID: 122,
  WORKSPACE_NOT_EMPTY: 123,
  // the file system, when a user's path or permission is the cause
  PATH_PERMISSION: 201,
  PATH_IS_DIRECTORY: 202,
  PATH_NOT_FOUND: 203,
  DISK_FULL: 204,
  READ_ONLY_FILE_SYSTEM: 205,
  PATH_NOT_DIRECTORY: 206,
  PATH_IO: 207,
  // issue 13: a builder environment variable with a value it cannot use
  ENV_INVALID: 230,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** `BLD0101` for STATE_LOCKED. */
export function errorNumber(code: ErrorCode): string {
  return `BLD${String(ERROR_CODES[code]).padStart(4, '0')}`;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface UserErrorOptions {
  exitCode?: number;
  /** True when trying the same operation again may succeed (a connection refused, a host still booting). */
  retryable?: boolean;
  cause?: unknown;
}

export class UserError extends Error {
  /** A stable identifier for the kind of error, e.g. "STATE_LOCKED" (see ERROR_CODES). */
  readonly code: ErrorCode;
  readonly exitCode: number;
  readonly retryable: boolean;
  constructor(code: ErrorCode, message: string, options: UserErrorOptions | number = {}) {
    const o = typeof options === 'number' ? { exitCode: options } : options;
    super(message, o.cause !== undefined ? { cause: o.cause } : undefined);
    this.name = 'UserError';
    this.code = code;
    this.exitCode = o.exitCode ?? 1;
    this.retryable = o.retryable ?? false;
  }
}

/** The run was cancelled (SIGINT/SIGTERM). */
export class CancelledError extends Error {
  constructor(message = 'Build was cancelled.') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** False for errors that say retrying cannot help (a UserError not marked retryable, a cancel). */
export function isRetryable(err: unknown): boolean {
  if (err instanceof CancelledError) return false;
  if (err instanceof UserError) return err.retryable;
  return true;
}

/** Any thrown value as an Error. */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

const SYSTEM_CODES: Record<string, { code: ErrorCode; what: string }> = {
  EACCES: { code: 'PATH_PERMISSION', what: 'permission denied' },
  EPERM: { code: 'PATH_PERMISSION', what: 'operation not permitted' },
  EISDIR: { code: 'PATH_IS_DIRECTORY', what: 'it is a directory' },
  ENOENT: { code: 'PATH_NOT_FOUND', what: 'no such file or directory' },
  ENOTDIR: { code: 'PATH_NOT_DIRECTORY', what: 'a part of the path is not a directory' },
  ENOSPC: { code: 'DISK_FULL', what: 'no space left on the device' },
  EDQUOT: { code: 'DISK_FULL', what: 'disk quota exceeded' },
  EROFS: { code: 'READ_ONLY_FILE_SYSTEM', what: 'the file system is read-only' },
  ELOOP: { code: 'PATH_IO', what: 'a symbolic link is in the way (refused)' },
  EEXIST: { code: 'PATH_IO', what: 'something else already exists there' },
};

/** What to do about a system error on a path, by errno code (issue 13). */
const SYSTEM_NEXT: Record<string, string> = {
  EACCES: 'check its permissions and those of its folder, or run builder as a user who may use it',
  EPERM: 'check its permissions and owner',
  EISDIR: 'give the path of a file, not a folder',
  ENOENT: 'check the path (relative paths start from the folder builder runs in)',
  ENOTDIR: 'check the path: one of its folders is a file',
  ENOSPC: 'free some space on that disk, or choose a path on another one',
  EDQUOT: 'free some space within your quota, or choose a path on another disk',
  EROFS: 'choose a path on a writable file system',
  ELOOP: 'replace the symbolic link by a file or folder',
  EEXIST: 'remove what is there, or choose another path',
};

/**
 * A system error about a path in words, with what to do: "permission denied; check its
 * permissions…". Not a system error: its message. For messages that keep their own shape (a
 * diagnostic, Packer's "Unable to write X: …") and only need the cause in plain words; `path`
 * puts the error's path first, as Go's errors do ("/out/a.tar: permission denied; …").
 */
export function systemErrorDetail(err: unknown, options: { path?: boolean } = {}): string {
  const sys = systemErrorCode(err);
  const known = sys !== undefined ? SYSTEM_CODES[sys] : undefined;
  if (!known || sys === undefined) return err instanceof Error ? err.message : String(err);
  const path = (err as NodeJS.ErrnoException).path;
  const prefix = options.path && typeof path === 'string' ? `${path}: ` : '';
  return `${prefix}${known.what}; ${SYSTEM_NEXT[sys] ?? 'check the path and its permissions'}`;
}

/** The errno code of a Node system error, if it is one. */
export function systemErrorCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : undefined;
}

/**
 * A system error (EACCES, EISDIR, ENOENT, ENOSPC, EROFS, …) caused by a user's path or
 * permission, as one UserError: "could not ACTION PATH: WHAT. NEXT". Anything else is returned
 * unchanged (it is a bug, reported as an internal error).
 */
export function userSystemError(err: unknown, action: string, path: string, next: string): unknown {
  const sys = systemErrorCode(err);
  const known = sys !== undefined ? SYSTEM_CODES[sys] : undefined;
  if (!known) return err;
  return new UserError(known.code, `could not ${action} ${path}: ${known.what}. ${next}`, { cause: err });
}

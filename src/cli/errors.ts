/**
 * The three kinds of error the CLI distinguishes (see docs/design.md):
 * - UsageError: a bad flag or argument. The CLI prints the message and the command's usage; exit 1.
 * - UserError: a problem the user can fix (bad template, locked or corrupt state, failed step).
 *   The CLI prints one clear message: what happened, where, what to do next. Exit code as given.
 * - anything else: an internal error (a bug). The CLI says so and how to report it; the stack is
 *   printed only with BUILDER_LOG=1 or PACKER_LOG=1.
 * Domain code throws its own subclasses of UserError; their `code` never changes once released.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export class UserError extends Error {
  /** A stable identifier for the kind of error, e.g. "STATE_LOCKED". */
  readonly code: string;
  readonly exitCode: number;
  constructor(code: string, message: string, exitCode = 1) {
    super(message);
    this.name = 'UserError';
    this.code = code;
    this.exitCode = exitCode;
  }
}

/**
 * What the `state` commands share: the -state / -lock / -lock-timeout flags, opening the state,
 * warnings, and asking the user a yes/no question on a terminal.
 */
import { createInterface } from 'node:readline';
import type { CommandContext } from '../../cli/command.js';
import { UsageError } from '../../errors.js';
import type { FlagSpecs } from '../../cli/flags.js';
import { resolveStatePath } from '../../state/location.js';
import { StateManager } from '../../state/manager.js';
import { FileStateClient } from '../../state/file/client.js';

export const STATE_FLAG_HELP =
  '  -state=PATH            The state file. Default: $BUILDER_STATE_PATH, else ./.packer.d/builder-state.json.';
export const LOCK_FLAG_HELP =
  '  -lock=false            Do not lock the state (dangerous when another run may use it).\n' +
  '  -lock-timeout=DURATION How long to wait for a lock held by another run (e.g. 30s). Default: 0, refuse at once.';

export const stateFlag = { state: { kind: 'string' } } as const satisfies FlagSpecs;
export const lockFlags = {
  lock: { kind: 'bool', default: true },
  'lock-timeout': { kind: 'duration', default: 0 },
} as const satisfies FlagSpecs;

export interface OpenOptions {
  state: string | undefined;
  lock?: boolean;
  lockTimeoutMs?: number;
}

export function warner(ctx: CommandContext): (message: string) => void {
  return (message) => void ctx.stderr.write(`Warning: ${message}\n`);
}

export function statePath(flag: string | undefined, ctx: CommandContext): string {
  return resolveStatePath(flag, ctx.env, ctx.cwd);
}

/** The file client of the state the flags name. */
export function stateClient(flag: string | undefined, ctx: CommandContext): FileStateClient {
  return new FileStateClient({ path: statePath(flag, ctx), onWarning: warner(ctx) });
}

/** A manager of the state the flags name, loaded. Throws StateCorruptError for a damaged file. */
export function openState(options: OpenOptions, ctx: CommandContext, client = stateClient(options.state, ctx)): Promise<StateManager> {
  return StateManager.open({ client, lock: options.lock, lockTimeoutMs: options.lockTimeoutMs, onWarning: warner(ctx) });
}

/** Asks a yes/no question on the terminal; only "yes" or "y" (any case) agree. */
export async function askYesNo(ctx: CommandContext, question: string): Promise<boolean> {
  ctx.stderr.write(`${question} [y/N] `);
  const rl = createInterface({ input: ctx.stdin, terminal: false });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(''));
    });
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
  }
}

/** Refuses positional arguments for commands that take none. */
export function refuseArguments(rest: readonly string[]): void {
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest[0]!}`);
}

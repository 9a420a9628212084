/**
 * What the `workspace` commands share: finding the state (as every command does: TEMPLATE,
 * -state, see src/commands/state/options.ts), the backend's workspace functions, and recording the
 * selected workspace in the environment file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CommandContext } from '../../cli/command.js';
import { UsageError, userSystemError } from '../../errors.js';
import { checkWorkspaceName, DEFAULT_WORKSPACE, type StateLocation } from '../../state/location.js';
import { locate } from '../state/options.js';

export const WORKSPACE_TEMPLATE_HELP =
  '  TEMPLATE (optional, first) finds the state as `builder build TEMPLATE` does; without it, the\n' +
  '  state is -state, BUILDER_STATE, or .packer.d/ in the current folder.\n\n' +
  'Options:\n\n' +
  '  -state=PATH|URL        The state (as for `builder state`).';

export const workspaceFlags = { state: { kind: 'string' } } as const;

/** The location of the state and the one NAME argument, when `needsName`. */
export function locateWorkspace(
  state: string | undefined,
  args: readonly string[],
  ctx: CommandContext,
  needsName: boolean,
): { location: StateLocation; name: string | undefined } {
  const { location, rest } = locate({ state, workspace: undefined }, args, ctx, needsName ? { arity: 1 } : 'maybe');
  if (needsName && rest.length !== 1) throw new UsageError(rest.length === 0 ? 'the workspace NAME is missing' : `unexpected argument: ${rest[1]!}`);
  if (!needsName && rest.length > 0) throw new UsageError(`unexpected argument: ${rest[0]!}`);
  const name = rest[0];
  if (name !== undefined) checkWorkspaceName(name, 'the workspace');
  return { location, name };
}

/** Records `name` as the selected workspace (the default one: the file says so too). */
export function selectWorkspace(location: StateLocation, name: string): void {
  try {
    mkdirSync(dirname(location.environmentFile), { recursive: true, mode: 0o700 });
    writeFileSync(location.environmentFile, name === DEFAULT_WORKSPACE ? '' : `${name}\n`, { mode: 0o600 });
  } catch (err) {
    throw userSystemError(err, 'record the selected workspace in', location.environmentFile, 'Pass -workspace=NAME (or set BUILDER_WORKSPACE) instead.');
  }
}

/** Says when the selection just made is overridden by -workspace's environment variable. */
export function warnIfOverridden(location: StateLocation, ctx: CommandContext): void {
  if (location.workspaceFrom === 'BUILDER_WORKSPACE') {
    ctx.stderr.write(`Warning: BUILDER_WORKSPACE=${location.workspace} is set: it overrides the selected workspace until it is unset.\n`);
  }
}

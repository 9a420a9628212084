/**
 * What the `state` and `workspace` commands share: the -state / -workspace / -lock /
 * -lock-timeout flags, the optional TEMPLATE argument, finding and opening the state (through
 * the one resolver, src/state/location.ts, as `build` does), warnings, and asking the user a
 * yes/no question on a terminal.
 */
import { createInterface } from 'node:readline';
import type { CommandContext } from '../../cli/command.js';
import { UsageError, UserError } from '../../errors.js';
import type { FlagSpecs } from '../../cli/flags.js';
import { BuildNotInStateError } from '../../state/errors.js';
import { parseBuildKey, templateRefFromArgument } from '../../state/identity.js';
import { resolveStateLocation, type StateLocation } from '../../state/location.js';
import type { StateManager } from '../../state/manager.js';
import { openState as openAt } from '../../state/open.js';

export const STATE_FLAG_HELP =
  '  -state=PATH|URL        The state. Default: $BUILDER_STATE (or $BUILDER_STATE_PATH), else\n' +
  '                         .packer.d/builder-state.json next to TEMPLATE, else in the current folder.\n' +
  '  -workspace=NAME        The workspace. Default: $BUILDER_WORKSPACE, else the selected one.';
export const TEMPLATE_ARGUMENT_HELP =
  '  TEMPLATE (optional, first) is the template a build ran, as given to `builder build`: its state is\n' +
  '  found as build finds it, and its builds are named as in the template. Without it, builds are\n' +
  '  named by their keys in the state (TEMPLATE-ID/BUILD).';
export const LOCK_FLAG_HELP =
  '  -lock=false            Do not lock the state (dangerous when another run may use it).\n' +
  '  -lock-timeout=DURATION\n' +
  '                         How long to wait for a lock held by another run (e.g. 30s). Default: 0,\n' +
  '                         refuse at once.';

export const stateFlag = { state: { kind: 'string' }, workspace: { kind: 'string' } } as const satisfies FlagSpecs;
export const lockFlags = {
  lock: { kind: 'bool', default: true },
  'lock-timeout': { kind: 'duration', default: 0 },
} as const satisfies FlagSpecs;

export interface LocateFlags {
  state: string | undefined;
  workspace: string | undefined;
}

/**
 * The state the flags and arguments name. `templateFirst`: 'maybe' takes the first argument as the
 * TEMPLATE when it is one (an existing file or folder, or a *.pkr.hcl / *.pkr.json name);
 * 'if-more-than-one' only when there is more than `arity` arguments (commands whose own argument
 * may look like a file: push FILE, unlock ID). Returns the location and the remaining arguments.
 */
export function locate(
  flags: LocateFlags,
  args: readonly string[],
  ctx: CommandContext,
  templateFirst: 'maybe' | { arity: number } = 'maybe',
): { location: StateLocation; rest: string[] } {
  let rest = [...args];
  let template;
  const first = rest[0];
  const candidate = templateFirst === 'maybe' || rest.length > templateFirst.arity;
  if (first !== undefined && candidate) {
    template = templateRefFromArgument(first, ctx.cwd);
    if (template) rest = rest.slice(1);
    else if (templateFirst !== 'maybe') throw new UsageError(`${first} is not a template (a .pkr.hcl or .pkr.json file, or a folder)`);
  }
  const location = resolveStateLocation({ state: flags.state, workspace: flags.workspace, template, env: ctx.env, cwd: ctx.cwd });
  return { location, rest };
}

export interface OpenOptions {
  lock?: boolean;
  lockTimeoutMs?: number;
  /** The command writes the state. */
  write?: boolean;
  /** false: the whole state by its stored keys, even when a template was named. */
  scoped?: boolean;
}

export function warner(ctx: CommandContext): (message: string) => void {
  return (message) => void ctx.stderr.write(`Warning: ${message}\n`);
}

/** A manager of the state at `location` (scoped to its template, when one was named), loaded. */
export function openState(location: StateLocation, ctx: CommandContext, options: OpenOptions = {}): Promise<StateManager> {
  const onProgress = (message: string): void => void ctx.stderr.write(`${message}\n`);
  return openAt(location, { ...options, onWarning: warner(ctx), signal: ctx.signal, onProgress });
}

/**
 * The key under which `m` holds the build a user named: the name itself when it is a key (or, for a
 * manager scoped to a template, one of its build names); without a template, also a plain build
 * name that only one template's builds use. Throws BuildNotInStateError (listing the keys) when none
 * or several match.
 */
export function findBuild(m: StateManager, name: string): string {
  if (m.build(name) !== undefined) return name;
  const keys = m.buildKeys().sort();
  if (m.template === undefined) {
    const matches = keys.filter((k) => parseBuildKey(k)?.buildName === name);
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) {
      throw new UserError(
        'STATE_BUILD_NOT_FOUND',
        `build "${name}" is in several templates of the state ${m.location}: ${matches.join(', ')}. Name one by its key, or give its TEMPLATE first.`,
      );
    }
  }
  throw new BuildNotInStateError(m.location, name, keys);
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

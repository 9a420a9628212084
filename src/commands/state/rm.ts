/**
 * `builder state rm [-force] [TEMPLATE] BUILD…`: forgets builds (named as in TEMPLATE when it is
 * given, else by their keys in the state: see options.ts). A timestamped copy of the state is saved
 * first. A build with a kept instance (kept after a failure so that the next run resumes on it)
 * is only forgotten after a "yes" on the terminal, or with -force; with no terminal and no -force
 * the command refuses. Each build is locked while it is removed, so a run working on it refuses
 * the removal.
 *
 * Destroying the kept instance belongs to the build engine: the command is made by
 * `createStateRmCommand({ destroyKeptInstance, keptInstanceFate })`; the registered command asks
 * the builder that made the instance (src/stateful/kept-instances.ts). An instance no builder can
 * destroy is left alone and the user is told so; the null builder's instance is the host it
 * connects to, so there is nothing to destroy and only the record of the steps is forgotten.
 */
import type { Command, CommandContext } from '../../cli/command.js';
import { UsageError, UserError } from '../../errors.js';
import { parseFlags } from '../../cli/flags.js';
import { StateNotFoundError } from '../../state/errors.js';
import type { LockInfo } from '../../state/interfaces.js';
import type { BuildState } from '../../state/types.js';
import { describeInstance } from './describe.js';
import { askYesNo, findBuild, locate, LOCK_FLAG_HELP, lockFlags, openState, STATE_FLAG_HELP, stateFlag, TEMPLATE_ARGUMENT_HELP } from './options.js';
import { destroyKeptInstance, keptInstanceFate, type KeptInstanceFate } from '../../stateful/kept-instances.js';

/** Destroys the instance a build kept; throws (a UserError, ideally) when it cannot. */
export type KeptInstanceDestroyer = (key: string, build: BuildState, ctx: CommandContext) => Promise<void>;

export interface StateRmOptions {
  destroyKeptInstance?: KeptInstanceDestroyer;
  /** What happens to a build's kept instance (default: 'destroy' when there is a destroyer,
   * else 'leave'); the destroyer is called only for 'destroy'. */
  keptInstanceFate?(build: BuildState): KeptInstanceFate;
}

/** What confirming (or -force) does, as the end of a sentence. */
const FATE_TEXT: Record<KeptInstanceFate, string> = {
  destroy: 'destroy it and forget the build',
  'nothing-to-destroy': 'forget the build (its instance is the host it connects to: there is nothing to destroy)',
  leave: 'forget the build (the instance itself is left as it is)',
};

function hasKeptInstance(b: BuildState): boolean {
  return b.instance !== null && b.instance.keep_on_failure;
}

function describeKept(b: BuildState): string {
  return describeInstance(b.instance!);
}

export function createStateRmCommand(options: StateRmOptions): Command {
  const destroy = options.destroyKeptInstance;
  const fateOf = (b: BuildState): KeptInstanceFate => options.keptInstanceFate?.(b) ?? (destroy ? 'destroy' : 'leave');
  const fate = destroy ? 'destroy it when its builder can, and forget the build' : FATE_TEXT.leave;
  return {
    name: ['state', 'rm'],
    synopsis: 'Forget builds recorded in the state',
    usage:
      'Usage: builder state rm [options] [TEMPLATE] BUILD...\n\n' +
      '  Removes builds from the state, after saving a timestamped copy of it. A build whose instance was\n' +
      `  kept after a failure is only removed after confirmation (or with -force): builder will ${fate}.\n\n` +
      `${TEMPLATE_ARGUMENT_HELP}\n\n` +
      `Options:\n\n  -force                 Do not ask about kept instances.\n${STATE_FLAG_HELP}\n${LOCK_FLAG_HELP}`,
    async run(args, ctx) {
      const { flags, args: positional } = parseFlags(args, { ...stateFlag, ...lockFlags, force: { kind: 'bool' } });
      const { location, rest: names } = locate(flags, positional, ctx);
      if (names.length === 0) throw new UsageError('state rm needs at least one build');
      const m = await openState(location, ctx, { lock: flags.lock, lockTimeoutMs: flags['lock-timeout'], write: true });
      if (!m.exists) throw new StateNotFoundError(m.location);
      const keys = names.map((n) => findBuild(m, n));
      const locks: LockInfo[] = [];
      try {
        // In one global order (sorted keys), so that `state rm A B` and `state rm B A` never
        // each hold one lock and wait for the other's.
        for (const k of [...new Set(keys)].sort()) {
          const lock = await m.lockBuild(k, 'state rm');
          if (lock) locks.push(lock);
        }
        await m.refresh();
        const chosen: string[] = [];
        for (const k of new Set(keys)) {
          const b = m.build(k);
          if (!b) {
            // Removed by another process between our first read and our lock: say so (exit 1).
            ctx.stderr.write(`Build "${k}" is no longer in the state ${m.location}: another process removed it meanwhile.\n`);
            continue;
          }
          if (hasKeptInstance(b) && !flags.force) {
            if (!ctx.stdinIsTTY) {
              throw new UserError(
                'STATE_RM_KEPT_INSTANCE',
                `build "${k}" has a kept ${describeKept(b)}: the next run would resume on it. ` +
                  `There is no terminal to confirm on; run the command again with -force to ${FATE_TEXT[fateOf(b)]}.`,
              );
            }
            const question = FATE_TEXT[fateOf(b)].replace(/^./, (c) => c.toUpperCase());
            if (!(await askYesNo(ctx, `Build "${k}" has a kept ${describeKept(b)}. ${question}?`))) {
              ctx.stderr.write(`Kept build "${k}".\n`);
              continue;
            }
          }
          chosen.push(k);
        }
        if (chosen.length === 0) return 1;
        const copy = m.client.saveCopy ? await m.client.saveCopy('rm') : undefined;
        if (copy) ctx.stdout.write(`Saved a copy of the state before this change to ${copy}\n`);
        for (const k of chosen) {
          const b = m.build(k)!;
          if (!hasKeptInstance(b)) continue;
          const f = fateOf(b);
          if (f === 'destroy' && destroy) {
            await destroy(k, b, ctx);
            ctx.stdout.write(`Destroyed the kept ${describeKept(b)} of build "${k}".\n`);
          } else if (f === 'nothing-to-destroy') {
            ctx.stdout.write(`Nothing to destroy for build "${k}": its ${describeKept(b)} is the host the build connects to.\n`);
          } else {
            ctx.stderr.write(`Warning: the kept ${describeKept(b)} of build "${k}" was not destroyed; remove it yourself if it is no longer needed.\n`);
          }
        }
        const removed = await m.remove(chosen);
        for (const k of removed) ctx.stdout.write(`Removed build "${k}".\n`);
        ctx.stdout.write(`Removed ${removed.length} build(s) from ${m.location} (serial ${m.serial}).\n`);
        return chosen.length === new Set(keys).size ? 0 : 1;
      } finally {
        for (const l of locks) await m.unlock(l.id).catch(() => undefined);
        await m.close();
      }
    },
  };
}

export const stateRmCommand: Command = createStateRmCommand({ destroyKeptInstance, keptInstanceFate });

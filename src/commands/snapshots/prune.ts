/**
 * `builder snapshots prune [-keep=N] [-dry-run] [TEMPLATE]`: removes the state's orphaned
 * snapshots (labelled with its lineage, held by no build record: their build was removed from the
 * state, or a fresh build replaced the record), forgets recorded snapshots that are missing, and
 * with -keep=N also removes every recorded snapshot but the newest N of each build (those after
 * its latest steps), clearing them from the records.
 *
 * The whole state is locked while it prunes (a lock of the state excludes every build lock), so a
 * snapshot a running build has just taken, and not recorded yet, is never taken for an orphan:
 * a run in progress makes prune refuse (or wait, with -lock-timeout).
 */
import type { Command, CommandContext } from '../../cli/command.js';
import { UsageError } from '../../errors.js';
import { parseFlags } from '../../cli/flags.js';
import { builders } from '../../builders/registry.js';
import type { StateManager } from '../../state/manager.js';
import { locate, LOCK_FLAG_HELP, lockFlags, openState, refuseArguments, STATE_FLAG_HELP, stateFlag, TEMPLATE_ARGUMENT_HELP } from '../state/options.js';
import { inventory, type SnapshotRow } from './inventory.js';

/** The rows `prune` removes (or forgets): orphaned and missing ones, and beyond `keep` per build. */
export function toPrune(rows: readonly SnapshotRow[], keep: number | undefined): SnapshotRow[] {
  const out = rows.filter((r) => r.status !== 'recorded');
  if (keep === undefined) return out;
  const byBuild = new Map<string, SnapshotRow[]>();
  for (const r of rows) if (r.status === 'recorded') byBuild.set(r.build, [...(byBuild.get(r.build) ?? []), r]);
  for (const list of byBuild.values()) out.push(...[...list].sort((a, b) => b.step - a.step).slice(keep));
  return out;
}

async function forget(m: StateManager, rows: readonly SnapshotRow[]): Promise<void> {
  const ids = new Set(rows.map((r) => r.id));
  for (const key of new Set(rows.map((r) => r.build))) {
    await m.update(key, (b) => {
      for (const s of b?.provisioners ?? []) if (s.snapshot && ids.has(s.snapshot.id)) s.snapshot = null;
    });
  }
}

async function prune(m: StateManager, ctx: CommandContext, keep: number | undefined, dryRun: boolean): Promise<number> {
  const { rows, warnings } = await inventory(m, ctx);
  for (const w of warnings) ctx.stderr.write(`Warning: ${w}\n`);
  const chosen = toPrune(rows, keep);
  const rctx = { cwd: ctx.cwd, env: ctx.env, signal: ctx.signal };
  let failed = 0;
  const removed: SnapshotRow[] = [];
  for (const r of chosen) {
    const what = `${r.status === 'missing' ? 'Forgot the missing' : 'Removed the'} ${r.status === 'orphaned' ? 'orphaned ' : ''}snapshot ${r.id.slice(0, 19)} (${r.build || '?'}${r.step > 0 ? `, step ${r.step}` : ''})`;
    if (dryRun) {
      ctx.stdout.write(`Would prune: ${what.replace(/^(Removed|Forgot) the /, '')}\n`);
      continue;
    }
    try {
      const cap = builders.get(r.builderType)?.snapshots;
      if (r.status !== 'missing' && cap) await cap.remove(r.id, rctx);
      removed.push(r);
      ctx.stdout.write(`${what}.\n`);
    } catch (err) {
      failed++;
      ctx.stderr.write(`Could not remove the snapshot ${r.id.slice(0, 19)}: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
  if (!dryRun) await forget(m, removed.filter((r) => r.status !== 'orphaned'));
  ctx.stdout.write(`${dryRun ? 'Would prune' : 'Pruned'} ${dryRun ? chosen.length : removed.length} snapshot(s); ${rows.length - chosen.length} kept.\n`);
  return failed > 0 ? 1 : 0;
}

export const snapshotsPruneCommand: Command = {
  name: ['snapshots', 'prune'],
  synopsis: 'Remove orphaned snapshots, and all but the newest N per build',
  usage:
    'Usage: builder snapshots prune [options] [TEMPLATE]\n\n' +
    '  Removes the snapshots labelled with this state that no build record holds (their build was\n' +
    '  removed, or a fresh build replaced it), and forgets recorded snapshots that are gone.\n\n' +
    `${TEMPLATE_ARGUMENT_HELP}\n\nOptions:\n\n` +
    '  -keep=N                Also remove every recorded snapshot of a build but its newest N (a\n' +
    '                         changed step before them then rebuilds from further back).\n' +
    '  -dry-run               Say what would be pruned, and change nothing.\n' +
    `${STATE_FLAG_HELP}\n${LOCK_FLAG_HELP}`,
  async run(args, ctx) {
    const { flags, args: positional } = parseFlags(args, { ...stateFlag, ...lockFlags, keep: { kind: 'int' }, 'dry-run': { kind: 'bool' } });
    const { location, rest } = locate(flags, positional, ctx);
    refuseArguments(rest);
    if (flags.keep !== undefined && flags.keep < 0) throw new UsageError('-keep must be 0 or more');
    const m = await openState(location, ctx, { scoped: false, write: !flags['dry-run'], lock: flags.lock, lockTimeoutMs: flags['lock-timeout'] });
    try {
      if (!m.exists) {
        ctx.stderr.write(`No state at ${m.location}.\n`);
        return 0;
      }
      const lock = await m.lockState('snapshots prune');
      try {
        await m.refresh();
        return await prune(m, ctx, flags.keep, flags['dry-run'] === true);
      } finally {
        if (lock) await m.unlock(lock.id).catch(() => undefined);
      }
    } finally {
      await m.close();
    }
  },
};

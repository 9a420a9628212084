/**
 * `builder snapshots list [TEMPLATE]`: the snapshots of the state's builds, one per line: the
 * build, the step it was taken after, its status (recorded, missing, orphaned: see inventory.ts),
 * its id, size and age. Always every template's builds of the state (snapshots are found by the
 * state's lineage).
 */
import type { Command } from '../../cli/command.js';
import { parseFlags } from '../../cli/flags.js';
import { locate, openState, refuseArguments, STATE_FLAG_HELP, stateFlag, TEMPLATE_ARGUMENT_HELP } from '../state/options.js';
import { inventory, type SnapshotRow } from './inventory.js';

function size(bytes: number): string {
  if (bytes <= 0) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 && u > 0 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** The table of `rows`, columns padded. */
export function snapshotTable(rows: readonly SnapshotRow[]): string {
  const cells = rows.map((r) => [r.build || '?', r.step > 0 ? `step ${r.step}` : '-', r.status, r.id.slice(0, 19), size(r.size), r.created > 0 ? new Date(r.created * 1000).toISOString() : '-']);
  const widths = cells.reduce((w, c) => w.map((n, i) => Math.max(n, c[i]!.length)), [5, 4, 6, 2, 4, 7]);
  const line = (c: readonly string[]): string => `${c.map((x, i) => (i === c.length - 1 ? x : x.padEnd(widths[i]!))).join('  ')}\n`;
  return line(['BUILD', 'STEP', 'STATUS', 'ID', 'SIZE', 'CREATED']) + cells.map(line).join('');
}

export const snapshotsListCommand: Command = {
  name: ['snapshots', 'list'],
  synopsis: "List the snapshots of the state's builds",
  usage:
    'Usage: builder snapshots list [options] [TEMPLATE]\n\n  Lists the snapshots builds took after their steps (docker: images), one per line: the build,\n' +
    '  the step, the status (recorded: a build record holds it; missing: recorded but gone;\n  orphaned: labelled with this state, held by no record), the id, the size and when it was made.\n\n' +
    `${TEMPLATE_ARGUMENT_HELP}\n\nOptions:\n\n${STATE_FLAG_HELP}`,
  async run(args, ctx) {
    const { flags, args: positional } = parseFlags(args, stateFlag);
    const { location, rest } = locate(flags, positional, ctx);
    refuseArguments(rest);
    const m = await openState(location, ctx, { scoped: false });
    try {
      if (!m.exists) {
        ctx.stderr.write(`No state at ${m.location}.\n`);
        return 0;
      }
      const { rows, warnings } = await inventory(m, ctx);
      for (const w of warnings) ctx.stderr.write(`Warning: ${w}\n`);
      if (rows.length === 0) ctx.stderr.write(`No snapshots for the state ${m.location}.\n`);
      else ctx.stdout.write(snapshotTable(rows));
      return 0;
    } finally {
      await m.close();
    }
  },
};

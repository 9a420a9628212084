/**
 * `builder state list [TEMPLATE]`: the builds recorded in the state, one per line, with their
 * status and, when a failed build kept its instance for a resume, that instance's id. With
 * TEMPLATE, that template's builds by their names in it; without, every build by its key in the
 * state (TEMPLATE-ID/BUILD). A build another run holds a lock on also names the holder (in a
 * shared run, the runner working on it).
 */
import type { Command } from '../../cli/command.js';
import { parseFlags } from '../../cli/flags.js';
import { heldByText } from '../../stateful/messages.js';
import { locate, openState, refuseArguments, STATE_FLAG_HELP, stateFlag, TEMPLATE_ARGUMENT_HELP } from './options.js';

export const stateListCommand: Command = {
  name: ['state', 'list'],
  synopsis: 'List the builds in the state',
  usage:
    'Usage: builder state list [options] [TEMPLATE]\n\n  Lists the builds recorded in the state, one per line: the build, its status, and who holds\n  its lock when another run is working on it.\n\n' +
    `${TEMPLATE_ARGUMENT_HELP}\n\nOptions:\n\n${STATE_FLAG_HELP}`,
  async run(args, ctx) {
    const { flags, args: positional } = parseFlags(args, stateFlag);
    const { location, rest } = locate(flags, positional, ctx);
    refuseArguments(rest);
    const m = await openState(location, ctx);
    if (!m.exists) {
      ctx.stderr.write(`No state at ${m.location}.\n`);
      return 0;
    }
    const keys = m.buildKeys().sort();
    // No spread of 100,000 arguments, no copy of each record, one write per 64 KiB (issue 15).
    const width = keys.reduce((w, k) => Math.max(w, k.length), 0);
    const held = await m.buildLocks();
    let out = '';
    for (const k of keys) {
      const status = m.buildStatus(k) ?? '';
      const lock = held.get(k);
      // a kept instance (docker: the container a failed build left for the next run to resume on)
      const kept = m.keptInstanceId(k);
      const extra = `${kept === undefined ? '' : `  kept instance ${kept}`}${lock ? `  ${heldByText(lock)}` : ''}`;
      out += `${k.padEnd(width)}  ${extra ? status.padEnd(8) : status}${extra}\n`;
      if (out.length >= 65536) {
        ctx.stdout.write(out);
        out = '';
      }
    }
    if (out !== '') ctx.stdout.write(out);
    return 0;
  },
};

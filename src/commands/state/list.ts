/** `builder state list`: the builds recorded in the state, one key per line, with their status. */
import type { Command } from '../../cli/command.js';
import { parseFlags } from '../../cli/flags.js';
import { openState, refuseArguments, STATE_FLAG_HELP, stateFlag } from './options.js';

export const stateListCommand: Command = {
  name: ['state', 'list'],
  synopsis: 'List the builds in the state',
  usage: `Usage: builder state list [options]\n\n  Lists the builds recorded in the state, one per line: the build key and its status.\n\nOptions:\n\n${STATE_FLAG_HELP}`,
  async run(args, ctx) {
    const { flags, args: rest } = parseFlags(args, stateFlag);
    refuseArguments(rest);
    const m = await openState({ state: flags.state }, ctx);
    if (!m.exists) {
      ctx.stderr.write(`No state at ${m.location}.\n`);
      return 0;
    }
    const keys = m.buildKeys().sort();
    const width = Math.max(0, ...keys.map((k) => k.length));
    for (const k of keys) ctx.stdout.write(`${k.padEnd(width)}  ${m.build(k)!.status}\n`);
    return 0;
  },
};

/** `builder state pull`: the current state, indented JSON with its checksum, on stdout. */
import type { Command } from '../../cli/command.js';
import { parseFlags } from '../../cli/flags.js';
import { encodeStateIndented } from '../../state/format.js';
import { StateNotFoundError } from '../../state/errors.js';
import { locate, openState, refuseArguments, STATE_FLAG_HELP, stateFlag } from './options.js';

export const statePullCommand: Command = {
  name: ['state', 'pull'],
  synopsis: 'Print the current state',
  usage:
    'Usage: builder state pull [options] [TEMPLATE]\n\n' +
    '  Prints the current state (the state file with its journal applied) as indented JSON.\n' +
    '  `builder state push` accepts what it prints.\n\n' +
    `Options:\n\n${STATE_FLAG_HELP}`,
  async run(args, ctx) {
    const { flags, args: positional } = parseFlags(args, stateFlag);
    const { location, rest } = locate(flags, positional, ctx);
    refuseArguments(rest);
    const m = await openState(location, ctx, { scoped: false });
    if (!m.exists) throw new StateNotFoundError(m.location);
    ctx.stdout.write(encodeStateIndented(m.snapshot()));
    return 0;
  },
};

/**
 * `builder state list [TEMPLATE]`: the builds recorded in the state, one per line, with their
 * status and, when a failed build kept its instance for a resume, that instance's id. With
 * TEMPLATE, that template's builds by their names in it; without, every build by its key in the
 * state (TEMPLATE-ID/BUILD).
 */
import type { Command } from '../../cli/command.js';
import { parseFlags } from '../../cli/flags.js';
import { locate, openState, refuseArguments, STATE_FLAG_HELP, stateFlag, TEMPLATE_ARGUMENT_HELP } from './options.js';

export const stateListCommand: Command = {
  name: ['state', 'list'],
  synopsis: 'List the builds in the state',
  usage:
    'Usage: builder state list [options] [TEMPLATE]\n\n  Lists the builds recorded in the state, one per line: the build and its status.\n\n' +
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
    const width = Math.max(0, ...keys.map((k) => k.length));
    for (const k of keys) {
      const b = m.build(k)!;
      // a kept instance (docker: the container a failed build left for the next run to resume on)
      const kept = b.instance?.keep_on_failure ? `  kept instance ${b.instance.id}` : '';
      ctx.stdout.write(`${k.padEnd(width)}  ${kept ? b.status.padEnd(8) : b.status}${kept}\n`);
    }
    return 0;
  },
};

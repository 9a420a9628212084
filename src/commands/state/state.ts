/** `builder state`: lists the state subcommands (each lives in its own file beside this one). */
import type { Command } from '../../cli/command.js';

const USAGE = `Usage: builder state <subcommand> [options] [args]

  Inspects and changes the state: the record of every build that lets a failed build resume and
  an unchanged build be skipped.

Subcommands:
    list       List the builds in the state
    show       Show the state, or one build in it
    rm         Forget builds recorded in the state
    pull       Print the current state
    push       Replace the state with a state file
    unlock     Break a lock on the state
    restore    Put the backup of the state back`;

export const stateCommand: Command = {
  name: ['state'],
  synopsis: 'Inspect and change the build state',
  usage: USAGE,
  async run(args, ctx) {
    if (args.length > 0 && !args[0]!.startsWith('-')) ctx.stderr.write(`builder state: unknown subcommand "${args[0]!}"\n\n`);
    ctx.stderr.write(`${USAGE}\n`);
    return args.length === 1 && /^--?h(elp)?$/.test(args[0]!) ? 0 : 1;
  },
};

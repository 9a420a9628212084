/** `builder state`: lists the state subcommands (each lives in its own file beside this one). */
import { commandGroup, type Command } from '../../cli/command.js';

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

export const stateCommand: Command = commandGroup('state', 'Inspect and change the build state', USAGE);

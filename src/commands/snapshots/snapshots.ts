/** `builder snapshots`: lists the snapshots subcommands (each lives in its own file beside this one). */
import { commandGroup, type Command } from '../../cli/command.js';

const USAGE = `Usage: builder snapshots <subcommand> [options] [TEMPLATE]

  Manages the snapshots builds take after each step (docker: images) so that a changed step
  rebuilds from the snapshot before it.

Subcommands:
    list       List the snapshots of the state's builds, recorded and orphaned
    prune      Remove orphaned snapshots (and, with -keep=N, all but each build's newest N)`;

export const snapshotsCommand: Command = commandGroup('snapshots', 'Manage the per-step snapshots of builds', USAGE);

/** `builder plugins`: lists the plugins subcommands (each lives in its own file beside this one). */
import { commandGroup, type Command } from '../../cli/command.js';

const USAGE = `Usage: builder plugins <subcommand> [options] [args]

  Shows the components builder can use: its native ones, those of Packer plugin binaries
  (packer-plugin-NAME), and the in-tree components of a Packer 1.x executable.

Subcommands:
    list       List every component found, its kind, source and version`;

export const pluginsCommand: Command = commandGroup('plugins', 'Show the components plugins provide', USAGE);

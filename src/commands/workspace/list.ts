/** `builder workspace list [TEMPLATE]`: every workspace of the state, the current one marked `*`. */
import type { Command } from '../../cli/command.js';
import { parseFlags } from '../../cli/flags.js';
import { backendOf } from '../../state/open.js';
import { locateWorkspace, WORKSPACE_TEMPLATE_HELP, workspaceFlags } from './options.js';

export const workspaceListCommand: Command = {
  name: ['workspace', 'list'],
  synopsis: 'List the workspaces',
  usage: `Usage: builder workspace list [options] [TEMPLATE]\n\n  Lists the workspaces, one per line; the current one is marked with *.\n\n${WORKSPACE_TEMPLATE_HELP}`,
  async run(args, ctx) {
    const { flags, args: rest } = parseFlags(args, workspaceFlags);
    const { location } = locateWorkspace(flags.state, rest, ctx, false);
    const names = await backendOf(location).workspaces(location);
    if (!names.includes(location.workspace)) names.push(location.workspace);
    for (const n of names) ctx.stdout.write(`${n === location.workspace ? '*' : ' '} ${n}\n`);
    return 0;
  },
};

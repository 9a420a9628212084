/** `builder workspace select [TEMPLATE] NAME`: makes NAME the current workspace. */
import type { Command } from '../../cli/command.js';
import { UserError } from '../../errors.js';
import { parseFlags } from '../../cli/flags.js';
import { backendOf } from '../../state/open.js';
import { locateWorkspace, selectWorkspace, warnIfOverridden, WORKSPACE_TEMPLATE_HELP, workspaceFlags } from './options.js';

export const workspaceSelectCommand: Command = {
  name: ['workspace', 'select'],
  synopsis: 'Select a workspace',
  usage: `Usage: builder workspace select [options] [TEMPLATE] NAME\n\n  Makes NAME the current workspace (recorded in .packer.d/environment).\n\n${WORKSPACE_TEMPLATE_HELP}`,
  async run(args, ctx) {
    const { flags, args: rest } = parseFlags(args, workspaceFlags);
    const { location, name } = locateWorkspace(flags.state, rest, ctx, true);
    const names = await backendOf(location).workspaces(location);
    if (!names.includes(name!)) {
      throw new UserError('WORKSPACE_NOT_FOUND', `no workspace "${name!}". Workspaces: ${names.join(', ')}. Create it with: builder workspace new ${name!}`);
    }
    selectWorkspace(location, name!);
    ctx.stdout.write(`Switched to workspace "${name!}".\n`);
    warnIfOverridden(location, ctx);
    return 0;
  },
};

/** `builder workspace new [TEMPLATE] NAME`: creates a workspace and selects it. */
import type { Command } from '../../cli/command.js';
import { UserError } from '../../errors.js';
import { parseFlags } from '../../cli/flags.js';
import { backendOf } from '../../state/open.js';
import { locateWorkspace, selectWorkspace, warnIfOverridden, WORKSPACE_TEMPLATE_HELP, workspaceFlags } from './options.js';

export const workspaceNewCommand: Command = {
  name: ['workspace', 'new'],
  synopsis: 'Create a workspace',
  usage: `Usage: builder workspace new [options] [TEMPLATE] NAME\n\n  Creates workspace NAME, with an empty state of its own, and selects it.\n\n${WORKSPACE_TEMPLATE_HELP}`,
  async run(args, ctx) {
    const { flags, args: rest } = parseFlags(args, workspaceFlags);
    const { location, name } = locateWorkspace(flags.state, rest, ctx, true);
    const backend = backendOf(location);
    if ((await backend.workspaces(location)).includes(name!)) {
      throw new UserError('WORKSPACE_EXISTS', `workspace "${name!}" already exists. Select it with: builder workspace select ${name!}`);
    }
    await backend.createWorkspace(location, name!);
    selectWorkspace(location, name!);
    ctx.stdout.write(`Created and selected workspace "${name!}". Its builds, locks and lineage are its own.\n`);
    warnIfOverridden(location, ctx);
    return 0;
  },
};

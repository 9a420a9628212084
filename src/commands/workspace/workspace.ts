/** `builder workspace`: lists the workspace subcommands (each lives in its own file beside this one). */
import { commandGroup, type Command } from '../../cli/command.js';

const USAGE = `Usage: builder workspace <subcommand> [options] [TEMPLATE] [NAME]

  Workspaces, as in Terraform: each has its own builds, locks and lineage, so one template can be
  built for several environments (dev, prod: -var-file=dev.pkrvars.hcl in one, prod in another)
  without their records replacing each other. \`default\` always exists. The current workspace
  is the one -workspace=NAME names, else BUILDER_WORKSPACE, else the selected one (\`workspace
  select\`).

Subcommands:
    list       List the workspaces, marking the current one
    show       Print the current workspace's name
    new        Create a workspace (and select it)
    select     Select a workspace
    delete     Delete a workspace`;

export const workspaceCommand: Command = commandGroup('workspace', 'Manage workspaces: separate states of one template', USAGE);

/**
 * `builder workspace delete [-force] [TEMPLATE] NAME`: deletes a workspace and its state.
 * `default` is never deleted. The current workspace, and one whose state still records builds
 * (whose kept instances would be forgotten), are refused without -force; a workspace another run
 * holds a lock on is refused even with -force.
 */
import type { Command } from '../../cli/command.js';
import { UserError } from '../../errors.js';
import { parseFlags } from '../../cli/flags.js';
import { DEFAULT_WORKSPACE, workspaceStatePath } from '../../state/location.js';
import { backendOf, openState } from '../../state/open.js';
import { warner } from '../state/options.js';
import { locateWorkspace, selectWorkspace, WORKSPACE_TEMPLATE_HELP, workspaceFlags } from './options.js';

export const workspaceDeleteCommand: Command = {
  name: ['workspace', 'delete'],
  synopsis: 'Delete a workspace',
  usage:
    'Usage: builder workspace delete [options] [TEMPLATE] NAME\n\n' +
    '  Deletes workspace NAME and its state. Refused for the current workspace and for one whose state\n' +
    '  still records builds, unless -force.\n\n' +
    `${WORKSPACE_TEMPLATE_HELP}\n  -force                 Delete even a current or non-empty workspace.`,
  async run(args, ctx) {
    const { flags, args: rest } = parseFlags(args, { ...workspaceFlags, force: { kind: 'bool' } });
    const { location, name } = locateWorkspace(flags.state, rest, ctx, true);
    if (name === DEFAULT_WORKSPACE) throw new UserError('WORKSPACE_INVALID', 'the default workspace cannot be deleted.');
    const backend = backendOf(location);
    const names = await backend.workspaces(location);
    if (!names.includes(name!)) throw new UserError('WORKSPACE_NOT_FOUND', `no workspace "${name!}". Workspaces: ${names.join(', ')}.`);
    const current = location.workspace === name;
    if (current && !flags.force) {
      throw new UserError(
        'WORKSPACE_NOT_EMPTY',
        `workspace "${name!}" is the current workspace. Select another first (builder workspace select default), or pass -force.`,
      );
    }
    const path = location.backend === 'file' ? workspaceStatePath(location.base, name!) : location.path;
    const m = await openState({ ...location, workspace: name!, path, template: undefined }, { onWarning: warner(ctx), signal: ctx.signal });
    try {
      const builds = m.buildKeys();
      if (builds.length > 0 && !flags.force) {
        throw new UserError(
          'WORKSPACE_NOT_EMPTY',
          `workspace "${name!}" still records ${builds.length} build(s) (${builds.slice(0, 5).join(', ')}${builds.length > 5 ? ', …' : ''}); ` +
            'deleting it forgets them and any instance they kept. Pass -force to delete it anyway.',
        );
      }
      await m.lockState('workspace delete');
    } finally {
      await m.close();
    }
    await backend.deleteWorkspace(location, name!);
    if (current && location.workspaceFrom === 'selected') selectWorkspace(location, DEFAULT_WORKSPACE);
    ctx.stdout.write(`Deleted workspace "${name!}".${current ? ' The current workspace is now "default".' : ''}\n`);
    return 0;
  },
};

/**
 * The command table. Each command lives in its own file under src/commands/ and is listed here
 * once, with its words, its synopsis and a lazy import; `main.ts` picks the longest match of
 * command words and loads only that command.
 */
import type { Command, CommandEntry } from './command.js';

function entry(name: readonly string[], synopsis: string, load: () => Promise<Command>): CommandEntry {
  return { name, synopsis, load };
}

export const commands: readonly CommandEntry[] = [
  entry(['version'], 'Prints the builder version', async () => (await import('../commands/version.js')).versionCommand),
  entry(['fmt'], 'Rewrites HCL2 config files to canonical format', async () => (await import('../commands/fmt.js')).fmtCommand),
  entry(['validate'], 'Check that a template is valid', async () => (await import('../commands/validate.js')).validateCommand),
  entry(['inspect'], 'See components of a template', async () => (await import('../commands/inspect.js')).inspectCommand),
  entry(['console'], 'Creates a console for testing variable interpolation', async () => (await import('../commands/console.js')).consoleCommand),
  entry(['hcl2_upgrade'], 'transform a JSON template into an HCL2 configuration', async () => (await import('../commands/hcl2_upgrade.js')).hcl2UpgradeCommand),
  entry(['fix'], 'fixes templates from old versions of packer', async () => (await import('../commands/fix.js')).fixCommand),
  entry(['build'], 'Build image(s) from template', async () => (await import('../commands/build.js')).buildCommand),
  entry(['plan'], 'Show what a build would do, and why', async () => (await import('../commands/plan.js')).planCommand),
  entry(['state'], 'Inspect and change the build state', async () => (await import('../commands/state/state.js')).stateCommand),
  entry(['state', 'list'], 'List the builds in the state', async () => (await import('../commands/state/list.js')).stateListCommand),
  entry(['state', 'show'], 'Show the state, or one build in it', async () => (await import('../commands/state/show.js')).stateShowCommand),
  entry(['state', 'rm'], 'Forget builds recorded in the state', async () => (await import('../commands/state/rm.js')).stateRmCommand),
  entry(['state', 'pull'], 'Print the current state', async () => (await import('../commands/state/pull.js')).statePullCommand),
  entry(['state', 'push'], 'Replace the state with a state file', async () => (await import('../commands/state/push.js')).statePushCommand),
  entry(['state', 'unlock'], 'Break a lock on the state', async () => (await import('../commands/state/unlock.js')).stateUnlockCommand),
  entry(['state', 'restore'], 'Put the backup of the state back', async () => (await import('../commands/state/restore.js')).stateRestoreCommand),
  entry(['plugins'], 'Show the components plugins provide', async () => (await import('../commands/plugins/plugins.js')).pluginsCommand),
  entry(['plugins', 'list'], 'List every component found, its kind, source and version', async () => (await import('../commands/plugins/list.js')).pluginsListCommand),
  entry(['snapshots'], 'Manage the per-step snapshots of builds', async () => (await import('../commands/snapshots/snapshots.js')).snapshotsCommand),
  entry(['snapshots', 'list'], "List the snapshots of the state's builds", async () => (await import('../commands/snapshots/list.js')).snapshotsListCommand),
  entry(['snapshots', 'prune'], 'Remove orphaned snapshots, and all but the newest N per build', async () => (await import('../commands/snapshots/prune.js')).snapshotsPruneCommand),
  entry(['workspace'], 'Manage workspaces: separate states of one template', async () => (await import('../commands/workspace/workspace.js')).workspaceCommand),
  entry(['workspace', 'list'], 'List the workspaces', async () => (await import('../commands/workspace/list.js')).workspaceListCommand),
  entry(['workspace', 'show'], 'Print the current workspace', async () => (await import('../commands/workspace/show.js')).workspaceShowCommand),
  entry(['workspace', 'new'], 'Create a workspace', async () => (await import('../commands/workspace/new.js')).workspaceNewCommand),
  entry(['workspace', 'select'], 'Select a workspace', async () => (await import('../commands/workspace/select.js')).workspaceSelectCommand),
  entry(['workspace', 'delete'], 'Delete a workspace', async () => (await import('../commands/workspace/delete.js')).workspaceDeleteCommand),
];

/**
 * Where the state is: the one resolver `build`, `plan`, every `state` and every `workspace`
 * command use, so that the same arguments find the same state from any folder.
 *
 * The state (of the default workspace) is, in this order:
 *   1. `-state=PATH|URL`;
 *   2. BUILDER_STATE (a path or a URL), else BUILDER_STATE_PATH (a path; the older name);
 *   3. `<template folder>/.packer.d/builder-state.json` when the command names a template;
 *   4. `./.packer.d/builder-state.json` (a `state` command run in the template's folder).
 * Relative paths are taken from the folder builder runs in. A URL's scheme picks the backend
 * (src/state/open.ts): `file://`, `memory://` (tests), `postgres://`.
 *
 * The workspace is `-workspace=NAME`, else BUILDER_WORKSPACE, else the one `builder workspace
 * select` recorded in the environment file, else `default`. For the file backend the default
 * workspace's state is the file above and workspace NAME's is `<its folder>/workspaces/NAME/<its
 * name>`; the environment file is `<its folder>/environment` (`.packer.d/environment` by default).
 * Other backends keep workspaces themselves; their environment file is `.packer.d/environment` in
 * the template's folder (or the current one).
 *
 * A state path that names a folder is refused here with one message naming the flag or variable
 * it came from (it used to end in an internal EISDIR).
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import { shellQuote } from './errors.js';
import { templateId, type TemplateRef } from './identity.js';

export const STATE_FOLDER = '.packer.d';
export const STATE_FILE_NAME = 'builder-state.json';
export const DEFAULT_STATE_PATH = join(STATE_FOLDER, STATE_FILE_NAME);
export const DEFAULT_WORKSPACE = 'default';
/** Names of the file backend's workspace folders and selection file, beside the default state. */
export const WORKSPACES_FOLDER = 'workspaces';
export const ENVIRONMENT_FILE = 'environment';

/** Where the state's location came from: what a message tells the user to change. */
export type LocationSource = 'flag' | 'BUILDER_STATE' | 'BUILDER_STATE_PATH' | 'template' | 'cwd';
export type WorkspaceSource = 'flag' | 'BUILDER_WORKSPACE' | 'selected' | 'default';

export interface StateLocation {
  /** The backend, by URL scheme: 'file' for paths (see src/state/open.ts for the table). */
  backend: string;
  /** The default workspace's state: an absolute file path, or the URL. */
  base: string;
  /** The chosen workspace's state: a file path for the file backend, else the URL (the backend
   * adds the workspace itself). */
  path: string;
  workspace: string;
  workspaceFrom: WorkspaceSource;
  /** Where `builder workspace select` records the selected workspace. */
  environmentFile: string;
  from: LocationSource;
  /** The template, when the command named one. */
  template?: { ref: TemplateRef; id: string };
  /** The -state flag exactly as given, for hints that must name the same state. */
  stateFlag?: string;
}

export interface LocationInputs {
  /** -state, as given. */
  state?: string;
  /** -workspace, as given. */
  workspace?: string;
  template?: TemplateRef;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

const URL_FORM = /^([a-z][a-z0-9+.-]*):\/\//i;

/** What a message says to change, by where the location came from. */
export function locationSetting(from: LocationSource): string {
  switch (from) {
    case 'flag':
      return '-state';
    case 'BUILDER_STATE':
    case 'BUILDER_STATE_PATH':
      return from;
    default:
      return '-state=PATH (or BUILDER_STATE=PATH)';
  }
}

/** Refuses a workspace name that cannot be a folder name or a key: letters, digits, `_`, `-`, `.`. */
export function checkWorkspaceName(name: string, where: string): void {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(name)) {
    throw new UserError(
      'WORKSPACE_INVALID',
      `${where} "${name}" is not a valid workspace name: use up to 64 letters, digits, "_", "-" or "." (not first).`,
    );
  }
}

/** Resolves the state's location (see the module comment). Throws a UserError for a bad one. */
export function resolveStateLocation(inputs: LocationInputs): StateLocation {
  const { env, cwd, template } = inputs;
  let given: string | undefined;
  let from: LocationSource;
  if (inputs.state !== undefined && inputs.state !== '') [given, from] = [inputs.state, 'flag'];
  else if (env.BUILDER_STATE) [given, from] = [env.BUILDER_STATE, 'BUILDER_STATE'];
  else if (env.BUILDER_STATE_PATH) [given, from] = [env.BUILDER_STATE_PATH, 'BUILDER_STATE_PATH'];
  else if (template) [given, from] = [join(template.root, DEFAULT_STATE_PATH), 'template'];
  else [given, from] = [DEFAULT_STATE_PATH, 'cwd'];

  let backend = 'file';
  let base: string;
  const url = URL_FORM.exec(given);
  if (url && from !== 'BUILDER_STATE_PATH') {
    backend = url[1]!.toLowerCase();
    if (backend === 'postgresql') backend = 'postgres';
    base = backend === 'file' ? fileURLToPath(given) : given;
  } else {
    base = resolve(cwd, given);
  }
  if (backend === 'file') refuseFolder(base, from);

  const environmentFile =
    backend === 'file' ? join(dirname(base), ENVIRONMENT_FILE) : resolve(cwd, template?.root ?? '.', STATE_FOLDER, ENVIRONMENT_FILE);
  let workspace: string;
  let workspaceFrom: WorkspaceSource;
  if (inputs.workspace !== undefined && inputs.workspace !== '') [workspace, workspaceFrom] = [inputs.workspace, 'flag'];
  else if (env.BUILDER_WORKSPACE) [workspace, workspaceFrom] = [env.BUILDER_WORKSPACE, 'BUILDER_WORKSPACE'];
  else {
    const selected = readSelection(environmentFile);
    [workspace, workspaceFrom] = selected ? [selected, 'selected'] : [DEFAULT_WORKSPACE, 'default'];
  }
  checkWorkspaceName(workspace, workspaceFrom === 'flag' ? '-workspace' : workspaceFrom === 'selected' ? `the workspace selected in ${environmentFile}` : workspaceFrom);

  const location: StateLocation = {
    backend,
    base,
    path: backend === 'file' ? workspaceStatePath(base, workspace) : base,
    workspace,
    workspaceFrom,
    environmentFile,
    from,
  };
  if (template) location.template = { ref: template, id: templateId(template) };
  if (from === 'flag') location.stateFlag = inputs.state;
  return location;
}

/** The file backend's state of `workspace`, given the default workspace's state file. */
export function workspaceStatePath(base: string, workspace: string): string {
  return workspace === DEFAULT_WORKSPACE ? base : join(dirname(base), WORKSPACES_FOLDER, workspace, basename(base));
}

/** The workspace `builder workspace select` recorded, if any. */
function readSelection(file: string): string | undefined {
  try {
    const name = readFileSync(file, 'utf8').trim();
    return name === '' ? undefined : name;
  } catch {
    return undefined;
  }
}

function refuseFolder(path: string, from: LocationSource): void {
  let folder = false;
  try {
    folder = statSync(path).isDirectory();
  } catch {
    return; // absent (a new state) or unreadable: reading it says why
  }
  if (!folder) return;
  const example = join(path, STATE_FILE_NAME);
  const setting = from === 'flag' ? `-state=${example}` : from === 'BUILDER_STATE' || from === 'BUILDER_STATE_PATH' ? `${from}=${example}` : example;
  throw new UserError(
    'STATE_LOCATION',
    `the state ${path}${from === 'flag' ? ' (from -state)' : from === 'template' || from === 'cwd' ? '' : ` (from ${from})`} is a folder; ` +
      `the state is one file. Name a file in it, for example ${setting}.`,
  );
}

/**
 * The command line of `builder SUBCOMMAND…` that works on the same state and template as the
 * command that resolved `location`, from the same folder: `-state` when it was given as a flag
 * (the environment variables carry over to the next command by themselves), `-workspace` for any
 * workspace but the default (a later `workspace select` must not redirect a printed hint), the
 * template as it was given, then `args`. Everything is quoted for a POSIX shell.
 * Example: `builder state rm tpl/resume-demo.pkr.hcl resume-demo.null.demo`.
 */
export function commandFor(location: StateLocation, words: readonly string[], args: readonly string[]): string {
  const parts = ['builder', ...words];
  if (location.stateFlag !== undefined) parts.push(`-state=${shellQuote(location.stateFlag)}`);
  if (location.workspace !== DEFAULT_WORKSPACE) parts.push(`-workspace=${shellQuote(location.workspace)}`);
  if (location.template) parts.push(shellQuote(location.template.ref.path));
  for (const a of args) parts.push(shellQuote(a));
  return parts.join(' ');
}

/** The command that forgets one build (and discards its kept instance): what build's hints print. */
export function stateRmCommand(location: StateLocation, buildName: string): string {
  return commandFor(location, ['state', 'rm'], [buildName]);
}

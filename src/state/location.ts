/**
 * Where the state file is: `-state PATH`, else BUILDER_STATE_PATH, else
 * `.packer.d/builder-state.json` in the current folder. Relative paths are taken from `cwd`.
 */
import { join, resolve } from 'node:path';

export const DEFAULT_STATE_PATH = join('.packer.d', 'builder-state.json');

export function resolveStatePath(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  const given = flag !== undefined && flag !== '' ? flag : env.BUILDER_STATE_PATH || DEFAULT_STATE_PATH;
  return resolve(cwd, given);
}

/**
 * Where `builder build` keeps its state: `-state PATH`, else BUILDER_STATE_PATH, else
 * `.packer.d/builder-state.json` next to the template (in the template's folder).
 */
export function buildStatePath(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string, templateRoot: string): string {
  if ((flag !== undefined && flag !== '') || env.BUILDER_STATE_PATH) return resolveStatePath(flag, env, cwd);
  return resolve(cwd, templateRoot, DEFAULT_STATE_PATH);
}

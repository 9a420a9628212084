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

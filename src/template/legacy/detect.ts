/**
 * Which templates are legacy JSON templates: a file (not a folder) whose name ends in `.json` but
 * not `.pkr.json`, or any JSON file whose top-level object has `builders` (a `.pkr.json` file
 * written in the legacy format). Packer 1.6.6 decides the same way: `.pkr.json` is HCL2's JSON
 * syntax, any other file is read as a legacy template.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

/** The absolute path of the legacy template `path` names, or undefined when it is not one. */
export function legacyTemplateFile(path: string, cwd: string): string | undefined {
  const full = resolve(cwd, path);
  try {
    if (!statSync(full).isFile()) return undefined;
  } catch {
    return undefined;
  }
  if (!full.endsWith('.json')) return undefined;
  if (!full.endsWith('.pkr.json')) return full;
  try {
    const root: unknown = JSON.parse(readFileSync(full, 'utf8'));
    return root !== null && typeof root === 'object' && !Array.isArray(root) && Object.hasOwn(root, 'builders') ? full : undefined;
  } catch {
    return undefined;
  }
}

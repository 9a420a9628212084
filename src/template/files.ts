/**
 * Finding and parsing the files of a template (Packer's GetHCL2Files): a path names one file or a
 * folder. In a folder, `*.pkr.hcl` then `*.pkr.json` files make the configuration and
 * `*.auto.pkrvars.hcl` / `*.auto.pkrvars.json` files supply variable values; each list is in
 * lexical order. Sub-folders are not read.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { errorDiag, type Diagnostic } from '../diagnostics.js';
import { systemErrorDetail } from '../errors.js';
import type { File } from '../hcl/ast.js';
import { parseConfig } from '../hcl/parser.js';
import { parseJsonConfig } from '../hcl/json.js';

export interface TemplateFiles {
  /** The folder of the template (`path.root`), as Packer gives it: the path as the user wrote it
   * for a folder, its `dirname` for a file (so it is relative when the path was, e.g. "."). */
  root: string;
  /** Configuration files: HCL ones first, then JSON ones, each in lexical order. */
  configFiles: string[];
  /** `*.auto.pkrvars.hcl` then `*.auto.pkrvars.json`, each in lexical order (folder only). */
  autoVarFiles: string[];
  diagnostics: Diagnostic[];
}

const isHcl = (name: string): boolean => name.endsWith('.pkr.hcl');
const isJson = (name: string): boolean => name.endsWith('.pkr.json');
const isAutoVars = (name: string): boolean => /\.auto\.pkrvars\.(hcl|json)$/.test(name);

function lexical(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function findTemplateFiles(path: string, cwd: string): TemplateFiles {
  const full = resolve(cwd, path);
  let stat;
  try {
    stat = statSync(full);
  } catch {
    return {
      root: dirname(full),
      configFiles: [],
      autoVarFiles: [],
      diagnostics: [errorDiag(`Could not find any config file in ${path}`, `The path "${path}" does not exist. Give a file ending in .pkr.hcl or .pkr.json, or a folder holding such files.`)],
    };
  }
  if (!stat.isDirectory()) {
    const name = basename(full);
    if (!isHcl(name) && !isJson(name)) {
      return {
        root: dirname(full),
        configFiles: [],
        autoVarFiles: [],
        diagnostics: [
          errorDiag(
            `Could not find any config file in ${path}`,
            'A config file must be suffixed with `.pkr.hcl` or `.pkr.json` (or `.json` for a legacy JSON template). A folder can be referenced.',
          ),
        ],
      };
    }
    return { root: dirname(path), configFiles: [full], autoVarFiles: [], diagnostics: [] };
  }
  const names = readdirSync(full).sort(lexical).filter((n) => statSync(join(full, n)).isFile());
  const rel = (n: string): string => join(path, n);
  const configFiles = [...names.filter(isHcl), ...names.filter(isJson)].map(rel);
  const autoVarFiles = [...names.filter((n) => isAutoVars(n) && n.endsWith('.hcl')), ...names.filter((n) => isAutoVars(n) && n.endsWith('.json'))].map(rel);
  const diagnostics: Diagnostic[] = [];
  if (configFiles.length === 0) {
    diagnostics.push(errorDiag(`Could not find any config file in ${path}`, 'A config file must be suffixed with `.pkr.hcl` or `.pkr.json`. A folder can be referenced.'));
  }
  return { root: path, configFiles: configFiles.map((f) => resolve(cwd, f)), autoVarFiles: autoVarFiles.map((f) => resolve(cwd, f)), diagnostics };
}

/**
 * Parses one file: JSON syntax when the name ends in `.json`, native syntax otherwise.
 * `displayName` is the name diagnostics show (the path as the user wrote it, relative to cwd).
 */
export function parseTemplateFile(path: string, displayName: string): { file?: File; diagnostics: Diagnostic[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { diagnostics: [errorDiag('Failed to read file', `The file "${displayName}" could not be read: ${systemErrorDetail(e)}.`)] };
  }
  return path.endsWith('.json') ? parseJsonConfig(text, displayName) : parseConfig(text, displayName);
}

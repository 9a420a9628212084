/**
 * Which template a build record belongs to, and the key it is stored under.
 *
 * A template is either one file (`ubuntu.pkr.hcl`: that file alone is the template, even when
 * other templates share its folder) or a folder (every `.pkr.hcl`/`.pkr.json` in it is one
 * template). Its id is stable however the template is named on the command line and from
 * whichever folder builder runs: the file's name for a single-file template, "." for a folder
 * template. Ids never contain "/", so a build key `<template id>/<build name>` splits
 * unambiguously at its first "/" even when a build name contains one.
 *
 * The default state lives in the template's folder (`<root>/.packer.d/`), so ids only need to be
 * unique within one folder, which file names are. A state shared by templates of several folders
 * (`-state`, BUILDER_STATE) that hold files of the same name keeps them apart with workspaces.
 */
import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';

/** The id of a folder template. */
export const FOLDER_TEMPLATE_ID = '.';

export type TemplateKind = 'file' | 'folder';

/** A template as the state knows it: where it is, and whether it is one file or a folder. */
export interface TemplateRef {
  /** The path as the user gave it (relative to the folder builder runs in, or absolute). */
  path: string;
  /** The template's folder: the folder itself, or the file's folder. */
  root: string;
  kind: TemplateKind;
}

/** A loaded template's ref: a folder template's root is its path (see src/template/files.ts). */
export function templateRef(template: { path: string; root: string }, cwd: string): TemplateRef {
  const folder = resolve(cwd, template.path) === resolve(cwd, template.root);
  return { path: template.path, root: template.root, kind: folder ? 'folder' : 'file' };
}

const TEMPLATE_FILE = /\.pkr\.(hcl|json)$/;

/**
 * The ref of a TEMPLATE argument of a `state` or `workspace` command, without loading the
 * template: an existing folder is a folder template, an existing file (or a missing path whose name
 * ends in .pkr.hcl or .pkr.json — a template since removed) a single-file template.
 * Returns undefined when `arg` is neither (it is then not a template argument).
 */
export function templateRefFromArgument(arg: string, cwd: string): TemplateRef | undefined {
  const full = resolve(cwd, arg);
  let isDir: boolean | undefined;
  try {
    isDir = statSync(full).isDirectory();
  } catch {
    isDir = undefined;
  }
  if (isDir === true) return { path: arg, root: arg, kind: 'folder' };
  if (isDir === false || TEMPLATE_FILE.test(arg)) {
    const slash = arg.lastIndexOf('/');
    return { path: arg, root: slash < 0 ? '.' : slash === 0 ? '/' : arg.slice(0, slash), kind: 'file' };
  }
  return undefined;
}

/** The template's id in the state: the file's name, or "." for a folder. */
export function templateId(template: TemplateRef): string {
  return template.kind === 'folder' ? FOLDER_TEMPLATE_ID : basename(template.path);
}

/**
 * The id a pre-version-3 state's `template.path` names (the path as it was given then): a file
 * name ending in .pkr.hcl/.pkr.json is that file's template, anything else a folder's; an
 * empty path (a state that never recorded one) is taken as the folder's.
 */
export function templateIdOfRecordedPath(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return TEMPLATE_FILE.test(trimmed) ? basename(trimmed) : FOLDER_TEMPLATE_ID;
}

/** The key of a build in the state's `builds`: `<template id>/<build name>`. */
export function buildKey(id: string, buildName: string): string {
  if (id === '' || id.includes('/')) throw new Error(`invalid template id ${JSON.stringify(id)}`);
  return `${id}/${buildName}`;
}

/** The inverse of buildKey; undefined for a key without a template (written by hand or by a test). */
export function parseBuildKey(key: string): { templateId: string; buildName: string } | undefined {
  const slash = key.indexOf('/');
  if (slash <= 0) return undefined;
  return { templateId: key.slice(0, slash), buildName: key.slice(slash + 1) };
}

/**
 * Filesystem functions (go-cty-funcs' filesystem package, Packer's `filebase64` and
 * `templatefile`). Every file read is reported through `ctx.onFileRead` with its absolute path.
 */
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { posix, resolve } from 'node:path';
import type * as Minimatch from 'minimatch';
import { rangeString } from '../diagnostics.js';
import { parseTemplate } from '../hcl/parser.js';
import { variablesOf } from '../hcl/traversals.js';
import { T, Value } from '../values/value.js';
import { define, param } from './support.js';
import { FunctionArgError, FunctionError, type FunctionCallContext } from './types.js';
import { lazyRequire } from '../lazy-require.js';

/** minimatch, loaded when `fileset` first runs. */
const minimatch = lazyRequire<typeof Minimatch>('minimatch');

const string = T.string;

/** Go's filepath.Clean for slash-separated paths. */
export function goClean(p: string): string {
  if (p === '') return '.';
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** go-homedir's Expand: a leading `~` or `~/` becomes the home folder. */
export function expandHome(p: string): string {
  if (!p.startsWith('~')) return p;
  if (p.length > 1 && p[1] !== '/' && p[1] !== '\\') throw new FunctionError('cannot expand user-specific home dir');
  return homedir() + p.slice(1);
}

/** A path as the file functions open it: `~` expanded, relative to the template folder, cleaned. */
function templatePath(ctx: FunctionCallContext, p: string): string {
  let expanded: string;
  try {
    expanded = expandHome(p);
  } catch (e) {
    throw new FunctionError(`failed to expand ~: ${(e as Error).message}`);
  }
  return goClean(posix.isAbsolute(expanded) ? expanded : posix.join(ctx.baseDir, expanded));
}

function readFile(ctx: FunctionCallContext, shown: string): Buffer {
  const abs = resolve(ctx.cwd, shown);
  let data: Buffer;
  try {
    data = readFileSync(abs);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new FunctionError(`no file exists at ${shown}`);
    throw new FunctionError(`failed to read ${shown}`);
  }
  ctx.onFileRead?.(abs);
  return data;
}

function utf8(data: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    return undefined;
  }
}

function readTextFile(ctx: FunctionCallContext, p: string): { text: string; path: string } {
  const path = templatePath(ctx, p);
  const text = utf8(readFile(ctx, path));
  if (text === undefined) {
    throw new FunctionError(
      `contents of ${path} are not valid UTF-8; use the filebase64 function to obtain the Base64 encoded contents or the other file functions (e.g. filemd5, filesha256) to obtain file hashing results instead`,
    );
  }
  return { text, path };
}

export const file = define({
  params: [param('path', string)],
  returnType: string,
  impl: ([p], ctx) => Value.string(readTextFile(ctx, p!.asString()).text),
});

export const filebase64 = define({
  params: [param('path', string)],
  returnType: string,
  impl: ([p], ctx) => {
    const path = p!.asString();
    const abs = resolve(ctx.cwd, path);
    let data: Buffer;
    try {
      data = readFileSync(abs);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EISDIR' ? 'is a directory' : err.message;
      throw new FunctionError(`failed to read file ${JSON.stringify(path)}: ${err.code === 'EISDIR' ? 'read' : 'open'} ${path}: ${why}`);
    }
    ctx.onFileRead?.(abs);
    return Value.string(data.toString('base64'));
  },
});

/** Go's FileMode.String() for the type and permission bits. */
function goModeString(st: Stats): string {
  const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'L' : st.isFIFO() ? 'p' : st.isSocket() ? 'S' : st.isCharacterDevice() ? 'Dc' : st.isBlockDevice() ? 'D' : '';
  const rwx = 'rwxrwxrwx';
  let perm = '';
  for (let i = 0; i < 9; i++) perm += st.mode & (1 << (8 - i)) ? rwx[i] : '-';
  return (type || '-') + perm;
}

export const fileexists = define({
  params: [param('path', string)],
  returnType: T.bool,
  impl: ([p], ctx) => {
    const path = templatePath(ctx, p!.asString());
    let st: Stats;
    try {
      st = statSync(resolve(ctx.cwd, path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return Value.bool(false);
      throw new FunctionError(`failed to stat ${path}`);
    }
    if (st.isFile()) return Value.bool(true);
    throw new FunctionError(`${path} is not a regular file, but ${JSON.stringify(goModeString(st))}`);
  },
});

function walkFiles(root: string, rel: string, out: string[]): void {
  let entries;
  try {
    entries = readdirSync(posix.join(root, rel), { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) walkFiles(root, r, out);
    else {
      try {
        if (statSync(posix.join(root, r)).isFile()) out.push(r);
      } catch {
        // a dangling link is not a file
      }
    }
  }
}

export const fileset = define({
  params: [param('path', string), param('pattern', string)],
  returnType: T.set(string),
  impl: ([p, pat], ctx) => {
    const base = templatePath(ctx, p!.asString());
    const pattern = goClean(pat!.asString());
    const all: string[] = [];
    walkFiles(resolve(ctx.cwd, base), '', all);
    const matches = all.filter((f) => minimatch().minimatch(f, pattern, { dot: true }));
    return Value.set(matches.map((m) => Value.string(m)), string);
  },
});

export const abspath = define({
  params: [param('path', string)],
  returnType: string,
  impl: ([p], ctx) => Value.string(resolve(ctx.cwd, p!.asString())),
});

export const basename = define({
  params: [param('path', string)],
  returnType: string,
  impl: ([p]) => {
    const s = p!.asString();
    if (s === '') return Value.string('.');
    const trimmed = s.replace(/\/+$/, '');
    if (trimmed === '') return Value.string('/');
    return Value.string(trimmed.slice(trimmed.lastIndexOf('/') + 1));
  },
});

export const dirname = define({
  params: [param('path', string)],
  returnType: string,
  impl: ([p]) => {
    const s = p!.asString();
    return Value.string(goClean(s.slice(0, s.lastIndexOf('/') + 1)));
  },
});

export const pathexpand = define({
  params: [param('path', string)],
  returnType: string,
  impl: ([p]) => Value.string(expandHome(p!.asString())),
});

const IDENTIFIER = /^[\p{ID_Start}_][\p{ID_Continue}-]*$/u;

export const templatefile = define({
  params: [param('path', string), param('vars', T.dynamic)],
  impl: ([p, vars], ctx) => {
    if (!ctx.renderTemplate) throw new FunctionError('templatefile is not available here');
    const { text, path } = readTextFile(ctx, p!.asString());
    if (!vars!.isMapping) throw new FunctionArgError(1, 'invalid vars value: must be a map');
    for (const name of vars!.entries().keys()) {
      if (!IDENTIFIER.test(name)) {
        throw new FunctionArgError(1, `invalid template variable name ${JSON.stringify(name)}: must start with a letter, followed by zero or more letters, digits, and underscores`);
      }
    }
    // Checked here, as Packer does, for a clearer message than the template's own evaluation gives.
    const parsed = parseTemplate(text, path);
    if (!parsed.diagnostics.some((d) => d.severity === 'error')) {
      for (const ref of variablesOf(parsed.expr)) {
        if (!vars!.entries().has(ref.root)) {
          throw new FunctionArgError(1, `vars map does not contain key ${JSON.stringify(ref.root)}, referenced at ${rangeString(ref.range)}`);
        }
      }
    }
    return ctx.renderTemplate(text, path, vars!.entries());
  },
});

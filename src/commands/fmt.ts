/**
 * `builder fmt [-check] [-diff] [-write=false] [-recursive] PATH…|-` — rewrites HCL2 templates
 * (`*.pkr.hcl`) and variable files (`*.pkrvars.hcl`) in Packer's canonical layout
 * (see src/hcl/format.ts), with current Packer's command semantics:
 *
 * - A directory means the template and variable files directly in it; `-recursive` adds its
 *   subfolders. Hidden files and editor leftovers (`.x`, `x~`, `#x#`) are skipped. A file named
 *   explicitly must be a `.pkr.hcl` or `.pkrvars.hcl` file.
 * - The name of every file whose layout changes is printed on stdout (followed by its unified
 *   diff with `-diff`); the file is rewritten unless `-write=false` or `-check`.
 * - `-` formats stdin to stdout (the text is written back unchanged when it is already
 *   formatted; nothing is written when it would change and writing is off).
 * - Exit 0, or 3 with `-check` when some file would change, or 1 when some file could not be
 *   read or has syntax errors (all such problems are reported; the other files are still done).
 */
import { readdirSync, readFileSync, statSync, writeFileSync, type Dirent } from 'node:fs';
import { join, resolve } from 'node:path';
import { structuredPatch } from 'diff';
import type { Command, CommandContext } from '../cli/command.js';
import { UsageError } from '../errors.js';
import { parseFlags } from '../cli/flags.js';
import { errorDiag, formatDiagnostics, type Diagnostic } from '../diagnostics.js';
import { formatSource } from '../hcl/format.js';

const usage = `Usage: builder fmt [options] PATH...

  Rewrites Packer HCL2 configuration files to the canonical format. Both
  configuration files (.pkr.hcl) and variable files (.pkrvars.hcl) are updated;
  JSON files are not. PATH is a file or a directory ("." for the current one);
  "-" reads a template from stdin and writes the formatted text to stdout.
  The names of the files whose layout changed are printed.

Options:
  -check        Check whether the input is formatted. Exit status is 0 when all
                input is properly formatted and 3 otherwise; nothing is written.
  -diff         Display the diff of each formatting change.
  -write=false  Don't write to the source files (always disabled with -check).
  -recursive    Also process files in subdirectories. By default only the
                given directory is processed.`;

/** The name stdin's text is given in diagnostics. */
const STDIN_NAME = '<stdin>';

interface FmtOptions {
  check: boolean;
  diff: boolean;
  write: boolean;
  recursive: boolean;
}

/** What one run did: how many files changed, and the problems met on the way. */
interface FmtRun {
  changed: number;
  diagnostics: Diagnostic[];
  sources: Map<string, string>;
}

export const fmtCommand: Command = {
  name: ['fmt'],
  synopsis: 'Rewrites HCL2 config files to canonical format',
  usage,
  async run(args, ctx) {
    const { flags, args: paths } = parseFlags(args, {
      check: { kind: 'bool' },
      diff: { kind: 'bool' },
      write: { kind: 'bool', default: true },
      recursive: { kind: 'bool' },
    });
    if (paths.length === 0) throw new UsageError('fmt needs a file or directory to format.');
    const options: FmtOptions = { ...flags, write: flags.write && !flags.check };
    const run: FmtRun = { changed: 0, diagnostics: [], sources: new Map() };
    for (const path of paths) {
      if (path === '-') await formatStdin(ctx, options, run);
      else formatPath(path, ctx, options, run);
    }
    if (run.diagnostics.length > 0) {
      ctx.stderr.write(formatDiagnostics(run.diagnostics, (f) => run.sources.get(f)));
      if (run.diagnostics.some((d) => d.severity === 'error')) return 1;
    }
    return options.check && run.changed > 0 ? 3 : 0;
  },
};

function isHclTemplateFile(name: string): boolean {
  return name.endsWith('.pkr.hcl') || name.endsWith('.pkrvars.hcl');
}

/** Hidden files and editor swap/backup files, which a directory walk leaves alone. */
function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || name.endsWith('~') || (name.startsWith('#') && name.endsWith('#'));
}

function formatPath(path: string, ctx: CommandContext, options: FmtOptions, run: FmtRun): void {
  const abs = resolve(ctx.cwd, path);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    // A missing path is reported by formatFile, which names it.
  }
  if (!isDir) {
    formatFile(path, abs, ctx, options, run);
    return;
  }
  let entries: Dirent[];
  try {
    entries = readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (err) {
    run.diagnostics.push(errorDiag(`Cannot read directory ${path}`, errorText(err)));
    return;
  }
  for (const entry of entries) {
    if (isIgnoredName(entry.name)) continue;
    const child = join(path, entry.name);
    // Links to directories are not followed (as in Packer), so a link cycle cannot loop.
    if (entry.isDirectory()) {
      if (options.recursive) formatPath(child, ctx, options, run);
    } else if (isHclTemplateFile(entry.name)) {
      formatFile(child, join(abs, entry.name), ctx, options, run);
    }
  }
}

function formatFile(path: string, abs: string, ctx: CommandContext, options: FmtOptions, run: FmtRun): void {
  if (!isHclTemplateFile(path)) {
    run.diagnostics.push(
      errorDiag(
        `${path} is not an HCL2 template file`,
        'fmt formats Packer HCL2 templates (*.pkr.hcl) and variable files (*.pkrvars.hcl); JSON templates are not formatted.',
      ),
    );
    return;
  }
  let source: string;
  try {
    source = decodeLossless(readFileSync(abs));
  } catch (err) {
    run.diagnostics.push(errorDiag(`Cannot read ${path}`, errorText(err)));
    return;
  }
  run.sources.set(path, source);
  const { output, diagnostics } = formatSource(source, path);
  if (diagnostics.some((d) => d.severity === 'error')) {
    run.diagnostics.push(...diagnostics);
    return;
  }
  if (output === source) return;
  run.changed++;
  ctx.stdout.write(`${path}\n`);
  if (options.write) {
    try {
      writeFileSync(abs, encodeLossless(output));
    } catch (err) {
      run.diagnostics.push(errorDiag(`Cannot write ${path}`, errorText(err)));
      return;
    }
  }
  if (options.diff) ctx.stdout.write(unifiedDiff(source, output, path));
}

async function formatStdin(ctx: CommandContext, options: FmtOptions, run: FmtRun): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  const source = decodeLossless(Buffer.concat(chunks));
  run.sources.set(STDIN_NAME, source);
  const { output, diagnostics } = formatSource(source, STDIN_NAME);
  if (diagnostics.some((d) => d.severity === 'error')) {
    run.diagnostics.push(...diagnostics);
    return;
  }
  if (output === source) {
    ctx.stdout.write(encodeLossless(output));
    return;
  }
  run.changed++;
  if (options.write) ctx.stdout.write(encodeLossless(output));
}

/**
 * Decodes UTF-8 text, keeping each byte of an invalid sequence as a lone surrogate
 * U+DC80–U+DCFF (which the lexer reads as bad UTF-8, as HCL's scanner does), so that
 * `encodeLossless` gives back the original bytes: Packer formats a file with, say, a Latin-1
 * comment and leaves those bytes alone, and so must builder.
 */
export function decodeLossless(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  if (!text.includes('\uFFFD')) return text;
  const strict = new TextDecoder('utf-8', { fatal: true });
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (len > 0 && i + len <= bytes.length) {
      try {
        out += strict.decode(bytes.subarray(i, i + len));
        i += len;
        continue;
      } catch {
        // not a valid sequence: escape its first byte below
      }
    }
    out += String.fromCharCode(0xdc00 + b);
    i++;
  }
  return out;
}

/** The inverse of `decodeLossless`. */
export function encodeLossless(text: string): Buffer {
  const parts = text.split(/((?<![\uD800-\uDBFF])[\uDC80-\uDCFF])/);
  if (parts.length === 1) return Buffer.from(text, 'utf8');
  return Buffer.concat(parts.map((p, i) => (i % 2 === 1 ? Buffer.from([p.charCodeAt(0) - 0xdc00]) : Buffer.from(p, 'utf8'))));
}

/** The unified diff Packer prints (`diff -u --label=old/PATH --label=new/PATH`). */
export function unifiedDiff(before: string, after: string, path: string): string {
  const patch = structuredPatch(`old/${path}`, `new/${path}`, before, after, undefined, undefined, { context: 3 });
  let out = `--- old/${path}\n+++ new/${path}\n`;
  for (const h of patch.hunks) {
    out += `@@ -${hunkRange(h.oldStart, h.oldLines)} +${hunkRange(h.newStart, h.newLines)} @@\n`;
    for (const line of h.lines) out += `${line}\n`;
  }
  return out;
}

/** GNU diff's range: `start` alone for one line, `start-1,0` for none, else `start,count`. */
function hunkRange(start: number, count: number): string {
  if (count === 1) return String(start);
  if (count === 0) return `${start - 1},0`;
  return `${start},${count}`;
}

/** The reason of a file-system error without Node's code and path decorations
 * ("ENOENT: no such file or directory, open '/x'" → "no such file or directory"). */
function errorText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
}

/**
 * Source positions, ranges and diagnostics.
 *
 * Every problem a user can cause in a template is reported as a Diagnostic, never thrown one at a
 * time: phases collect them and the CLI prints them all together (see `formatDiagnostics`).
 */
import { contextFinder } from './hcl/context-string.js';

/** A position in a source file. `line` and `column` are 1-based; `column` counts characters
 * (Unicode code points), `byte` is the 0-based offset into the UTF-16 JS string. */
export interface Pos {
  line: number;
  column: number;
  byte: number;
}

/** A half-open source range [start, end) in `filename`. */
export interface Range {
  filename: string;
  start: Pos;
  end: Pos;
}

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  /** One short sentence: what is wrong. */
  summary: string;
  /** Longer explanation and what to do next. */
  detail?: string;
  /** Where the problem is, when it has a place in a source file. */
  subject?: Range;
}

export function errorDiag(summary: string, detail?: string, subject?: Range): Diagnostic {
  return { severity: 'error', summary, detail, subject };
}

export function warningDiag(summary: string, detail?: string, subject?: Range): Diagnostic {
  return { severity: 'warning', summary, detail, subject };
}

export function hasErrors(diags: readonly Diagnostic[]): boolean {
  return diags.some((d) => d.severity === 'error');
}

export function rangeBetween(a: Range, b: Range): Range {
  return { filename: a.filename, start: a.start, end: b.end };
}

export function rangeString(r: Range): string {
  return `${r.filename}:${r.start.line},${r.start.column}-${r.end.line === r.start.line ? '' : `${r.end.line},`}${r.end.column}`;
}

/** Looks up the text of source files by name, to print the offending line under a diagnostic. */
export type SourceLookup = (filename: string) => string | undefined;

/** A printed source line longer than this (in characters) is cut to a window around the caret. */
const MAX_SNIPPET_CHARS = 200;

/**
 * What printing needs of one source file, computed once per file for all its diagnostics: its
 * lines and its context strings (splitting and parsing the file again for each diagnostic made
 * printing N diagnostics of an N-line file quadratic in time).
 */
interface FileView {
  lines: string[];
  context: (offset: number) => string | undefined;
}

type FileViews = (filename: string) => FileView | undefined;

function fileViews(sources: SourceLookup): FileViews {
  const views = new Map<string, FileView | undefined>();
  return (filename) => {
    if (views.has(filename)) return views.get(filename);
    const text = sources(filename);
    let view: FileView | undefined;
    if (text !== undefined) {
      let finder: ((offset: number) => string | undefined) | undefined;
      view = {
        lines: text.split(/\r?\n/),
        context: (offset) => (finder ??= contextFinder(filename, text))(offset),
      };
    }
    views.set(filename, view);
    return view;
  };
}

/**
 * Renders diagnostics the way Packer (HCL) prints them:
 *
 *   Error: Unsupported argument
 *
 *     on example.pkr.hcl line 3, in source "null" "example":
 *      3:   foo = 1
 *             ^^^
 *   An argument named "foo" is not expected here.
 *
 * One difference, so that the output grows linearly with the number of diagnostics: a source line
 * longer than MAX_SNIPPET_CHARS (a minified JSON template is one line) is printed as a window of
 * that many characters around the caret, its cut ends shown as "…" (Packer prints the whole line
 * under every diagnostic: N errors on one line of length L printed N×L characters).
 */
export function formatDiagnostic(d: Diagnostic, sources: SourceLookup): string {
  return formatOne(d, fileViews(sources));
}

function formatOne(d: Diagnostic, views: FileViews): string {
  const head = `${d.severity === 'error' ? 'Error' : 'Warning'}: ${d.summary}`;
  const out: string[] = [head, ''];
  if (d.subject) {
    const r = d.subject;
    const view = views(r.filename);
    // Packer's (HCL's) context: the enclosing top-level block, or the JSON path.
    const context = view?.context(r.start.byte);
    out.push(context ? `  on ${r.filename} line ${r.start.line}, in ${context}:` : `  on ${r.filename} line ${r.start.line}, column ${r.start.column}:`);
    const line = view?.lines[r.start.line - 1];
    if (line !== undefined) {
      const num = String(r.start.line);
      const chars = [...line.replace(/\t/g, ' ')];
      const startCol = Math.max(1, r.start.column);
      const endCol = r.end.line === r.start.line ? Math.max(r.end.column, startCol + 1) : chars.length + 1;
      let width = Math.max(1, Math.min(endCol, chars.length + 1) - startCol);
      let shown = chars;
      let caretAt = startCol - 1;
      if (chars.length > MAX_SNIPPET_CHARS) {
        const from = Math.max(0, Math.min(caretAt - MAX_SNIPPET_CHARS / 4, chars.length - MAX_SNIPPET_CHARS));
        const to = Math.min(chars.length, from + MAX_SNIPPET_CHARS);
        shown = [...(from > 0 ? ['…'] : []), ...chars.slice(from, to), ...(to < chars.length ? ['…'] : [])];
        caretAt = caretAt - from + (from > 0 ? 1 : 0);
        width = Math.max(1, Math.min(width, to - (startCol - 1)));
      }
      out.push(`  ${num}: ${shown.join('')}`);
      out.push(`  ${' '.repeat(num.length)}  ${' '.repeat(caretAt)}${'^'.repeat(width)}`);
    }
    out.push('');
  }
  if (d.detail) out.push(d.detail, '');
  return out.join('\n');
}

export function formatDiagnostics(diags: readonly Diagnostic[], sources: SourceLookup): string {
  const views = fileViews(sources);
  return diags.map((d) => formatOne(d, views)).join('\n');
}

/**
 * Source positions, ranges and diagnostics.
 *
 * Every problem a user can cause in a template is reported as a Diagnostic, never thrown one at a
 * time: phases collect them and the CLI prints them all together (see `formatDiagnostics`).
 */
import { contextString } from './hcl/context-string.js';

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

/**
 * Renders diagnostics the way Packer (HCL) prints them:
 *
 *   Error: Unsupported argument
 *
 *     on example.pkr.hcl line 3, in source "null" "example":
 *      3:   foo = 1
 *             ^^^
 *   An argument named "foo" is not expected here.
 */
export function formatDiagnostic(d: Diagnostic, sources: SourceLookup): string {
  const head = `${d.severity === 'error' ? 'Error' : 'Warning'}: ${d.summary}`;
  const out: string[] = [head, ''];
  if (d.subject) {
    const r = d.subject;
    const text = sources(r.filename);
    // Packer's (HCL's) context: the enclosing top-level block, or the JSON path.
    const context = text === undefined ? undefined : contextString(r.filename, text, r.start.byte);
    out.push(context ? `  on ${r.filename} line ${r.start.line}, in ${context}:` : `  on ${r.filename} line ${r.start.line}, column ${r.start.column}:`);
    if (text !== undefined) {
      const lines = text.split(/\r?\n/);
      const line = lines[r.start.line - 1];
      if (line !== undefined) {
        const num = String(r.start.line);
        out.push(`  ${num}: ${line.replace(/\t/g, ' ')}`);
        const startCol = Math.max(1, r.start.column);
        const endCol = r.end.line === r.start.line ? Math.max(r.end.column, startCol + 1) : [...line].length + 1;
        const width = Math.max(1, Math.min(endCol, [...line].length + 1) - startCol);
        out.push(`  ${' '.repeat(num.length)}  ${' '.repeat(startCol - 1)}${'^'.repeat(width)}`);
      }
    }
    out.push('');
  }
  if (d.detail) out.push(d.detail, '');
  return out.join('\n');
}

export function formatDiagnostics(diags: readonly Diagnostic[], sources: SourceLookup): string {
  return diags.map((d) => formatDiagnostic(d, sources)).join('\n');
}

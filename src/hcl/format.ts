/**
 * `fmt`'s canonical layout of HCL native syntax: the output of `packer fmt` (HCL's `hclwrite`
 * formatter as vendored in Packer 1.6.6), byte for byte.
 *
 * Contract of `formatSource(source, filename)`:
 * - A source with syntax errors is not formatted: `output` is the source unchanged and the
 *   diagnostics say why (Packer refuses such files too).
 * - Otherwise only horizontal whitespace between tokens changes; the token text, line breaks and
 *   blank lines stay as written. Formatting is idempotent.
 *
 * The layout rules, all applied to the token stream one line at a time:
 * 1. Lines. A line ends at a newline token or at a `#`/`//` comment (which carries its newline).
 *    A heredoc holds no newline tokens, so a heredoc belongs to the line that opens it and its
 *    text is never re-indented. Each line is split into up to three cells: `lead`; `assign`, from
 *    the first `=` (not the line's first token) to the end, when the brackets from there on
 *    balance; and `comment`, a line comment ending a line that has other tokens.
 * 2. Indentation. Two spaces per level of an indent stack: a line whose brackets (`{ [ ( ${ %{`
 *    against `} ] ) }`) open more than they close pushes a level after itself; one that closes
 *    more pops levels (an opener count is remembered per level, so a line closing two brackets
 *    opened on one line dedents once), and takes the indentation it arrives at.
 * 3. Spacing inside cells, decided for each pair of neighbouring tokens (`spaceAfter`).
 * 4. Alignment. In each run of consecutive lines with an `assign` cell the `=` signs line up one
 *    space after the longest lead; then in each run of lines with a trailing comment the comments
 *    line up one space after the longest lead+assign. Widths count grapheme clusters.
 *
 * Quirks kept from Packer 1.6.6 on purpose (they are what `packer fmt` writes): a space after `!`
 * (`! true`), the byte-order mark is dropped, blank-line runs and trailing blank lines are kept,
 * and whitespace before the end of a file that lacks a final newline is kept.
 */
import type { Diagnostic } from '../diagnostics.js';
import type { Token, TokenType } from './ast.js';
import { lex } from './lexer.js';
import { parseConfig } from './parser.js';

export interface FormatResult {
  /** The formatted text; the source itself when it has syntax errors. */
  output: string;
  /** Syntax errors (and warnings) of the source. */
  diagnostics: Diagnostic[];
}

/** Formats an HCL native-syntax source the way `packer fmt` does. */
export function formatSource(source: string, filename: string): FormatResult {
  const { diagnostics } = parseConfig(source, filename);
  if (diagnostics.some((d) => d.severity === 'error')) return { output: source, diagnostics };
  return { output: formatTokens(lex(source, filename).tokens), diagnostics };
}

/** A token as the formatter sees it: its text and the number of spaces to write before it. */
interface FmtToken {
  type: TokenType | 'Nil';
  bytes: string;
  spacesBefore: number;
}

interface FmtLine {
  lead: FmtToken[];
  assign: FmtToken[] | undefined;
  comment: FmtToken[] | undefined;
}

const NIL: FmtToken = { type: 'Nil', bytes: '', spacesBefore: 0 };

/**
 * Lays out a complete token stream (as returned by `lex`, `Spaces` tokens included) and returns
 * the text. The tokens must come from a source without syntax errors.
 */
function formatTokens(tokens: readonly Token[]): string {
  const fmtTokens = toFmtTokens(tokens);
  const lines = splitLines(fmtTokens);
  formatIndent(lines);
  formatSpaces(lines);
  formatCells(lines);
  let out = '';
  for (const t of fmtTokens) out += ' '.repeat(t.spacesBefore) + t.bytes;
  return out;
}

/** Drops the whitespace tokens, remembering how much whitespace preceded each other token. */
function toFmtTokens(tokens: readonly Token[]): FmtToken[] {
  const out: FmtToken[] = [];
  let spaces = 0;
  for (const t of tokens) {
    if (t.type === 'Spaces') {
      // Counted in bytes, as hclwrite does (a byte-order mark counts three); this matters only
      // for the whitespace before the end of the file, the one place the count is written out.
      spaces += Buffer.byteLength(t.bytes);
      continue;
    }
    out.push({ type: t.type, bytes: t.bytes, spacesBefore: spaces });
    spaces = 0;
  }
  // The end-of-file token is written too (with the whitespace before it) but belongs to no line.
  if (out.length === 0 || out[out.length - 1]!.type !== 'EOF') out.push({ type: 'EOF', bytes: '', spacesBefore: spaces });
  return out;
}

function endsLine(t: FmtToken): boolean {
  return t.type === 'Newline' || (t.type === 'Comment' && t.bytes.endsWith('\n'));
}

function bracketChange(t: FmtToken): number {
  switch (t.type) {
    case 'OBrace':
    case 'OBrack':
    case 'OParen':
    case 'TemplateControl':
    case 'TemplateInterp':
      return 1;
    case 'CBrace':
    case 'CBrack':
    case 'CParen':
    case 'TemplateSeqEnd':
      return -1;
    default:
      return 0;
  }
}

function netBrackets(tokens: readonly FmtToken[]): number {
  let n = 0;
  for (const t of tokens) n += bracketChange(t);
  return n;
}

function splitLines(tokens: readonly FmtToken[]): FmtLine[] {
  const lines: FmtLine[] = [];
  let current: FmtToken[] = [];
  for (const t of tokens) {
    if (t.type === 'EOF') break;
    current.push(t);
    if (endsLine(t)) {
      lines.push({ lead: current, assign: undefined, comment: undefined });
      current = [];
    }
  }
  lines.push({ lead: current, assign: undefined, comment: undefined });

  for (const line of lines) {
    const lead = line.lead;
    if (lead.length > 1 && lead[lead.length - 1]!.type === 'Comment') {
      line.comment = lead.slice(-1);
      line.lead = lead.slice(0, -1);
    }
    const eq = line.lead.findIndex((t, i) => i > 0 && t.type === 'Equal');
    if (eq > 0 && netBrackets(line.lead.slice(eq)) === 0) {
      line.assign = line.lead.slice(eq);
      line.lead = line.lead.slice(0, eq);
    }
  }
  return lines;
}

function formatIndent(lines: readonly FmtLine[]): void {
  // Each entry: how many brackets the line that opened this indent level left open.
  const indents: number[] = [];
  for (const line of lines) {
    const first = line.lead[0];
    if (!first) continue;
    if (first.type === 'Newline') {
      first.spacesBefore = 0;
      continue;
    }
    let net = 0;
    for (const t of line.lead) {
      net += bracketChange(t);
      if (t.type === 'OHeredoc') break;
    }
    if (line.assign) net += netBrackets(line.assign);

    if (net > 0) {
      first.spacesBefore = 2 * indents.length;
      indents.push(net);
      continue;
    }
    let closed = -net;
    while (closed > 0 && indents.length > 0) {
      const top = indents[indents.length - 1]!;
      if (closed > top) {
        closed -= top;
        indents.pop();
      } else if (closed < top) {
        indents[indents.length - 1] = top - closed;
        closed = 0;
      } else {
        indents.pop();
        closed = 0;
      }
    }
    first.spacesBefore = 2 * indents.length;
  }
}

function formatSpaces(lines: readonly FmtLine[]): void {
  for (const line of lines) {
    spaceCell(line.lead);
    if (line.assign) {
      // The `=` is separated from what it assigns to; formatCells aligns it afterwards.
      line.assign[0]!.spacesBefore = 1;
      spaceCell(line.assign);
    }
  }
}

function spaceCell(cell: readonly FmtToken[]): void {
  for (let i = 0; i + 1 < cell.length; i++) {
    const after = cell[i + 1]!;
    after.spacesBefore = spaceAfter(cell[i]!, i > 0 ? cell[i - 1]! : NIL, after) ? 1 : 0;
  }
}

/** The token types after which a `-` is a negation (no space follows it). */
const NEGATION_CONTEXT = new Set<FmtToken['type']>([
  'Nil', 'OParen', 'OBrace', 'OBrack', 'Equal', 'Colon', 'Comma', 'Question',
  'Plus', 'Star', 'Slash', 'Percent', 'Minus',
  'EqualOp', 'NotEqual', 'GreaterThan', 'GreaterThanEq', 'LessThan', 'LessThanEq',
  'And', 'Or', 'Bang',
]);

/** Whether one space goes between `subject` and `after` (`before` precedes subject in its cell). */
function spaceAfter(subject: FmtToken, before: FmtToken, after: FmtToken): boolean {
  const s = subject.type;
  const a = after.type;
  if (a === 'Newline' || a === 'Nil') return false;
  if (s === 'Ident' && a === 'OParen') return false; // function call
  if (s === 'Dot' || a === 'Dot') return false;
  if (a === 'Comma' || a === 'Ellipsis') return false;
  if (s === 'Comma') return true;
  // Nothing is added inside template text.
  if (s === 'QuotedLit' || s === 'StringLit' || s === 'OQuote' || s === 'OHeredoc') return false;
  if (a === 'QuotedLit' || a === 'StringLit' || a === 'CQuote' || a === 'CHeredoc') return false;
  // `for x in [xs]`: `in` is a keyword here, not a value being indexed.
  if (s === 'Ident' && subject.bytes === 'in' && before.type === 'Ident') return true;
  if (a === 'OBrack' && (s === 'Ident' || s === 'NumberLit' || bracketChange(subject) < 0)) return false;
  if (s === 'Minus') return !NEGATION_CONTEXT.has(before.type);
  if (s === 'OBrace' || a === 'CBrace') return !(s === 'OBrace' && a === 'CBrace');
  // `${ {a = 1} }`: an object right inside an interpolation keeps its braces apart.
  if ((s === 'TemplateInterp' || s === 'TemplateControl') && a === 'OBrace') return true;
  if (s === 'CBrace' && a === 'TemplateSeqEnd') return true;
  if (s === 'TemplateSeqEnd' && (a === 'TemplateInterp' || a === 'TemplateControl')) return false;
  if (bracketChange(subject) > 0) return false;
  if (bracketChange(after) < 0) return false;
  return true;
}

function formatCells(lines: readonly FmtLine[]): void {
  alignRuns(
    lines,
    (l) => l.assign,
    (l) => columns(l.lead),
  );
  alignRuns(
    lines,
    (l) => l.comment,
    (l) => columns(l.lead) + columns(l.assign ?? []),
  );
}

/** In each run of consecutive lines that have the cell, starts the cell one column after the
 * widest text before it. */
function alignRuns(
  lines: readonly FmtLine[],
  cellOf: (l: FmtLine) => FmtToken[] | undefined,
  widthBefore: (l: FmtLine) => number,
): void {
  let run: FmtLine[] = [];
  const close = (): void => {
    const widths = run.map(widthBefore);
    const max = Math.max(...widths);
    run.forEach((l, i) => {
      cellOf(l)![0]!.spacesBefore = max - widths[i]! + 1;
    });
    run = [];
  };
  for (const line of lines) {
    if (cellOf(line)) run.push(line);
    else if (run.length > 0) close();
  }
  if (run.length > 0) close();
}

const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** Columns a cell occupies: its spaces plus the grapheme clusters of its text. */
function columns(cell: readonly FmtToken[]): number {
  let n = 0;
  for (const t of cell) {
    n += t.spacesBefore;
    if (/^[\x20-\x7e]*$/.test(t.bytes)) n += t.bytes.length;
    else for (const _ of segmenter.segment(t.bytes)) n++;
  }
  return n;
}

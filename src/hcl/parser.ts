/**
 * The parser of HCL's native syntax: tokens from `lexer.ts` → the AST of `ast.ts`.
 *
 * Contracts:
 * - `parseConfig`, `parseExpression` and `parseTemplate` never throw: every problem is a
 *   diagnostic with a range, using HCL's summaries and details. After an error the parser
 *   recovers (skips to the end of the body item, bracket or sequence at hand) and keeps going,
 *   so that independent errors in one file are reported together.
 * - Nesting (blocks, brackets, templates, unary operators, splats) deeper than `MAX_NESTING`
 *   stops the parse with one "Nesting too deep" error instead of overflowing the stack, and no
 *   returned expression tree is deeper than `MAX_NESTING` (longer operator chains are reported
 *   the same way), so evaluators may recurse over the AST safely.
 * - Time and memory are linear in the source length.
 * - Strip markers (`~`) and the indentation of `<<-` heredocs are resolved here, in the literal
 *   parts of templates, exactly as HCL resolves them; string escapes are decoded here too.
 */
import { errorDiag, rangeBetween, rangeString, type Diagnostic, type Pos, type Range } from '../diagnostics.js';
import type {
  Attribute,
  BinaryOperator,
  Block,
  Expression,
  File,
  LiteralExpr,
  NativeBody,
  TemplatePart,
  Token,
  TokenType,
  Traverser,
} from './ast.js';
import { TokenStream } from './lexer.js';

/** The deepest nesting the parser accepts (see the module contract). */
export const MAX_NESTING = 250;

const START: Pos = { line: 1, column: 1, byte: 0 };

/** Parses a whole configuration file in HCL native syntax. */
export function parseConfig(source: string, filename: string): { file: File; diagnostics: Diagnostic[] } {
  const p = new Parser(new TokenStream(source, filename), START);
  let body: NativeBody;
  try {
    body = p.parseBody('EOF');
    p.limitExpressionDepth(body);
  } catch (e) {
    if (!(e instanceof NestingTooDeep)) throw e;
    const range = wholeRange(source, filename, START);
    body = { kind: 'native', attributes: [], blocks: [], range, endRange: { filename, start: range.end, end: range.end } };
  }
  return { file: { filename, source, body }, diagnostics: p.finish() };
}

/** Parses a standalone expression (newlines are insignificant, as inside parentheses). */
export function parseExpression(source: string, filename: string, start: Pos = START): { expr: Expression; diagnostics: Diagnostic[] } {
  const p = new Parser(new TokenStream(source, filename, { start }), start);
  let expr: Expression;
  try {
    p.pushNewlines(false);
    expr = p.parseExpression();
    const next = p.peek();
    if (next.type !== 'EOF' && !p.recovery) {
      p.error('Extra characters after expression', 'An expression was successfully parsed, but extra characters were found after it.', next.range);
    }
    p.popNewlines();
    expr = p.limitDepth(expr);
  } catch (e) {
    if (!(e instanceof NestingTooDeep)) throw e;
    expr = placeholder(wholeRange(source, filename, start));
  }
  return { expr, diagnostics: p.finish() };
}

/** Parses a bare template: literal text with `${…}` interpolations and `%{…}` directives. */
export function parseTemplate(source: string, filename: string, start: Pos = START): { expr: Expression; diagnostics: Diagnostic[] } {
  if (!source.includes('${') && !source.includes('%{') && !LONE_SURROGATE.test(source)) {
    // No sequences, hence no escapes or strip markers: the whole text is one literal.
    const range: Range = { filename, start, end: endOf(source, start) };
    return { expr: { kind: 'template', parts: [{ kind: 'literal', value: source, range }], range }, diagnostics: [] };
  }
  const p = new Parser(new TokenStream(source, filename, { mode: 'template', start }), start);
  let expr: Expression;
  try {
    const at: Range = { filename, start, end: start };
    expr = p.limitDepth(p.parseTemplateUntil('EOF', false, at));
  } catch (e) {
    if (!(e instanceof NestingTooDeep)) throw e;
    expr = placeholder(wholeRange(source, filename, start));
  }
  return { expr, diagnostics: p.finish() };
}

class NestingTooDeep extends Error {}

const LONE_SURROGATE = /\p{Cs}/u;

function wholeRange(source: string, filename: string, start: Pos): Range {
  return { filename, start, end: endOf(source, start) };
}

/** The position just after `text`, which starts at `start`. */
function endOf(text: string, start: Pos): Pos {
  let line = start.line;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) {
    line += 1;
    lineStart = i + 1;
  }
  const lastLine = text.slice(lineStart);
  let column = (line === start.line ? start.column : 1) + lastLine.length;
  for (let i = 0; i < lastLine.length; i++) {
    const c = lastLine.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) column -= 1; // second half of a code point
  }
  return { line, column, byte: start.byte + text.length };
}

/** A stand-in for an expression that failed to parse (an error has been reported). */
function placeholder(range: Range): LiteralExpr {
  return { kind: 'literal', value: { type: 'null' }, range };
}

const BINARY_LEVELS: Partial<Record<TokenType, [number, BinaryOperator]>> = {
  Or: [0, '||'],
  And: [1, '&&'],
  EqualOp: [2, '=='],
  NotEqual: [2, '!='],
  GreaterThan: [3, '>'],
  GreaterThanEq: [3, '>='],
  LessThan: [3, '<'],
  LessThanEq: [3, '<='],
  Plus: [4, '+'],
  Minus: [4, '-'],
  Star: [5, '*'],
  Slash: [5, '/'],
  Percent: [5, '%'],
};

const OPPOSITE: Partial<Record<TokenType, TokenType>> = {
  OBrace: 'CBrace', OBrack: 'CBrack', OParen: 'CParen', OQuote: 'CQuote', OHeredoc: 'CHeredoc',
  CBrace: 'OBrace', CBrack: 'OBrack', CParen: 'OParen', CQuote: 'OQuote', CHeredoc: 'OHeredoc',
  TemplateInterp: 'TemplateSeqEnd', TemplateControl: 'TemplateSeqEnd', TemplateSeqEnd: 'TemplateInterp',
};

const NUMBER = /^[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?$/;

/** Template items before they are assembled into `TemplatePart`s (as in HCL's template parser). */
type TemplateItem =
  | { t: 'literal'; value: string; range: Range }
  | SequenceItem;

type SequenceItem = Exclude<RawTemplateItem, { t: 'literal' }>;

/** Template items as scanned: consecutive literal tokens share one item, keeping each token's
 * text as a piece, because strip markers and `<<-` indentation apply to single tokens (one per
 * heredoc line). Sharing keeps memory small for templates of millions of lines. */
type RawTemplateItem =
  | { t: 'literal'; pieces: string[]; range: Range }
  | { t: 'interp'; expr: Expression; range: Range }
  | { t: 'if'; cond: Expression; range: Range }
  | { t: 'for'; keyVar?: string; valueVar: string; coll: Expression; range: Range }
  | { t: 'endctl'; which: 'else' | 'endif' | 'endfor'; range: Range }
  | { t: 'end'; range: Range };

class Parser {
  /** The parser's own diagnostics (the scanner's are added by `finish`). */
  private readonly diagnostics: Diagnostic[] = [];
  /** Set once recovery has been attempted: suppresses follow-on "unexpected token" errors. */
  recovery = false;
  /** Tokens scanned but not yet read (from `head`), without `Spaces`; the rest is in `stream`. */
  private buf: Token[] = [];
  private head = 0;
  private prevTok: Token | undefined;
  private readonly newlines: boolean[] = [true];
  private depth = 0;
  private errorCount = 0;
  /** Set when the parse stopped at "Nesting too deep". */
  private abandoned = false;

  constructor(private readonly stream: TokenStream, private readonly start: Pos) {}

  // ---- token access --------------------------------------------------------------------------

  /** The buffered token at index `i` (scanning more as needed); `EOF` repeats at the end. */
  private at(i: number): Token {
    while (i >= this.buf.length) {
      const last = this.buf[this.buf.length - 1];
      if (last !== undefined && last.type === 'EOF') return last;
      const tok = this.stream.next();
      if (tok.type !== 'Spaces') this.buf.push(tok);
    }
    return this.buf[i];
  }

  private scan(): [Token, number] {
    const includeNewlines = this.newlines[this.newlines.length - 1];
    for (let i = this.head; ; i++) {
      const tok = this.at(i);
      if (tok.type === 'EOF') return [tok, i];
      if (tok.type === 'Comment') {
        // Line comments absorb the newline that ends them; it still ends a body item.
        if (includeNewlines && tok.bytes.endsWith('\n')) return [{ type: 'Newline', bytes: '\n', range: tok.range }, i + 1];
        continue;
      }
      if (tok.type === 'Newline' && !includeNewlines) continue;
      return [tok, i + 1];
    }
  }

  peek(): Token {
    return this.scan()[0];
  }

  read(): Token {
    const [tok, next] = this.scan();
    this.head = next;
    this.prevTok = tok;
    if (this.head > 1024 && this.head * 2 > this.buf.length) {
      this.buf = this.buf.slice(this.head);
      this.head = 0;
    }
    return tok;
  }


  /** From the start of the input to the end of `end`. */
  rangeToEnd(end: Range): Range {
    return { filename: end.filename, start: this.start, end: end.end };
  }

  /** All diagnostics: the scanner's, then the parser's. The scanner's cover the whole input,
   * except after "Nesting too deep", when the rest of the input is not scanned. */
  finish(): Diagnostic[] {
    if (!this.abandoned) {
      while (this.stream.next().type !== 'EOF') {
        // scan the rest for its diagnostics
      }
    }
    return [...this.stream.diagnostics, ...this.diagnostics];
  }

  private prevRange(): Range {
    return this.prevTok ? this.prevTok.range : this.peek().range;
  }

  pushNewlines(include: boolean): void {
    this.newlines.push(include);
  }

  popNewlines(): void {
    this.newlines.pop();
  }

  error(summary: string, detail: string, subject: Range): void {
    this.diagnostics.push(errorDiag(summary, detail, subject));
    this.errorCount += 1;
  }

  enter(at: Range): void {
    this.depth += 1;
    if (this.depth > MAX_NESTING) {
      this.abandoned = true;
      this.error('Nesting too deep', `This configuration nests blocks, brackets or templates more than ${MAX_NESTING} levels deep, which is not supported.`, at);
      throw new NestingTooDeep();
    }
  }

  leave(): void {
    this.depth -= 1;
  }

  /** Skips to just after the `end` token that closes the current bracket, counting nesting. */
  private recover(end: TokenType): Token {
    const start = OPPOSITE[end];
    this.recovery = true;
    let nest = 0;
    for (;;) {
      const tok = this.read();
      let ty = tok.type;
      if (end === 'TemplateSeqEnd' && ty === 'TemplateControl') ty = 'TemplateInterp';
      if (ty === start) nest += 1;
      else if (ty === end) {
        if (nest < 1) return tok;
        nest -= 1;
      } else if (ty === 'EOF') return tok;
    }
  }

  /** Skips to the first token of the given opening type, then past its matching close. */
  private recoverOver(start: TokenType): void {
    for (;;) {
      const tok = this.read();
      if (tok.type === start || tok.type === 'EOF') break;
    }
    const end = OPPOSITE[start];
    if (end) this.recover(end);
  }

  /** Skips to the newline that ends the current body item, respecting brackets. */
  private recoverAfterBodyItem(): void {
    this.recovery = true;
    const open: TokenType[] = [];
    for (;;) {
      const tok = this.read();
      switch (tok.type) {
        case 'Newline':
          if (open.length === 0) return;
          break;
        case 'EOF':
          return;
        case 'OBrace': case 'OBrack': case 'OParen': case 'OQuote': case 'OHeredoc': case 'TemplateInterp': case 'TemplateControl':
          open.push(tok.type);
          break;
        case 'CBrace': case 'CBrack': case 'CParen': case 'CQuote': case 'CHeredoc': {
          const opener = OPPOSITE[tok.type];
          while (open.length > 0 && open[open.length - 1] !== opener) open.pop();
          if (open.length > 0) open.pop();
          break;
        }
        case 'TemplateSeqEnd':
          while (open.length > 0 && open[open.length - 1] !== 'TemplateInterp' && open[open.length - 1] !== 'TemplateControl') open.pop();
          if (open.length > 0) open.pop();
          break;
        default:
          break;
      }
    }
  }

  // ---- bodies --------------------------------------------------------------------------------

  parseBody(end: 'EOF' | 'CBrace'): NativeBody {
    const attributes: Attribute[] = [];
    const blocks: Block[] = [];
    const seen = new Map<string, Attribute>();
    const startRange = end === 'EOF' ? this.rangeToEnd(this.peek().range) : this.prevRange();
    let endRange: Range;
    for (;;) {
      const next = this.peek();
      if (next.type === end) {
        endRange = next.range;
        this.read();
        break;
      }
      if (next.type === 'Newline') {
        this.read();
        continue;
      }
      if (next.type === 'Ident') {
        this.recovery = false; // each body item starts afresh, so its own errors are reported
        const item = this.parseBodyItem();
        if (item === undefined) continue;
        if ('expr' in item) {
          const existing = seen.get(item.name);
          if (existing) {
            this.error('Attribute redefined', `The argument "${item.name}" was already set at ${rangeString(existing.nameRange)}. Each argument may be set only once.`, item.nameRange);
          } else {
            seen.set(item.name, item);
            attributes.push(item);
          }
        } else {
          blocks.push(item);
        }
        continue;
      }
      const bad = this.read();
      if (!this.recovery) {
        if (bad.type === 'OQuote') {
          this.error('Invalid argument name', 'Argument names must not be quoted.', bad.range);
        } else if (bad.type === 'EOF') {
          this.error('Unclosed configuration block', 'There is no closing brace for this block before the end of the file. This may be caused by incorrect brace nesting elsewhere in this file.', startRange);
        } else {
          this.error('Argument or block definition required', 'An argument or block definition is required here.', bad.range);
        }
      }
      endRange = this.prevRange();
      const closer = this.recover(end);
      if (closer.type === end) endRange = closer.range;
      break;
    }
    return { kind: 'native', attributes, blocks, range: rangeBetween(startRange, endRange), endRange };
  }

  private parseBodyItem(): Attribute | Block | undefined {
    const ident = this.read();
    const next = this.peek();
    if (next.type === 'Equal') return this.finishAttribute(ident, false);
    if (next.type === 'OQuote' || next.type === 'OBrace' || next.type === 'Ident') return this.finishBlock(ident);
    this.recoverAfterBodyItem();
    this.error('Argument or block definition required', 'An argument or block definition is required here. To set an argument, use the equals sign "=" to introduce the argument value.', ident.range);
    return undefined;
  }

  private finishAttribute(ident: Token, singleLine: boolean): Attribute {
    this.read(); // =
    const mark = this.errorCount;
    const expr = this.parseExpression();
    let endRange = this.prevRange();
    if (this.recovery && this.errorCount > mark) {
      this.recoverAfterBodyItem();
    } else if (!singleLine) {
      const end = this.peek();
      if (end.type !== 'Newline' && end.type !== 'EOF') {
        if (!this.recovery) {
          if (end.type === 'Comma') {
            this.error('Unexpected comma after argument', 'Argument definitions must be separated by newlines, not commas. An argument definition must end with a newline.', end.range);
          } else {
            this.error('Missing newline after argument', 'An argument definition must end with a newline.', end.range);
          }
        }
        endRange = this.prevRange();
        this.recoverAfterBodyItem();
      } else {
        this.read();
      }
    }
    return { name: ident.bytes, expr, range: rangeBetween(ident.range, endRange), nameRange: ident.range };
  }

  private finishBlock(ident: Token): Block {
    const labels: string[] = [];
    const labelRanges: Range[] = [];
    let oBrace: Token | undefined;
    while (oBrace === undefined) {
      const tok = this.peek();
      if (tok.type === 'OBrace') {
        oBrace = this.read();
      } else if (tok.type === 'OQuote') {
        const [label, range] = this.parseQuotedStringLiteral();
        labels.push(label);
        labelRanges.push(range);
      } else if (tok.type === 'Ident') {
        this.read();
        labels.push(tok.bytes);
        labelRanges.push(tok.range);
      } else {
        if (tok.type === 'Equal') {
          this.error('Invalid block definition', 'The equals sign "=" indicates an argument definition, and must not be used when defining a block.', tok.range);
        } else if (tok.type === 'Newline') {
          this.error('Invalid block definition', 'A block definition must have block content delimited by "{" and "}", starting on the same line as the block header.', tok.range);
        } else if (!this.recovery) {
          this.error('Invalid block definition', 'Either a quoted string block label or an opening brace ("{") is expected here.', tok.range);
        }
        this.recoverAfterBodyItem();
        const headerEnd = labelRanges.length > 0 ? labelRanges[labelRanges.length - 1] : ident.range;
        const body: NativeBody = { kind: 'native', attributes: [], blocks: [], range: ident.range, endRange: ident.range };
        return { type: ident.bytes, labels, body, range: rangeBetween(ident.range, headerEnd), typeRange: ident.range, labelRanges };
      }
    }

    this.enter(oBrace.range);
    let body: NativeBody | undefined;
    const first = this.peek();
    if (first.type === 'Newline' || first.type === 'EOF' || first.type === 'CBrace') {
      body = this.parseBody('CBrace');
    } else {
      body = this.parseSingleAttrBody(oBrace);
      const after = this.peek();
      if (after.type === 'CBrace') {
        this.read();
      } else {
        if (after.type === 'Comma') {
          this.error('Invalid single-argument block definition', 'Single-line block syntax can include only one argument definition. To define multiple arguments, use the multi-line block syntax with one argument definition per line.', after.range);
        } else if (after.type === 'Newline') {
          this.error('Invalid single-argument block definition', "An argument definition on the same line as its containing block creates a single-line block definition, which must also be closed on the same line. Place the block's closing brace immediately after the argument definition.", after.range);
        } else if (!this.recovery) {
          if (after.type === 'EOF') {
            this.error('Unclosed configuration block', 'There is no closing brace for this block before the end of the file. This may be caused by incorrect brace nesting elsewhere in this file.', oBrace.range);
          } else {
            this.error('Invalid single-argument block definition', 'A single-line block definition must end with a closing brace immediately after its single argument definition.', after.range);
          }
        }
        this.recover('CBrace');
      }
    }
    this.leave();
    const cBraceRange = this.prevRange();
    const eol = this.peek();
    if (eol.type === 'Newline' || eol.type === 'EOF') {
      this.read();
    } else {
      if (!this.recovery) {
        this.error('Missing newline after block definition', 'A block definition must end with a newline.', eol.range);
      }
      this.recoverAfterBodyItem();
    }
    if (body === undefined) {
      body = { kind: 'native', attributes: [], blocks: [], range: rangeBetween(oBrace.range, cBraceRange), endRange: cBraceRange };
    }
    return { type: ident.bytes, labels, body, range: rangeBetween(ident.range, cBraceRange), typeRange: ident.range, labelRanges };
  }

  /** The body of a one-line block `a { b = 1 }`: exactly one attribute, no newline. */
  private parseSingleAttrBody(oBrace: Token): NativeBody | undefined {
    const ident = this.read();
    if (ident.type !== 'Ident') {
      this.recoverAfterBodyItem();
      this.error('Argument or block definition required', 'An argument or block definition is required here.', ident.range);
      return undefined;
    }
    const next = this.peek();
    if (next.type === 'Equal') {
      const attr = this.finishAttribute(ident, true);
      const endRange: Range = { filename: attr.range.filename, start: attr.range.end, end: attr.range.end };
      return { kind: 'native', attributes: [attr], blocks: [], range: rangeBetween(oBrace.range, attr.range), endRange };
    }
    this.recoverAfterBodyItem();
    if (next.type === 'OQuote' || next.type === 'OBrace' || next.type === 'Ident') {
      this.error('Argument definition required', `A single-line block definition can contain only a single argument. If you meant to define argument "${ident.bytes}", use an equals sign to assign it a value. To define a nested block, place it on a line of its own within its parent block.`, rangeBetween(ident.range, next.range));
    } else {
      this.error('Argument or block definition required', 'An argument or block definition is required here. To set an argument, use the equals sign "=" to introduce the argument value.', ident.range);
    }
    return undefined;
  }

  /** A quoted string without template sequences (block labels). */
  private parseQuotedStringLiteral(): [string, Range] {
    const oQuote = this.read();
    let out = '';
    let endRange: Range;
    for (;;) {
      const tok = this.read();
      if (tok.type === 'CQuote') {
        endRange = tok.range;
        break;
      }
      if (tok.type === 'QuotedLit') {
        out += this.decodeLiteral(tok);
        continue;
      }
      if (tok.type === 'TemplateInterp' || tok.type === 'TemplateControl') {
        const which = tok.type === 'TemplateControl' ? '%' : '$';
        this.error('Invalid string literal', `Template sequences are not allowed in this string. To include a literal "${which}", double it (as "${which}${which}") to escape it.`, tok.range);
        out += `${which}{ ... }`;
        this.recover('TemplateSeqEnd');
        continue;
      }
      if (tok.type === 'EOF') {
        this.error('Unterminated string literal', 'Unable to find the closing quote mark before the end of the file.', tok.range);
        endRange = tok.range;
        break;
      }
      this.error('Invalid string literal', 'This item is not valid in a string literal.', tok.range);
      this.recover('CQuote');
      endRange = tok.range;
      break;
    }
    return [out, rangeBetween(oQuote.range, endRange)];
  }

  // ---- expressions ---------------------------------------------------------------------------

  parseExpression(): Expression {
    this.enter(this.peek().range);
    const expr = this.parseConditional();
    this.leave();
    return expr;
  }

  private parseConditional(): Expression {
    const startRange = this.peek().range;
    const mark = this.errorCount;
    const cond = this.parseBinary();
    if (this.recovery && this.errorCount > mark) return cond;
    if (this.peek().type !== 'Question') return cond;
    this.read();
    const trueMark = this.errorCount;
    const thenExpr = this.parseExpression();
    if (this.recovery && this.errorCount > trueMark) return cond;
    const colon = this.peek();
    if (colon.type !== 'Colon') {
      this.error('Missing false expression in conditional', 'The conditional operator (...?...:...) requires a false expression, delimited by a colon.', colon.range);
      return cond;
    }
    this.read();
    const falseMark = this.errorCount;
    const elseExpr = this.parseExpression();
    if (this.recovery && this.errorCount > falseMark) return cond;
    return { kind: 'conditional', cond, then: thenExpr, else: elseExpr, range: rangeBetween(startRange, elseExpr.range) };
  }

  /** Binary operators by precedence climbing: left-associative, iterative within a level. */
  private parseBinary(): Expression {
    const mark = this.errorCount;
    const lhs = this.parseWithTraversals();
    if (this.recovery && this.errorCount > mark) return lhs;
    return this.climb(lhs, 0);
  }

  private climb(left: Expression, minLevel: number): Expression {
    let lhs = left;
    for (;;) {
      const op = BINARY_LEVELS[this.peek().type];
      if (op === undefined || op[0] < minLevel) return lhs;
      this.read();
      const mark = this.errorCount;
      let rhs = this.parseWithTraversals();
      if (this.recovery && this.errorCount > mark) return lhs;
      for (;;) {
        const nextOp = BINARY_LEVELS[this.peek().type];
        if (nextOp === undefined || nextOp[0] <= op[0]) break;
        rhs = this.climb(rhs, op[0] + 1);
      }
      lhs = { kind: 'binary', op: op[1], left: lhs, right: rhs, range: rangeBetween(lhs.range, rhs.range) };
    }
  }

  private parseWithTraversals(): Expression {
    return this.parseTraversals(this.parseTerm());
  }

  private parseTraversals(from: Expression): Expression {
    let ret = from;
    for (;;) {
      const next = this.peek();
      if (next.type === 'Dot') {
        const dot = this.read();
        const attrTok = this.peek();
        if (attrTok.type === 'Ident') {
          this.read();
          const range = rangeBetween(dot.range, attrTok.range);
          ret = appendStep(ret, { kind: 'attr', name: attrTok.bytes, range });
        } else if (attrTok.type === 'NumberLit') {
          this.read();
          ret = appendStep(ret, this.legacyIndex(dot, attrTok, false));
        } else if (attrTok.type === 'Star') {
          ret = this.finishAttrSplat(ret, from, dot);
        } else {
          this.error('Invalid attribute name', 'An attribute name is required after a dot.', attrTok.range);
          this.recovery = true;
          return ret;
        }
      } else if (next.type === 'OBrack') {
        const open = this.read();
        if (this.peek().type === 'Star') {
          this.read();
          let close = this.read();
          if (close.type !== 'CBrack' && !this.recovery) {
            this.error('Missing close bracket on splat index', 'The star for a full splat operator must be immediately followed by a closing bracket ("]").', close.range);
            close = this.recover('CBrack');
          }
          const markerRange = rangeBetween(open.range, close.range);
          const item = { kind: 'anonSymbol' as const, range: markerRange };
          this.enter(markerRange);
          const each = this.parseTraversals(item);
          this.leave();
          ret = { kind: 'splat', source: ret, each, item, range: rangeBetween(from.range, each.range), markerRange };
          continue;
        }
        this.pushNewlines(false);
        const mark = this.errorCount;
        const key = this.parseExpression();
        let close: Token;
        if (this.recovery && this.errorCount > mark) {
          close = this.recover('CBrack');
        } else {
          close = this.read();
          if (close.type !== 'CBrack' && !this.recovery) {
            this.error('Missing close bracket on index', 'The index operator must end with a closing bracket ("]").', close.range);
            close = this.recover('CBrack');
          }
        }
        this.popNewlines();
        const bracketRange = rangeBetween(open.range, close.range);
        const literalKey = literalIndexKey(key);
        if (literalKey) {
          ret = appendStep(ret, { kind: 'index', key: literalKey, range: bracketRange });
        } else {
          ret = { kind: 'index', collection: ret, key, range: rangeBetween(from.range, bracketRange), bracketRange };
        }
      } else {
        return ret;
      }
    }
  }

  /** `.0` (HCL's legacy index syntax); `.0.1` scans as one number and is rejected. */
  private legacyIndex(dot: Token, numTok: Token, inSplat: boolean): Traverser {
    const range = rangeBetween(dot.range, numTok.range);
    const dotAt = numTok.bytes.indexOf('.');
    if (dotAt >= 0) {
      const first = numTok.bytes.slice(0, dotAt);
      const second = numTok.bytes.slice(dotAt + 1);
      const how = inSplat ? 'Use the proper index syntax with a full splat expression [*] instead' : 'Use the proper index syntax instead';
      this.error('Invalid legacy index syntax', `When using the legacy index syntax, chaining two indexes together is not permitted. ${how}, like [${first}][${second}].`, numTok.range);
      return { kind: 'index', key: { kind: 'literal', value: { type: 'number', text: first }, range: numTok.range }, range };
    }
    return { kind: 'index', key: this.numberLiteral(numTok), range };
  }

  /** `src.*.a.b`: an attribute-only splat covering the `.name` / `.N` steps that follow. */
  private finishAttrSplat(source: Expression, from: Expression, dot: Token): Expression {
    const marker = this.read(); // *
    const markerRange = rangeBetween(dot.range, marker.range);
    const item = { kind: 'anonSymbol' as const, range: markerRange };
    const steps: Traverser[] = [];
    const firstRange = this.peek().range;
    let lastRange = marker.range;
    while (this.peek().type === 'Dot') {
      const stepDot = this.read();
      const tok = this.peek();
      if (tok.type === 'NumberLit') {
        this.read();
        steps.push(this.legacyIndex(stepDot, tok, true));
        lastRange = tok.range;
        continue;
      }
      if (tok.type !== 'Ident') {
        if (!this.recovery) {
          if (tok.type === 'Star') {
            this.error('Nested splat expression not allowed', 'A splat expression (*) cannot be used inside another attribute-only splat expression.', tok.range);
          } else {
            this.error('Invalid attribute name', 'An attribute name is required after a dot.', tok.range);
          }
        }
        this.recovery = true;
        break;
      }
      this.read();
      steps.push({ kind: 'attr', name: tok.bytes, range: rangeBetween(stepDot.range, tok.range) });
      lastRange = tok.range;
    }
    const each: Expression = steps.length === 0 ? item : { kind: 'relativeTraversal', source: item, traversal: steps, range: rangeBetween(firstRange, lastRange) };
    return { kind: 'splat', source, each, item, range: rangeBetween(from.range, lastRange), markerRange };
  }

  private numberLiteral(tok: Token): LiteralExpr {
    if (!NUMBER.test(tok.bytes)) {
      this.error('Invalid number literal', 'Failed to recognize the value of this number literal.', tok.range);
      return placeholder(tok.range);
    }
    return { kind: 'literal', value: { type: 'number', text: tok.bytes }, range: tok.range };
  }

  private parseTerm(): Expression {
    const start = this.peek();
    switch (start.type) {
      case 'OParen': {
        const open = this.read();
        this.pushNewlines(false);
        const mark = this.errorCount;
        const expr = this.parseExpression();
        if (this.errorCount > mark) {
          this.recover('CParen');
          this.popNewlines();
          return expr;
        }
        const close = this.peek();
        if (close.type !== 'CParen') {
          this.error('Unbalanced parentheses', 'Expected a closing parenthesis to terminate the expression.', close.range);
          this.recovery = true;
        }
        const cParen = this.read();
        this.popNewlines();
        return { kind: 'parens', expr, range: rangeBetween(open.range, cParen.range) };
      }
      case 'NumberLit':
        return this.numberLiteral(this.read());
      case 'Ident': {
        const tok = this.read();
        const after = this.peek().type;
        if (after === 'OParen' || after === 'DoubleColon') return this.finishFunctionCall(tok);
        if (tok.bytes === 'true' || tok.bytes === 'false') return { kind: 'literal', value: { type: 'bool', value: tok.bytes === 'true' }, range: tok.range };
        if (tok.bytes === 'null') return { kind: 'literal', value: { type: 'null' }, range: tok.range };
        return { kind: 'scopeTraversal', root: tok.bytes, rootRange: tok.range, traversal: [], range: tok.range };
      }
      case 'OQuote':
      case 'OHeredoc': {
        const open = this.read();
        this.enter(open.range);
        const expr = this.parseTemplateUntil(start.type === 'OQuote' ? 'CQuote' : 'CHeredoc', open.bytes.startsWith('<<-'), open.range);
        this.leave();
        return expr;
      }
      case 'Minus':
      case 'Bang': {
        const tok = this.read();
        this.enter(tok.range);
        const operand = this.parseWithTraversals();
        this.leave();
        return { kind: 'unary', op: tok.type === 'Minus' ? '-' : '!', operand, range: rangeBetween(tok.range, operand.range) };
      }
      case 'OBrack':
        return this.parseTupleCons();
      case 'OBrace':
        return this.parseObjectCons();
      default:
        if (!this.recovery) {
          if (start.type === 'EOF') {
            this.error('Missing expression', 'Expected the start of an expression, but found the end of the file.', start.range);
          } else {
            this.error('Invalid expression', 'Expected the start of an expression, but found an invalid expression token.', start.range);
          }
        }
        this.recovery = true;
        return placeholder(start.range);
    }
  }

  private finishFunctionCall(name: Token): Expression {
    let openTok = this.read();
    let fullName = name.bytes;
    let nameEnd = name.range.end;
    while (openTok.type === 'DoubleColon') {
      const nextName = this.read();
      if (nextName.type !== 'Ident') {
        this.error('Missing function name', 'Function scope resolution symbol :: must be followed by a function name in this scope.', nextName.range);
        this.recoverOver('OParen');
        return placeholder(rangeBetween(name.range, nextName.range));
      }
      fullName += `::${nextName.bytes}`;
      nameEnd = nextName.range.end;
      openTok = this.read();
    }
    const nameRange: Range = { filename: name.range.filename, start: name.range.start, end: nameEnd };
    if (openTok.type !== 'OParen') {
      this.error('Missing open parenthesis', 'Function selector must be followed by an open parenthesis to begin the function call.', openTok.range);
      this.recoverOver('OParen');
      return placeholder(rangeBetween(name.range, openTok.range));
    }
    const args: Expression[] = [];
    let expandFinal = false;
    let closeTok: Token | undefined;
    this.pushNewlines(false);
    for (;;) {
      if (this.peek().type === 'CParen') {
        closeTok = this.read();
        break;
      }
      const mark = this.errorCount;
      args.push(this.parseExpression());
      if (this.recovery && this.errorCount > mark) {
        const recovered = this.recover('CParen');
        if (recovered.type === 'CParen') closeTok = recovered;
        break;
      }
      const sep = this.read();
      if (sep.type === 'CParen') {
        closeTok = sep;
        break;
      }
      if (sep.type === 'Ellipsis') {
        expandFinal = true;
        if (this.peek().type !== 'CParen') {
          if (!this.recovery) {
            this.error('Missing closing parenthesis', 'An expanded function argument (with ...) must be immediately followed by closing parentheses.', sep.range);
          }
          closeTok = this.recover('CParen');
        } else {
          closeTok = this.read();
        }
        break;
      }
      if (sep.type !== 'Comma') {
        if (sep.type === 'EOF') {
          this.error('Unterminated function call', 'There is no closing parenthesis for this function call before the end of the file. This may be caused by incorrect parenthesis nesting elsewhere in this file.', rangeBetween(name.range, openTok.range));
        } else {
          this.error('Missing argument separator', 'A comma is required to separate each function argument from the next.', sep.range);
        }
        closeTok = this.recover('CParen');
        break;
      }
      if (this.peek().type === 'CParen') {
        closeTok = this.read();
        break;
      }
    }
    this.popNewlines();
    const closeRange = closeTok ? closeTok.range : this.prevRange();
    return {
      kind: 'call', name: fullName, nameRange, args, expandFinal,
      range: rangeBetween(name.range, closeRange), openParenRange: openTok.range, closeParenRange: closeRange,
    };
  }

  private parseTupleCons(): Expression {
    const open = this.read();
    this.pushNewlines(false);
    try {
      if (isKeyword(this.peek(), 'for')) return this.finishFor(open);
      const items: Expression[] = [];
      let close: Token;
      for (;;) {
        if (this.peek().type === 'CBrack') {
          close = this.read();
          break;
        }
        const mark = this.errorCount;
        items.push(this.parseExpression());
        if (this.recovery && this.errorCount > mark) {
          close = this.recover('CBrack');
          break;
        }
        const next = this.peek();
        if (next.type === 'CBrack') {
          close = this.read();
          break;
        }
        if (next.type !== 'Comma') {
          if (!this.recovery) {
            if (next.type === 'EOF') {
              this.error('Unterminated tuple constructor expression', 'There is no corresponding closing bracket before the end of the file. This may be caused by incorrect bracket nesting elsewhere in this file.', open.range);
            } else {
              this.error('Missing item separator', 'Expected a comma to mark the beginning of the next item.', next.range);
            }
          }
          close = this.recover('CBrack');
          break;
        }
        this.read();
      }
      return { kind: 'tuple', items, range: rangeBetween(open.range, close.range) };
    } finally {
      this.popNewlines();
    }
  }

  private parseObjectCons(): Expression {
    const open = this.read();
    this.pushNewlines(false);
    const isFor = isKeyword(this.peek(), 'for');
    this.popNewlines();
    if (isFor) {
      this.pushNewlines(false);
      try {
        return this.finishFor(open);
      } finally {
        this.popNewlines();
      }
    }
    this.pushNewlines(true);
    const items: { key: Expression; value: Expression }[] = [];
    let close: Token;
    for (;;) {
      let next = this.peek();
      if (next.type === 'Newline') {
        this.read();
        continue;
      }
      if (next.type === 'CBrace') {
        close = this.read();
        break;
      }
      const forceNonLiteral = next.type === 'OParen';
      const keyMark = this.errorCount;
      const keyExpr = this.parseExpression();
      if (this.recovery && this.errorCount > keyMark) {
        close = this.recover('CBrace');
        break;
      }
      const key: Expression = { kind: 'objectKey', wrapped: keyExpr, forceNonLiteral, range: keyExpr.range };
      next = this.peek();
      if (next.type !== 'Equal' && next.type !== 'Colon') {
        if (!this.recovery) {
          if (next.type === 'Newline' || next.type === 'Comma') {
            this.error('Missing attribute value', 'Expected an attribute value, introduced by an equals sign ("=").', next.range);
          } else if (next.type === 'Ident') {
            this.error('Missing key/value separator', 'Expected an equals sign ("=") to mark the beginning of the attribute value. If you intended to given an attribute name containing periods or spaces, write the name in quotes to create a string literal.', next.range);
          } else if (next.type === 'EOF') {
            this.error('Unterminated object constructor expression', 'There is no corresponding closing brace before the end of the file. This may be caused by incorrect brace nesting elsewhere in this file.', open.range);
          } else {
            this.error('Missing key/value separator', 'Expected an equals sign ("=") to mark the beginning of the attribute value.', next.range);
          }
        }
        close = this.recover('CBrace');
        break;
      }
      this.read();
      const valueMark = this.errorCount;
      const value = this.parseExpression();
      items.push({ key, value });
      if (this.recovery && this.errorCount > valueMark) {
        close = this.recover('CBrace');
        break;
      }
      next = this.peek();
      if (next.type === 'CBrace') {
        close = this.read();
        break;
      }
      if (next.type !== 'Comma' && next.type !== 'Newline') {
        if (!this.recovery) {
          if (next.type === 'EOF') {
            this.error('Unterminated object constructor expression', 'There is no corresponding closing brace before the end of the file. This may be caused by incorrect brace nesting elsewhere in this file.', open.range);
          } else {
            this.error('Missing attribute separator', 'Expected a newline or comma to mark the beginning of the next attribute.', next.range);
          }
        }
        close = this.recover('CBrace');
        break;
      }
      this.read();
    }
    this.popNewlines();
    return { kind: 'object', items, range: rangeBetween(open.range, close.range) };
  }

  /** `[for …]` / `{for …}` after the opening bracket; newlines are insignificant here. */
  private finishFor(open: Token): Expression {
    this.read(); // for
    const makeObj = open.type === 'OBrace';
    const closeType: TokenType = makeObj ? 'CBrace' : 'CBrack';
    const fail = (detail: string | undefined, at: Range): Expression => {
      if (detail !== undefined && !this.recovery) this.error("Invalid 'for' expression", detail, at);
      const close = this.recover(closeType);
      return placeholder(rangeBetween(open.range, close.range));
    };
    if (this.peek().type !== 'Ident') return fail("For expression requires variable name after 'for'.", this.peek().range);
    let valueVar = this.read().bytes;
    let keyVar: string | undefined;
    if (this.peek().type === 'Comma') {
      keyVar = valueVar;
      this.read();
      if (this.peek().type !== 'Ident') return fail('For expression requires value variable name after comma.', this.peek().range);
      valueVar = this.read().bytes;
    }
    if (!isKeyword(this.peek(), 'in')) return fail("For expression requires the 'in' keyword after its name declarations.", this.peek().range);
    this.read();
    const collMark = this.errorCount;
    const coll = this.parseExpression();
    if (this.recovery && this.errorCount > collMark) return fail(undefined, open.range);
    if (this.peek().type !== 'Colon') return fail('For expression requires a colon after the collection expression.', this.peek().range);
    this.read();
    const valMark = this.errorCount;
    let valExpr = this.parseExpression();
    let keyExpr: Expression | undefined;
    if (this.peek().type === 'FatArrow') {
      this.read();
      keyExpr = valExpr;
      valExpr = this.parseExpression();
    }
    if (this.recovery && this.errorCount > valMark) return fail(undefined, open.range);
    let ellipsis: Token | undefined;
    if (this.peek().type === 'Ellipsis') ellipsis = this.read();
    let condExpr: Expression | undefined;
    if (isKeyword(this.peek(), 'if')) {
      this.read();
      const condMark = this.errorCount;
      condExpr = this.parseExpression();
      if (this.recovery && this.errorCount > condMark) return fail(undefined, open.range);
    }
    let close: Token;
    if (this.peek().type === closeType) {
      close = this.read();
    } else {
      if (!this.recovery) this.error("Invalid 'for' expression", "Extra characters after the end of the 'for' expression.", this.peek().range);
      close = this.recover(closeType);
    }
    if (!makeObj) {
      if (keyExpr) this.error("Invalid 'for' expression", 'Key expression is not valid when building a tuple.', keyExpr.range);
      if (ellipsis) this.error("Invalid 'for' expression", 'Grouping ellipsis (...) cannot be used when building a tuple.', ellipsis.range);
    } else if (!keyExpr) {
      this.error("Invalid 'for' expression", 'Key expression is required when building an object.', valExpr.range);
    }
    return {
      kind: 'for', keyVar, valueVar, coll, keyExpr, valExpr, condExpr, group: ellipsis !== undefined,
      range: rangeBetween(open.range, close.range), openRange: open.range, closeRange: close.range,
    };
  }

  // ---- templates -----------------------------------------------------------------------------

  /** Parses template items up to the `end` token (already past the opener), then assembles them. */
  parseTemplateUntil(end: 'CQuote' | 'CHeredoc' | 'EOF', flush: boolean, openRange: Range): Expression {
    const { items, range } = this.parseTemplateItems(end, openRange);
    if (flush) flushHeredoc(items);
    const passthrough = items.length === 2 && items[0].t === 'interp';
    const melded = items.map(joinPieces);
    const fullRange = end === 'EOF' ? range : rangeBetween(openRange, this.prevRange());
    if (passthrough && melded[0].t === 'interp') {
      return { kind: 'templateWrap', wrapped: melded[0].expr, range: fullRange };
    }
    const builder = new TemplateAssembler(melded, this);
    return { kind: 'template', parts: builder.parseRoot(), range: fullRange };
  }

  private parseTemplateItems(end: TokenType, openRange: Range): { items: RawTemplateItem[]; range: Range } {
    const items: RawTemplateItem[] = [];
    const startRange = this.peek().range;
    let ltrimNext = false;
    let nextCanTrimPrev = false;
    let endRange: Range;
    for (;;) {
      const next = this.read();
      if (next.type === end) {
        endRange = next.range;
        break;
      }
      const ltrim = ltrimNext;
      ltrimNext = false;
      const canTrimPrev = nextCanTrimPrev;
      nextCanTrimPrev = false;
      const trimPrevious = (): void => {
        if (canTrimPrev && next.bytes.endsWith('~') && items.length > 0) {
          const prev = items[items.length - 1];
          if (prev.t === 'literal') prev.pieces[prev.pieces.length - 1] = trimSpaceRight(prev.pieces[prev.pieces.length - 1]);
        }
      };
      if (next.type === 'StringLit' || next.type === 'QuotedLit') {
        let value = this.decodeLiteral(next);
        if (ltrim) value = trimSpaceLeft(value);
        const prev = items[items.length - 1];
        if (prev !== undefined && prev.t === 'literal') {
          prev.pieces.push(value);
          prev.range = { filename: prev.range.filename, start: prev.range.start, end: next.range.end };
        } else {
          items.push({ t: 'literal', pieces: [value], range: next.range });
        }
        nextCanTrimPrev = true;
        continue;
      }
      if (next.type === 'TemplateInterp') {
        trimPrevious();
        this.pushNewlines(false);
        const expr = this.parseExpression();
        const close = this.peek();
        if (close.type !== 'TemplateSeqEnd') {
          if (!this.recovery) {
            if (close.type === 'EOF') {
              this.error('Unclosed template interpolation sequence', 'There is no closing brace for this interpolation sequence before the end of the file. This might be caused by incorrect nesting inside the given expression.', next.range);
            } else if (close.type === 'Colon') {
              this.error('Extra characters after interpolation expression', 'Template interpolation doesn\'t expect a colon at this location. Did you intend this to be a literal sequence to be processed as part of another language? If so, you can escape it by starting with "$${" instead of just "${".', close.range);
            } else if ((close.type === 'CQuote' || close.type === 'OQuote') && end === 'CQuote') {
              this.error('Unclosed template interpolation sequence', 'There is no closing brace for this interpolation sequence before the end of the quoted template. This might be caused by incorrect nesting inside the given expression.', next.range);
            } else {
              this.error('Extra characters after interpolation expression', 'Expected a closing brace to end the interpolation expression, but found extra characters.\n\nThis can happen when you include interpolation syntax for another language, such as shell scripting, but forget to escape the interpolation start token. If this is an embedded sequence for another language, escape it by starting with "$${" instead of just "${".', close.range);
            }
          }
          this.recover('TemplateSeqEnd');
        } else {
          this.read();
          if (close.bytes.startsWith('~')) ltrimNext = true;
        }
        this.popNewlines();
        items.push({ t: 'interp', expr, range: rangeBetween(next.range, close.range) });
        continue;
      }
      if (next.type === 'TemplateControl') {
        trimPrevious();
        this.pushNewlines(false);
        const item = this.parseDirective(next);
        if (item === 'skip') {
          this.popNewlines();
          continue;
        }
        items.push(item);
        const close = this.peek();
        if (close.type !== 'TemplateSeqEnd') {
          if (!this.recovery) {
            this.error(`Extra characters in ${directiveKeyword(item)} marker`, 'Expected a closing brace to end the sequence, but found extra characters.', close.range);
          }
          this.recover('TemplateSeqEnd');
        } else {
          this.read();
          if (close.bytes.startsWith('~')) ltrimNext = true;
        }
        this.popNewlines();
        continue;
      }
      if (!this.recovery) {
        this.error('Unterminated template string', 'No closing marker was found for the string.', next.range);
      }
      const final = next.type === 'EOF' ? next : this.recover(end);
      endRange = final.range;
      break;
    }
    if (items.length === 0) {
      const at = end === 'EOF' ? startRange : openRange;
      const point = end === 'EOF' ? at.start : at.end;
      items.push({ t: 'literal', pieces: [''], range: { filename: at.filename, start: point, end: point } });
    }
    items.push({ t: 'end', range: endRange });
    return { items, range: rangeBetween(startRange, endRange) };
  }

  /** The inside of `%{ … }` after the opener; returns 'skip' after reporting a broken directive. */
  private parseDirective(opener: Token): SequenceItem | 'skip' {
    const kw = this.peek();
    if (kw.type !== 'Ident') {
      if (!this.recovery) {
        this.error('Invalid template directive', 'A template directive keyword ("if", "for", etc) is expected at the beginning of a %{ sequence.', kw.range);
      }
      this.recover('TemplateSeqEnd');
      return 'skip';
    }
    this.read();
    const upToNext = (): Range => rangeBetween(opener.range, this.peek().range);
    switch (kw.bytes) {
      case 'if': {
        const cond = this.parseExpression();
        return { t: 'if', cond, range: upToNext() };
      }
      case 'else':
      case 'endif':
      case 'endfor':
        return { t: 'endctl', which: kw.bytes, range: upToNext() };
      case 'for': {
        const failFor = (detail: string): 'skip' => {
          if (!this.recovery) this.error("Invalid 'for' directive", detail, this.peek().range);
          this.recover('TemplateSeqEnd');
          return 'skip';
        };
        if (this.peek().type !== 'Ident') return failFor("For directive requires variable name after 'for'.");
        let valueVar = this.read().bytes;
        let keyVar: string | undefined;
        if (this.peek().type === 'Comma') {
          keyVar = valueVar;
          this.read();
          if (this.peek().type !== 'Ident') return failFor('For directive requires value variable name after comma.');
          valueVar = this.read().bytes;
        }
        if (!isKeyword(this.peek(), 'in')) return failFor("For directive requires 'in' keyword after names.");
        this.read();
        const coll = this.parseExpression();
        return { t: 'for', keyVar, valueVar, coll, range: upToNext() };
      }
      default: {
        if (!this.recovery) {
          const suggestion = nameSuggestion(kw.bytes, ['if', 'for', 'else', 'endif', 'endfor']);
          this.error('Invalid template control keyword', `"${kw.bytes}" is not a valid template control keyword.${suggestion ? ` Did you mean "${suggestion}"?` : ''}`, kw.range);
        }
        this.recover('TemplateSeqEnd');
        return 'skip';
      }
    }
  }

  /** The value of a literal token: escapes decoded (quoted strings) and `$${` / `%%{` unescaped. */
  private decodeLiteral(tok: Token): string {
    const raw = tok.bytes;
    const quoted = tok.type === 'QuotedLit';
    const chunks: string[] = [];
    let runStart = 0;
    let i = 0;
    const n = raw.length;
    while (i < n) {
      const c = raw.charCodeAt(i);
      if ((c === 36 || c === 37) && raw.charCodeAt(i + 1) === c && raw.charCodeAt(i + 2) === 123) {
        chunks.push(raw.slice(runStart, i), raw[i], '{');
        i += 3;
        runStart = i;
        continue;
      }
      if (quoted && c === 92) {
        chunks.push(raw.slice(runStart, i));
        i = this.decodeEscape(raw, i, tok, chunks);
        runStart = i;
        continue;
      }
      i += 1;
    }
    if (runStart === 0) return raw;
    chunks.push(raw.slice(runStart));
    return chunks.join('');
  }

  /** Decodes the escape at `raw[i]` (a backslash) into `out`; returns the index after it. */
  private decodeEscape(raw: string, i: number, tok: Token, out: string[]): number {
    const sel = raw[i + 1];
    const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };
    if (sel === undefined) {
      this.error('Invalid escape sequence', 'Backslash must be followed by an escape sequence selector character.', subRange(tok, i, i + 1));
      return i + 1;
    }
    if (simple[sel] !== undefined) {
      out.push(simple[sel]);
      return i + 2;
    }
    if (sel === 'u' || sel === 'U') {
      const want = sel === 'u' ? 4 : 8;
      let j = i + 2;
      while (j < raw.length && j < i + 2 + want && /[0-9a-fA-F]/.test(raw[j])) j += 1;
      if (j - (i + 2) !== want) {
        this.error('Invalid escape sequence', `The \\${sel} escape sequence must be followed by ${want === 4 ? 'four' : 'eight'} hexadecimal digits.`, subRange(tok, i, j));
        out.push(raw.slice(i, j));
        return j;
      }
      const cp = parseInt(raw.slice(i + 2, j), 16);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        this.error('Invalid escape sequence', `Cannot encode character U+${cp.toString(16).padStart(4, '0')} in UTF-8.`, subRange(tok, i, j));
        return j;
      }
      out.push(String.fromCodePoint(cp));
      return j;
    }
    const cp = raw.codePointAt(i + 1) as number;
    const ch = String.fromCodePoint(cp);
    this.error('Invalid escape sequence', `The symbol ${JSON.stringify(ch)} is not a valid escape sequence selector.`, subRange(tok, i, i + 1 + ch.length));
    out.push(ch);
    return i + 1 + ch.length;
  }

  // ---- depth limits for evaluators -----------------------------------------------------------

  /** Replaces expressions deeper than MAX_NESTING (long operator chains) with placeholders. */
  limitExpressionDepth(body: NativeBody): void {
    const bodies: NativeBody[] = [body];
    while (bodies.length > 0) {
      const b = bodies.pop() as NativeBody;
      for (const attr of b.attributes) attr.expr = this.limitDepth(attr.expr);
      for (const block of b.blocks) if (block.body.kind === 'native') bodies.push(block.body);
    }
  }

  limitDepth(expr: Expression): Expression {
    const tooDeep = deepestBeyond(expr, MAX_NESTING);
    if (tooDeep === undefined) return expr;
    this.error('Nesting too deep', `This expression nests operators, brackets or templates more than ${MAX_NESTING} levels deep, which is not supported.`, tooDeep.range);
    return placeholder(expr.range);
  }
}

/** Assembles template items into parts: pairs `if`/`else`/`endif` and `for`/`endfor`. */
class TemplateAssembler {
  private pos = 0;
  constructor(private readonly items: TemplateItem[], private readonly parser: Parser) {}

  private peek(): TemplateItem {
    return this.items[this.pos];
  }

  private read(): TemplateItem {
    const item = this.items[this.pos];
    if (item.t !== 'end') this.pos += 1;
    return item;
  }

  parseRoot(): TemplatePart[] {
    const parts: TemplatePart[] = [];
    while (this.peek().t !== 'end') {
      const part = this.parsePart();
      if (part) parts.push(part);
    }
    return parts;
  }

  private parsePart(): TemplatePart | undefined {
    const item = this.read();
    switch (item.t) {
      case 'literal':
        return { kind: 'literal', value: item.value, range: item.range };
      case 'interp':
        return { kind: 'interpolation', expr: item.expr, range: item.range };
      case 'if':
      case 'for': {
        this.parser.enter(item.range);
        const part = item.t === 'if' ? this.parseIf(item) : this.parseFor(item);
        this.parser.leave();
        return part;
      }
      case 'endctl':
        this.parser.error(`Unexpected ${item.which} directive`, 'The control directives within this template are unbalanced.', item.range);
        return undefined;
      case 'end':
        this.parser.error('Unexpected end of template', 'The control directives within this template are unbalanced.', item.range);
        return undefined;
    }
  }

  private parseIf(open: Extract<TemplateItem, { t: 'if' }>): TemplatePart | undefined {
    const thenParts: TemplatePart[] = [];
    let elseParts: TemplatePart[] | undefined;
    for (;;) {
      const next = this.peek();
      if (next.t === 'end') {
        this.parser.error('Unexpected end of template', `The if directive at ${rangeString(open.range)} is missing its corresponding endif directive.`, next.range);
        return undefined;
      }
      if (next.t === 'endctl') {
        this.read();
        if (next.which === 'else' && elseParts === undefined) {
          elseParts = [];
          continue;
        }
        if (next.which === 'endif') {
          return { kind: 'if', cond: open.cond, then: thenParts, else: elseParts, range: rangeBetween(open.range, next.range) };
        }
        if (next.which === 'else') {
          this.parser.error('Unexpected else directive', `Already in the else clause for the if started at ${rangeString(open.range)}.`, next.range);
        } else {
          this.parser.error(`Unexpected ${next.which} directive`, `Expecting an endif directive for the if started at ${rangeString(open.range)}.`, next.range);
        }
        return undefined;
      }
      const part = this.parsePart();
      if (part) (elseParts ?? thenParts).push(part);
    }
  }

  private parseFor(open: Extract<TemplateItem, { t: 'for' }>): TemplatePart | undefined {
    const body: TemplatePart[] = [];
    for (;;) {
      const next = this.peek();
      if (next.t === 'end') {
        this.parser.error('Unexpected end of template', `The for directive at ${rangeString(open.range)} is missing its corresponding endfor directive.`, next.range);
        return undefined;
      }
      if (next.t === 'endctl') {
        this.read();
        if (next.which === 'endfor') {
          return { kind: 'for', keyVar: open.keyVar, valueVar: open.valueVar, coll: open.coll, body, range: rangeBetween(open.range, next.range) };
        }
        if (next.which === 'else') {
          this.parser.error('Unexpected else directive', 'An else clause is not expected for a for directive.', next.range);
        } else {
          this.parser.error(`Unexpected ${next.which} directive`, `Expecting an endfor directive corresponding to the for directive at ${rangeString(open.range)}.`, next.range);
        }
        return undefined;
      }
      const part = this.parsePart();
      if (part) body.push(part);
    }
  }
}

function directiveKeyword(item: TemplateItem): string {
  if (item.t === 'endctl') return item.which;
  return item.t;
}

function isKeyword(tok: Token, word: string): boolean {
  return tok.type === 'Ident' && tok.bytes === word;
}

/** Adds a literal step to a traversal expression, or starts a relative traversal. */
function appendStep(expr: Expression, step: Traverser): Expression {
  if (expr.kind === 'scopeTraversal' || expr.kind === 'relativeTraversal') {
    expr.traversal.push(step);
    expr.range = rangeBetween(expr.range, step.range);
    return expr;
  }
  return { kind: 'relativeTraversal', source: expr, traversal: [step], range: rangeBetween(expr.range, step.range) };
}

/** The literal key of `[key]` when it is a number/bool/null literal or a plain string. */
function literalIndexKey(key: Expression): LiteralExpr | undefined {
  if (key.kind === 'literal') return key;
  if (key.kind === 'template' && key.parts.length === 1 && key.parts[0].kind === 'literal') {
    return { kind: 'literal', value: { type: 'string', value: key.parts[0].value }, range: key.range };
  }
  return undefined;
}

/** The range of `tok.bytes[from:to]`; only used within one line (quoted literals). */
function subRange(tok: Token, from: number, to: number): Range {
  const s = tok.range.start;
  const colOf = (i: number): number => s.column + [...tok.bytes.slice(0, i)].length;
  return {
    filename: tok.range.filename,
    start: { line: s.line, column: colOf(from), byte: s.byte + from },
    end: { line: s.line, column: colOf(to), byte: s.byte + to },
  };
}

/** Unicode white space as Go's `unicode.IsSpace` defines it. */
function isSpace(ch: string): boolean {
  return ch !== '\ufeff' && (/\s/u.test(ch) || ch === '\u0085');
}

function trimSpaceLeft(s: string): string {
  let i = 0;
  while (i < s.length && isSpace(s[i])) i += 1;
  return s.slice(i);
}

function trimSpaceRight(s: string): string {
  let i = s.length;
  while (i > 0 && isSpace(s[i - 1])) i -= 1;
  return s.slice(0, i);
}

/**
 * `<<-` heredocs: removes from each line-leading literal token the smallest number of leading
 * white-space characters among the non-blank lines (a line starting with a sequence counts 0),
 * as HCL does, token by token (a literal item holds one piece per token).
 */
function flushHeredoc(items: RawTemplateItem[]): void {
  let minSpaces = Number.MAX_SAFE_INTEGER;
  let newline = true;
  const adjust: [Extract<RawTemplateItem, { t: 'literal' }>, number][] = [];
  const visit = (spacesOf: () => number): void => {
    if (!newline) return;
    newline = false;
    minSpaces = Math.min(minSpaces, spacesOf());
  };
  for (const item of items) {
    if (item.t === 'end') break;
    if (item.t !== 'literal') {
      visit(() => 0);
      continue;
    }
    item.pieces.forEach((piece, j) => {
      visit(() => {
        const trimmed = trimSpaceLeft(piece);
        if (trimmed.length === 0 && piece.endsWith('\n')) return Number.MAX_SAFE_INTEGER;
        adjust.push([item, j]);
        return [...piece.slice(0, piece.length - trimmed.length)].length;
      });
      if (piece.endsWith('\n')) newline = true;
    });
  }
  for (const [item, j] of adjust) {
    const piece = item.pieces[j];
    const removed = [...piece.slice(0, minSpaces * 2)].slice(0, minSpaces).join('').length;
    item.pieces[j] = piece.slice(removed);
    if (j === 0) {
      const start = item.range.start;
      item.range = { ...item.range, start: { line: start.line, column: start.column + minSpaces, byte: start.byte + removed } };
    }
  }
}

/** A literal item's final text. */
function joinPieces(item: RawTemplateItem): TemplateItem {
  if (item.t !== 'literal') return item;
  return { t: 'literal', value: item.pieces.length === 1 ? item.pieces[0] : item.pieces.join(''), range: item.range };
}

/** The closest candidate to `given` (Levenshtein distance < 3), as HCL suggests names. */
export function nameSuggestion(given: string, candidates: readonly string[]): string | undefined {
  for (const candidate of candidates) {
    if (levenshtein(given, candidate) < 3) return candidate;
  }
  return undefined;
}

function levenshtein(a: string, b: string): number {
  const s = [...a];
  const t = [...b];
  if (Math.abs(s.length - t.length) >= 3) return 3;
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const cur = [i];
    for (let j = 1; j <= t.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[t.length];
}

/** Child expressions of a node, for depth checks. */
function children(e: Expression): Expression[] {
  switch (e.kind) {
    case 'literal': case 'scopeTraversal': case 'anonSymbol': case 'json':
      return [];
    case 'template':
      return templateChildren(e.parts);
    case 'templateWrap':
      return [e.wrapped];
    case 'relativeTraversal':
      return [e.source];
    case 'call':
      return e.args;
    case 'conditional':
      return [e.cond, e.then, e.else];
    case 'binary':
      return [e.left, e.right];
    case 'unary':
      return [e.operand];
    case 'tuple':
      return e.items;
    case 'object':
      return e.items.flatMap((i) => [i.key, i.value]);
    case 'objectKey':
      return [e.wrapped];
    case 'for':
      return [e.coll, e.valExpr, ...(e.keyExpr ? [e.keyExpr] : []), ...(e.condExpr ? [e.condExpr] : [])];
    case 'index':
      return [e.collection, e.key];
    case 'splat':
      return [e.source, e.each];
    case 'parens':
      return [e.expr];
  }
}

function templateChildren(parts: TemplatePart[]): Expression[] {
  const out: Expression[] = [];
  const stack = [...parts];
  while (stack.length > 0) {
    const p = stack.pop() as TemplatePart;
    if (p.kind === 'interpolation') out.push(p.expr);
    else if (p.kind === 'if') {
      out.push(p.cond);
      stack.push(...p.then, ...(p.else ?? []));
    } else if (p.kind === 'for') {
      out.push(p.coll);
      stack.push(...p.body);
    }
  }
  return out;
}

/** The first node found deeper than `limit` levels below `root` (iterative walk), if any. */
function deepestBeyond(root: Expression, limit: number): Expression | undefined {
  const stack: [Expression, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [e, d] = stack.pop() as [Expression, number];
    if (d > limit) return e;
    for (const c of children(e)) stack.push([c, d + 1]);
  }
  return undefined;
}

/**
 * The scanner of HCL's native syntax: source text → tokens.
 *
 * Contracts:
 * - `lex` never throws and runs in time linear in the source length. `TokenStream` gives the
 *   same tokens one at a time (the parser uses it, so that it never holds them all).
 * - The concatenation of the `bytes` of the returned tokens is the source exactly (spaces and
 *   tabs between tokens are `Spaces` tokens); the last token is always `EOF` (empty).
 * - Token kinds and boundaries follow HCL's scanner (`scan_tokens.rl`): line comments include
 *   their newline, heredoc openers include theirs, a heredoc's closing marker is a `CHeredoc`
 *   followed by a separate `Newline`, `${~` / `%{~` / `~}` carry their strip markers, and
 *   escapes (`\n`, `$${`, `%%{`) stay raw inside literal tokens for the parser to decode.
 * - Positions: 1-based line and column (columns count code points), `byte` = UTF-16 offset.
 * - Diagnostics report characters the language never uses (as HCL's `checkInvalidTokens`),
 *   newlines inside quoted strings, and unterminated block comments.
 */
import { errorDiag, type Diagnostic, type Pos } from '../diagnostics.js';
import type { Token, TokenType } from './ast.js';

export interface LexOptions {
  /** 'config' (default) scans a configuration file or expression; 'template' scans a bare
   * template (literal text with `${…}` / `%{…}` sequences), as for HCL JSON strings. */
  mode?: 'config' | 'template';
  /** Position of the first character (default line 1, column 1, byte 0). */
  start?: Pos;
}

type Frame =
  | { kind: 'main' }
  | { kind: 'string' }
  | { kind: 'heredoc'; marker: string; startOfLine: boolean }
  | { kind: 'bare' };

const CH_TAB = 9;
const CH_LF = 10;
const CH_CR = 13;
const CH_SPACE = 32;
const CH_DOLLAR = 36;
const CH_PERCENT = 37;
const CH_BACKSLASH = 92;
const CH_QUOTE = 34;
const CH_OBRACE = 123;
const CH_TILDE = 126;

const ID_START = /^\p{ID_Start}$/u;
const ID_CONTINUE = /^\p{ID_Continue}$/u;

const SINGLE_CHAR: Record<string, TokenType> = {
  '[': 'OBrack', ']': 'CBrack', '(': 'OParen', ')': 'CParen', ',': 'Comma', '*': 'Star',
  '/': 'Slash', '%': 'Percent', '+': 'Plus', '-': 'Minus', '?': 'Question', '^': 'BitwiseXor',
  ';': 'Semicolon', '`': 'Backtick', "'": 'Quote',
};

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Length in UTF-16 units of the identifier starting at `i` (0 if none). */
function identLength(src: string, i: number): number {
  const n = src.length;
  let p = i;
  const first = src.codePointAt(p);
  if (first === undefined) return 0;
  if (first === 95 || (first >= 65 && first <= 90) || (first >= 97 && first <= 122)) p += 1;
  else if (first > 127 && ID_START.test(String.fromCodePoint(first))) p += first > 0xffff ? 2 : 1;
  else return 0;
  while (p < n) {
    const c = src.charCodeAt(p);
    if (c === 95 || c === 45 || isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) {
      p += 1;
      continue;
    }
    if (c < 128) break;
    const cp = src.codePointAt(p) as number;
    if (!ID_CONTINUE.test(String.fromCodePoint(cp))) break;
    p += cp > 0xffff ? 2 : 1;
  }
  return p - i;
}

/** End of the number literal starting at digit `i`: digits, `.`, and exponents, not ending in `.`. */
function numberEnd(src: string, i: number): number {
  const n = src.length;
  let p = i;
  let good = i;
  while (p < n) {
    const c = src.charCodeAt(p);
    if (isDigit(c)) {
      p += 1;
      good = p;
    } else if (c === 46) {
      p += 1;
    } else if (c === 101 || c === 69) {
      let q = p + 1;
      const s = src.charCodeAt(q);
      if (s === 43 || s === 45) q += 1;
      if (!isDigit(src.charCodeAt(q))) break;
      p = q + 1;
      good = p;
    } else {
      break;
    }
  }
  return good;
}

/** True for characters that start no token in the main scanner (they become `Invalid`). */
function isInvalidInMain(src: string, i: number): boolean {
  const c = src.charCodeAt(i);
  if (c < 128) {
    if (c === CH_SPACE || c === CH_TAB || c === CH_LF || c === CH_CR) return false;
    if (c < 32 || c === 127) return true;
    return c === 36 || c === 64 || c === 92; // $ @ \
  }
  if (isHighSurrogate(c) || isLowSurrogate(c)) {
    if (!isHighSurrogate(c) || !isLowSurrogate(src.charCodeAt(i + 1))) return false; // BadUTF8
  }
  if (i === 0 && c === 0xfeff) return false;
  return identLength(src, i) === 0;
}

/** Scans `source` into tokens. See the module comment for the contract. */
export function lex(source: string, filename: string, options: LexOptions = {}): { tokens: Token[]; diagnostics: Diagnostic[] } {
  const stream = new TokenStream(source, filename, options);
  const tokens: Token[] = [];
  for (;;) {
    const tok = stream.next();
    tokens.push(tok);
    if (tok.type === 'EOF') break;
  }
  return { tokens, diagnostics: stream.diagnostics };
}

/**
 * The same tokens as `lex`, produced one at a time, so that a consumer (the parser) holds only
 * the tokens it still needs: memory stays small even for inputs of millions of tokens.
 * `diagnostics` grows as tokens are scanned; it is complete once `EOF` has been returned.
 * After `EOF`, `next` keeps returning that `EOF` token.
 */
export class TokenStream {
  readonly diagnostics: Diagnostic[] = [];
  private readonly tokens: Generator<Token, void, undefined>;
  private eof: Token | undefined;

  constructor(source: string, filename: string, options: LexOptions = {}) {
    this.tokens = scanTokens(source, filename, options, new InvalidTokenReporter(this.diagnostics));
  }

  next(): Token {
    if (this.eof) return this.eof;
    const r = this.tokens.next();
    const tok = r.done ? undefined : r.value;
    if (tok === undefined || tok.type === 'EOF') {
      this.eof = tok ?? this.eof;
      if (this.eof === undefined) throw new Error('scanner ended without EOF');
      return this.eof;
    }
    return tok;
  }
}

function* scanTokens(source: string, filename: string, options: LexOptions, reporter: InvalidTokenReporter): Generator<Token, void, undefined> {
  const src = source;
  const n = src.length;
  const pending: Token[] = [];
  const start = options.start ?? { line: 1, column: 1, byte: 0 };
  const byteBase = start.byte;
  let line = start.line;
  let column = start.column;

  const frames: Frame[] = [options.mode === 'template' ? { kind: 'bare' } : { kind: 'main' }];
  let braces = 0;
  const retBraces: number[] = [];

  // Consecutive tokens share the Pos object where one ends and the next starts.
  let lastEnd: Pos = { line, column, byte: byteBase };
  const emit = (type: TokenType, from: number, to: number): void => {
    const startPos = lastEnd;
    for (let i = from; i < to; i++) {
      const c = src.charCodeAt(i);
      if (c === CH_LF) {
        line += 1;
        column = 1;
      } else if (c === CH_CR && src.charCodeAt(i + 1) === CH_LF) {
        // counted with the following \n
      } else if (isLowSurrogate(c) && i > 0 && isHighSurrogate(src.charCodeAt(i - 1))) {
        // second half of a code point
      } else if (!(i === 0 && c === 0xfeff)) {
        column += 1;
      }
    }
    lastEnd = { line, column, byte: byteBase + to };
    const tok: Token = { type, bytes: src.slice(from, to), range: { filename, start: startPos, end: lastEnd } };
    reporter.check(tok);
    pending.push(tok);
  };

  const beginSequence = (type: 'TemplateInterp' | 'TemplateControl', p: number): number => {
    const end = src.charCodeAt(p + 2) === CH_TILDE ? p + 3 : p + 2;
    emit(type, p, end);
    braces += 1;
    retBraces.push(braces);
    const top = frames[frames.length - 1];
    if (top.kind === 'heredoc') top.startOfLine = false;
    frames.push({ kind: 'main' });
    return end;
  };

  /** Handles `}` or `~}` in the main scanner: ends a template sequence or closes a brace. */
  const closeBrace = (p: number, len: number): number => {
    const matchesSequence = retBraces.length > 0 && retBraces[retBraces.length - 1] === braces;
    if (matchesSequence) {
      emit('TemplateSeqEnd', p, p + len);
      retBraces.pop();
      frames.pop();
    } else {
      emit(len === 2 ? 'TemplateSeqEnd' : 'CBrace', p, p + len);
    }
    braces -= 1;
    return p + len;
  };

  /** End of a literal run in a template: stops before `${`, `%{`, and (per `stopAt`) other characters. */
  const templateLiteralEnd = (p: number, stopAt: (c: number) => boolean, escapes: boolean): number => {
    while (p < n) {
      const c = src.charCodeAt(p);
      if (c === CH_DOLLAR || c === CH_PERCENT) {
        const next = src.charCodeAt(p + 1);
        if (next === CH_OBRACE) break;
        if (next === c && src.charCodeAt(p + 2) === CH_OBRACE) {
          p += 3; // `$${` or `%%{`: an escaped sequence opener, literal text
          continue;
        }
        p += 1;
        continue;
      }
      if (stopAt(c)) break;
      if (escapes && c === CH_BACKSLASH) {
        const next = src.charCodeAt(p + 1);
        if (Number.isNaN(next) || next === CH_LF || next === CH_CR) break;
        p += 2;
        continue;
      }
      if (isHighSurrogate(c)) {
        if (!isLowSurrogate(src.charCodeAt(p + 1))) break;
        p += 2;
        continue;
      }
      if (isLowSurrogate(c)) break;
      p += 1;
    }
    return p;
  };

  const isBadSurrogateAt = (p: number): boolean => {
    const c = src.charCodeAt(p);
    return isLowSurrogate(c) || (isHighSurrogate(c) && !isLowSurrogate(src.charCodeAt(p + 1)));
  };

  let p = 0;
  const one = (type: TokenType): void => {
    emit(type, p, p + 1);
    p += 1;
  };
  const two = (type: TokenType): void => {
    emit(type, p, p + 2);
    p += 2;
  };
  if (n > 0 && src.charCodeAt(0) === 0xfeff && options.mode !== 'template') {
    emit('Spaces', 0, 1);
    p = 1;
  }

  for (;;) {
    // Hand out what the previous step scanned (`continue` below comes back here).
    for (let k = 0; k < pending.length; k++) yield pending[k];
    pending.length = 0;
    if (p >= n) break;
    const frame = frames[frames.length - 1];
    const c = src.charCodeAt(p);

    if (frame.kind === 'string') {
      if (c === CH_QUOTE) {
        emit('CQuote', p, p + 1);
        frames.pop();
        p += 1;
      } else if ((c === CH_DOLLAR || c === CH_PERCENT) && src.charCodeAt(p + 1) === CH_OBRACE) {
        p = beginSequence(c === CH_DOLLAR ? 'TemplateInterp' : 'TemplateControl', p);
      } else if (c === CH_LF || c === CH_CR) {
        let q = p + 1;
        while (q < n && (src.charCodeAt(q) === CH_LF || src.charCodeAt(q) === CH_CR)) q += 1;
        emit('QuotedNewline', p, q);
        p = q;
      } else if (isBadSurrogateAt(p)) {
        emit('BadUTF8', p, p + 1);
        p += 1;
      } else {
        const end = templateLiteralEnd(p, (ch) => ch === CH_QUOTE || ch === CH_LF || ch === CH_CR, true);
        if (end === p) {
          emit('Invalid', p, p + 1); // a backslash at the end of a line or of the input
          p += 1;
        } else {
          emit('QuotedLit', p, end);
          p = end;
        }
      }
      continue;
    }

    if (frame.kind === 'heredoc' || frame.kind === 'bare') {
      if ((c === CH_DOLLAR || c === CH_PERCENT) && src.charCodeAt(p + 1) === CH_OBRACE) {
        p = beginSequence(c === CH_DOLLAR ? 'TemplateInterp' : 'TemplateControl', p);
        continue;
      }
      if (isBadSurrogateAt(p)) {
        emit('BadUTF8', p, p + 1);
        p += 1;
        if (frame.kind === 'heredoc') frame.startOfLine = false;
        continue;
      }
      if (frame.kind === 'bare') {
        // One literal token per line, as in HCL (strip markers trim only the adjacent token).
        let end = templateLiteralEnd(p, (ch) => ch === CH_LF, false);
        if (end < n && src.charCodeAt(end) === CH_LF) end += 1;
        emit('StringLit', p, end);
        p = end;
        continue;
      }
      let end = templateLiteralEnd(p, (ch) => ch === CH_LF, false);
      const endsLine = end < n && src.charCodeAt(end) === CH_LF;
      const lineEnd = end > p && src.charCodeAt(end - 1) === CH_CR && endsLine ? end - 1 : end;
      // As in HCL, the closing marker must be a whole line ended by a newline.
      if (frame.startOfLine && endsLine && src.slice(p, lineEnd).trim() === frame.marker) {
        emit('CHeredoc', p, lineEnd);
        emit('Newline', lineEnd, end + 1);
        frames.pop();
        p = end + 1;
        continue;
      }
      if (endsLine) end += 1;
      emit('StringLit', p, end);
      frame.startOfLine = endsLine;
      p = end;
      continue;
    }

    // main scanner
    if (c === CH_SPACE || c === CH_TAB) {
      let q = p + 1;
      while (q < n && (src.charCodeAt(q) === CH_SPACE || src.charCodeAt(q) === CH_TAB)) q += 1;
      emit('Spaces', p, q);
      p = q;
      continue;
    }
    if (c === CH_LF) {
      emit('Newline', p, p + 1);
      p += 1;
      continue;
    }
    if (c === CH_CR && src.charCodeAt(p + 1) === CH_LF) {
      emit('Newline', p, p + 2);
      p += 2;
      continue;
    }
    if (isDigit(c)) {
      const end = numberEnd(src, p);
      emit('NumberLit', p, end);
      p = end;
      continue;
    }
    const identLen = identLength(src, p);
    if (identLen > 0) {
      emit('Ident', p, p + identLen);
      p += identLen;
      continue;
    }
    const next = src.charCodeAt(p + 1);
    const ch = src[p];
    if (ch === '#' || (ch === '/' && next === 47)) {
      let q = src.indexOf('\n', p);
      q = q < 0 ? n : q + 1;
      emit('Comment', p, q);
      p = q;
      continue;
    }
    if (ch === '/' && next === 42) {
      const close = src.indexOf('*/', p + 2);
      const end = close < 0 ? n : close + 2;
      emit('Comment', p, end);
      p = end;
      continue;
    }
    if (ch === '<' && next === 60) {
      let q = p + 2;
      if (src.charCodeAt(q) === 45) q += 1;
      const markerLen = identLength(src, q);
      if (markerLen > 0) {
        const marker = src.slice(q, q + markerLen);
        q += markerLen;
        if (src.charCodeAt(q) === CH_CR && src.charCodeAt(q + 1) === CH_LF) q += 1;
        if (src.charCodeAt(q) === CH_LF) {
          emit('OHeredoc', p, q + 1);
          frames.push({ kind: 'heredoc', marker, startOfLine: true });
          p = q + 1;
          continue;
        }
      }
    }
    switch (ch) {
      case '=':
        if (next === 61) two('EqualOp');
        else if (next === 62) two('FatArrow');
        else one('Equal');
        continue;
      case '!':
        if (next === 61) two('NotEqual');
        else one('Bang');
        continue;
      case '<':
        if (next === 61) two('LessThanEq');
        else one('LessThan');
        continue;
      case '>':
        if (next === 61) two('GreaterThanEq');
        else one('GreaterThan');
        continue;
      case '&':
        if (next === 38) two('And');
        else one('BitwiseAnd');
        continue;
      case '|':
        if (next === 124) two('Or');
        else one('BitwiseOr');
        continue;
      case ':':
        if (next === 58) two('DoubleColon');
        else one('Colon');
        continue;
      case '.':
        if (next === 46 && src.charCodeAt(p + 2) === 46) {
          emit('Ellipsis', p, p + 3);
          p += 3;
        } else {
          one('Dot');
        }
        continue;
      case '{':
        one('OBrace');
        braces += 1;
        continue;
      case '}':
        p = closeBrace(p, 1);
        continue;
      case '~':
        if (next === 125) p = closeBrace(p, 2);
        else one('BitwiseNot');
        continue;
      case '"':
        one('OQuote');
        frames.push({ kind: 'string' });
        continue;
      default:
        break;
    }
    const single = SINGLE_CHAR[ch];
    if (single !== undefined) {
      one(single);
      continue;
    }
    if (isBadSurrogateAt(p)) {
      one('BadUTF8');
      continue;
    }
    // A run of characters the language does not use is one Invalid token.
    let q = p + (isHighSurrogate(c) ? 2 : 1);
    while (q < n && isInvalidInMain(src, q)) q += isHighSurrogate(src.charCodeAt(q)) ? 2 : 1;
    emit('Invalid', p, q);
    p = q;
  }
  emit('EOF', n, n);
  yield pending[0];
}

/** Reports tokens that never belong in HCL source, limited as HCL's `checkInvalidTokens` limits
 * them. */
class InvalidTokenReporter {
  private toldBitwise = 0;
  private toldBacktick = 0;
  private toldApostrophe = 0;
  private toldSemicolon = 0;
  private toldBadUTF8 = 0;

  constructor(private readonly diags: Diagnostic[]) {}

  check(tok: Token): void {
    const diags = this.diags;
    switch (tok.type) {
      case 'BitwiseAnd':
      case 'BitwiseOr':
      case 'BitwiseXor':
      case 'BitwiseNot': {
        if (this.toldBitwise < 4) {
          const suggestion =
            tok.type === 'BitwiseAnd' ? ' Did you mean boolean AND ("&&")?'
              : tok.type === 'BitwiseOr' ? ' Did you mean boolean OR ("||")?'
                : tok.type === 'BitwiseNot' ? ' Did you mean boolean NOT ("!")?' : '';
          diags.push(errorDiag('Unsupported operator', `Bitwise operators are not supported.${suggestion}`, tok.range));
          this.toldBitwise += 1;
        }
        break;
      }
      case 'Backtick':
        if (this.toldBacktick % 2 === 0) {
          diags.push(errorDiag('Invalid character', 'The "`" character is not valid. To create a multi-line string, use the "heredoc" syntax, like "<<EOT".', tok.range));
        }
        if (this.toldBacktick <= 2) this.toldBacktick += 1;
        break;
      case 'Quote':
        if (this.toldApostrophe % 2 === 0) {
          diags.push(errorDiag('Invalid character', 'Single quotes are not valid. Use double quotes (") to enclose strings.', tok.range));
        }
        if (this.toldApostrophe <= 2) this.toldApostrophe += 1;
        break;
      case 'Semicolon':
        if (this.toldSemicolon < 1) {
          diags.push(errorDiag('Invalid character', 'The ";" character is not valid. Use newlines to separate arguments and blocks, and commas to separate items in collection values.', tok.range));
          this.toldSemicolon += 1;
        }
        break;
      case 'BadUTF8':
        if (this.toldBadUTF8 < 1) {
          diags.push(errorDiag('Invalid character encoding', 'All input files must be UTF-8 encoded. Ensure that UTF-8 encoding is selected in your editor.', tok.range));
          this.toldBadUTF8 += 1;
        }
        break;
      case 'QuotedNewline':
        diags.push(errorDiag('Invalid multi-line string', 'Quoted strings may not be split over multiple lines. To produce a multi-line string, either use the \\n escape to represent a newline character or use the "heredoc" multi-line template syntax.', tok.range));
        break;
      case 'Invalid':
        diags.push(errorDiag('Invalid character', 'This character is not used within the language.', tok.range));
        break;
      case 'Comment':
        if (tok.bytes.startsWith('/*') && (tok.bytes.length < 4 || !tok.bytes.endsWith('*/'))) {
          diags.push(errorDiag('Unterminated comment', 'A block comment that begins with "/*" must end with "*/".', tok.range));
        }
        break;
      default:
        break;
    }
  }
}

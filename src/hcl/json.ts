/**
 * The parser of HCL's JSON syntax (`.pkr.json`): JSON text → `JsonValue`s with source ranges.
 *
 * Contracts:
 * - `parseJsonConfig` never throws; problems are diagnostics with HCL's JSON summaries. JSON
 *   errors cascade, so parsing stops at the first one (as in HCL); the file's body is then empty.
 * - Strict JSON (RFC 8259), as Packer reads it: no comments, no trailing commas, no single quotes,
 *   no byte-order mark. Duplicate property names are kept (body decoding reports duplicate
 *   arguments, see `body.ts`).
 * - The root value must be an object, or (as HCL allows) an array of objects.
 * - Nesting deeper than `MAX_NESTING` is reported as "Nesting too deep"; time is linear.
 */
import { errorDiag, type Diagnostic, type Pos, type Range } from '../diagnostics.js';
import type { File, JsonValue } from './ast.js';
import { MAX_NESTING, nameSuggestion } from './parser.js';

/** Parses a whole HCL JSON configuration file. */
export function parseJsonConfig(source: string, filename: string): { file: File; diagnostics: Diagnostic[] } {
  const p = new JsonParser(source, filename);
  let root: JsonValue | undefined;
  try {
    p.skipSpace();
    root = p.parseValue();
    p.skipSpace();
    if (!p.atEnd()) {
      p.fail('Extraneous data after value', 'Extra characters appear after the JSON value.', p.charRange());
    }
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    root = undefined;
  }
  const diagnostics = p.diagnostics;
  if (root !== undefined && root.kind !== 'object' && root.kind !== 'array') {
    diagnostics.push(errorDiag('Root value must be object', 'The root value in a JSON-based configuration must be either a JSON object or a JSON array of objects.', startRange(root.range)));
    root = undefined;
  }
  if (root === undefined) {
    const at = p.startPos();
    root = { kind: 'object', props: [], range: { filename, start: at, end: at } };
  }
  return { file: { filename, source, body: { kind: 'json', value: root, range: root.range } }, diagnostics };
}

function startRange(r: Range): Range {
  return { filename: r.filename, start: r.start, end: { ...r.start, column: r.start.column + 1, byte: r.start.byte + 1 } };
}

class JsonSyntaxError extends Error {}

const KEYWORDS = ['true', 'false', 'null'];
const NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

class JsonParser {
  readonly diagnostics: Diagnostic[] = [];
  private i = 0;
  private line = 1;
  private column = 1;
  private depth = 0;

  constructor(private readonly src: string, private readonly filename: string) {
  }

  atEnd(): boolean {
    return this.i >= this.src.length;
  }

  startPos(): Pos {
    return { line: 1, column: 1, byte: 0 };
  }

  private pos(): Pos {
    return { line: this.line, column: this.column, byte: this.i };
  }

  /** Moves to `to`, keeping line and column (in code points) up to date. */
  private advanceTo(to: number): void {
    const s = this.src;
    for (let k = this.i; k < to; k++) {
      const c = s.charCodeAt(k);
      if (c === 10) {
        this.line += 1;
        this.column = 1;
      } else if (!(c === 13 && s.charCodeAt(k + 1) === 10) && !(c >= 0xdc00 && c <= 0xdfff && k > 0 && s.charCodeAt(k - 1) >= 0xd800 && s.charCodeAt(k - 1) <= 0xdbff)) {
        this.column += 1;
      }
    }
    this.i = to;
  }

  /** The range of the character at the current position (empty at the end of the input). */
  charRange(): Range {
    const start = this.pos();
    if (this.atEnd()) return { filename: this.filename, start, end: start };
    const cp = this.src.codePointAt(this.i) as number;
    const width = cp > 0xffff ? 2 : 1;
    return { filename: this.filename, start, end: { line: start.line, column: start.column + 1, byte: start.byte + width } };
  }

  fail(summary: string, detail: string, subject: Range): never {
    this.diagnostics.push(errorDiag(summary, detail, subject));
    throw new JsonSyntaxError(summary);
  }

  skipSpace(): void {
    const s = this.src;
    let k = this.i;
    while (k < s.length) {
      const c = s.charCodeAt(k);
      if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break;
      k += 1;
    }
    this.advanceTo(k);
  }

  private peekChar(): string {
    return this.src[this.i] ?? '';
  }

  parseValue(): JsonValue {
    const c = this.peekChar();
    switch (c) {
      case '{':
        return this.nested(() => this.parseObject());
      case '[':
        return this.nested(() => this.parseArray());
      case '"':
        return this.parseString();
      case '}':
        return this.fail('Missing JSON value', 'A JSON value must start with a brace, a bracket, a number, a string, or a keyword.', this.charRange());
      case ']':
        return this.fail('Missing array element value', 'A JSON value must start with a brace, a bracket, a number, a string, or a keyword.', this.charRange());
      case '':
        return this.fail('Missing value', 'The JSON data ends prematurely.', this.charRange());
      default:
        if (c === '-' || c === '.' || (c >= '0' && c <= '9')) return this.parseNumber();
        if (/[A-Za-z_]/.test(c)) return this.parseKeyword();
        return this.fail('Invalid start of value', 'A JSON value must start with a brace, a bracket, a number, a string, or a keyword.', this.charRange());
    }
  }

  private nested(parse: () => JsonValue): JsonValue {
    this.depth += 1;
    if (this.depth > MAX_NESTING) {
      this.fail('Nesting too deep', `This JSON value nests objects or arrays more than ${MAX_NESTING} levels deep, which is not supported.`, this.charRange());
    }
    const v = parse();
    this.depth -= 1;
    return v;
  }

  private parseObject(): JsonValue {
    const open = this.charRange();
    this.advanceTo(this.i + 1);
    const props: { name: string; nameRange: Range; value: JsonValue }[] = [];
    this.skipSpace();
    if (this.peekChar() === '}') {
      const close = this.charRange();
      this.advanceTo(this.i + 1);
      return { kind: 'object', props, range: { filename: this.filename, start: open.start, end: close.end } };
    }
    for (;;) {
      this.skipSpace();
      const key = this.parseValue();
      if (key.kind !== 'string') {
        this.fail('Invalid object property name', 'A JSON object property name must be a string.', startRange(key.range));
      }
      this.skipSpace();
      const colon = this.peekChar();
      if (colon !== ':') {
        if (colon === '}' || colon === ',') this.fail('Missing object value', 'A JSON object attribute must have a value, introduced by a colon.', this.charRange());
        if (colon === '=') this.fail('Missing property value colon', 'JSON uses a colon as its name/value delimiter, not an equals sign.', this.charRange());
        this.fail('Missing property value colon', "A colon must appear between an object property's name and its value.", this.charRange());
      }
      this.advanceTo(this.i + 1);
      this.skipSpace();
      const value = this.parseValue();
      props.push({ name: key.value, nameRange: key.range, value });
      this.skipSpace();
      const sep = this.peekChar();
      if (sep === ',') {
        const comma = this.charRange();
        this.advanceTo(this.i + 1);
        this.skipSpace();
        if (this.peekChar() === '}') this.fail('Trailing comma in object', 'JSON does not permit a trailing comma after the final property in an object.', comma);
        continue;
      }
      if (sep === '}') {
        const close = this.charRange();
        this.advanceTo(this.i + 1);
        return { kind: 'object', props, range: { filename: this.filename, start: open.start, end: close.end } };
      }
      if (sep === '') this.fail('Unclosed object', 'No closing brace was found for this JSON object.', open);
      if (sep === ']') this.fail('Mismatched braces', 'A JSON object must be closed with a brace, not a bracket.', this.charRange());
      this.fail('Missing attribute separator comma', 'A comma must appear between each property definition in an object.', this.charRange());
    }
  }

  private parseArray(): JsonValue {
    const open = this.charRange();
    this.advanceTo(this.i + 1);
    const items: JsonValue[] = [];
    this.skipSpace();
    if (this.peekChar() === ']') {
      const close = this.charRange();
      this.advanceTo(this.i + 1);
      return { kind: 'array', items, range: { filename: this.filename, start: open.start, end: close.end } };
    }
    for (;;) {
      this.skipSpace();
      items.push(this.parseValue());
      this.skipSpace();
      const sep = this.peekChar();
      if (sep === ',') {
        const comma = this.charRange();
        this.advanceTo(this.i + 1);
        this.skipSpace();
        if (this.peekChar() === ']') this.fail('Trailing comma in array', 'JSON does not permit a trailing comma after the final value in an array.', comma);
        continue;
      }
      if (sep === ']') {
        const close = this.charRange();
        this.advanceTo(this.i + 1);
        return { kind: 'array', items, range: { filename: this.filename, start: open.start, end: close.end } };
      }
      if (sep === ':') this.fail('Invalid array value', 'A colon is not used to introduce values in a JSON array.', this.charRange());
      if (sep === '') this.fail('Unclosed array', 'No closing bracket was found for this JSON array.', open);
      if (sep === '}') this.fail('Mismatched brackets', 'A JSON array must be closed with a bracket, not a brace.', this.charRange());
      this.fail('Missing array separator comma', 'A comma must appear between each value in an array.', this.charRange());
    }
  }

  private parseNumber(): JsonValue {
    const s = this.src;
    let k = this.i;
    while (k < s.length && /[-+0-9.eE]/.test(s[k])) k += 1;
    const text = s.slice(this.i, k);
    const start = this.pos();
    this.advanceTo(k);
    const range: Range = { filename: this.filename, start, end: this.pos() };
    if (!NUMBER.test(text)) this.fail('Invalid JSON number', 'There is a syntax error in the given JSON number.', range);
    return { kind: 'number', text, range };
  }

  private parseKeyword(): JsonValue {
    const s = this.src;
    let k = this.i;
    while (k < s.length && /[A-Za-z0-9_]/.test(s[k])) k += 1;
    const word = s.slice(this.i, k);
    const start = this.pos();
    this.advanceTo(k);
    const range: Range = { filename: this.filename, start, end: this.pos() };
    if (word === 'true' || word === 'false') return { kind: 'bool', value: word === 'true', range };
    if (word === 'null') return { kind: 'null', range };
    if (word === 'undefined' || word === 'NaN' || word === 'Infinity') {
      this.fail('Invalid JSON keyword', `The JavaScript identifier "${word}" cannot be used in JSON.`, range);
    }
    const suggestion = nameSuggestion(word, KEYWORDS);
    return this.fail('Invalid JSON keyword', `"${word}" is not a valid JSON keyword.${suggestion ? ` Did you mean "${suggestion}"?` : ''}`, range);
  }

  private parseString(): JsonValue & { kind: 'string' } {
    const s = this.src;
    const start = this.pos();
    const begin = this.i;
    const chunks: string[] = [];
    let k = this.i + 1;
    let runStart = k;
    const errorAt = (at: number, detail: string): never => {
      this.advanceTo(at);
      return this.fail('Invalid JSON string', detail, this.charRange());
    };
    for (;;) {
      if (k >= s.length) {
        this.advanceTo(begin);
        return this.fail('Invalid JSON string', 'There is no closing quote mark for this string before the end of the file.', this.charRange());
      }
      const c = s.charCodeAt(k);
      if (c === 34) break;
      if (c < 0x20) errorAt(k, c === 10 || c === 13 ? 'A JSON string cannot span lines; use the \\n escape sequence for a newline.' : 'Control characters must be escaped in a JSON string.');
      if (c !== 92) {
        k += 1;
        continue;
      }
      chunks.push(s.slice(runStart, k));
      const e = s[k + 1];
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e !== undefined && simple[e] !== undefined) {
        chunks.push(simple[e]);
        k += 2;
      } else if (e === 'u') {
        const hex = s.slice(k + 2, k + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) errorAt(k, 'The \\u escape sequence must be followed by four hexadecimal digits.');
        chunks.push(String.fromCharCode(parseInt(hex, 16)));
        k += 6;
      } else {
        errorAt(k, `"\\${e ?? ''}" is not a valid JSON escape sequence.`);
      }
      runStart = k;
    }
    chunks.push(s.slice(runStart, k));
    this.advanceTo(k + 1);
    return { kind: 'string', value: chunks.length === 1 ? chunks[0] : chunks.join(''), range: { filename: this.filename, start, end: this.pos() } };
  }
}

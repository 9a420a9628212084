/**
 * The part of Go's text/template that Packer's legacy JSON templates use: text with `{{ … }}`
 * actions, each a pipeline of commands (`fn arg…`, `.Field`, a literal, `( … )`) joined by `|`,
 * with `{{-` / `-}}` trimming and `{{/* comments *\/}}`. Control structures (`if`, `range`,
 * `with`, `define`, …) and variables (`$x`) are not supported and are parse errors.
 *
 * Contract:
 * - `parseGoTemplate(text, name, functions)` never throws: a syntax error or an unknown function
 *   is returned as Go's message (`template: NAME:LINE: function "x" not defined`), as Go reports
 *   unknown functions while parsing.
 * - `executeGoTemplate` runs the parsed nodes; a failing function or field is Go's
 *   `template: NAME:LINE:COL: executing "NAME" at <NODE>: …` message (COL counts bytes from 0, as
 *   Go does). Functions return a string, or a `GoRaw` that a caller uses to emit something other
 *   than text (an HCL reference); pipelines pass strings.
 * - `{{ .Field }}` asks `field(name)`: undefined means Go's "can't evaluate field" error, unless the
 *   caller keeps such actions as written (`keepFields`).
 */

/** A value a function may return instead of text: kept as a separate output part. */
export interface GoRaw {
  raw: string;
}

export type GoValue = string | number;

export interface GoFunction {
  /** Number of arguments; `variadic` allows any number from `arity`. */
  arity: number;
  variadic?: boolean;
  /** Indexes of arguments that Go declares as `int`. */
  intArgs?: readonly number[];
  /** Returns the text, or throws a `GoFunctionError` (reported as "error calling NAME: …"). */
  call(args: GoValue[]): string | GoRaw;
}

export class GoFunctionError extends Error {}

type Arg =
  | { kind: 'string'; value: string; text: string; pos: number }
  | { kind: 'number'; value: number; text: string; pos: number }
  | { kind: 'field'; name: string; pos: number }
  | { kind: 'ident'; name: string; pos: number }
  | { kind: 'pipe'; pipeline: Command[]; pos: number };

interface Command {
  args: Arg[];
  pos: number;
}

export type GoNode = { kind: 'text'; text: string } | { kind: 'action'; pipeline: Command[]; pos: number; raw: string };

export interface ParsedGoTemplate {
  nodes: GoNode[];
  error?: string;
}

/** One piece of output: text, or what a function returned as `GoRaw`. */
export type GoPart = { kind: 'text'; text: string } | { kind: 'raw'; raw: string };

function lineOf(text: string, pos: number): number {
  let n = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 10) n += 1;
  return n;
}

/** Go's byte column (from 0) of `pos` on its line. */
function columnOf(text: string, pos: number): number {
  const before = text.slice(0, pos);
  const line = before.slice(before.lastIndexOf('\n') + 1);
  return Buffer.byteLength(line, 'utf8');
}

class ParseError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /[-+]?(?:0[xX][0-9a-fA-F]+|[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)/y;
const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue', 'nil', 'true', 'false']);

/** Parses `text`; `functions` is the set of defined names (Go checks them while parsing). */
export function parseGoTemplate(text: string, name: string, functions: ReadonlySet<string>): ParsedGoTemplate {
  const nodes: GoNode[] = [];
  let i = 0;
  let trimNext = false;
  try {
    while (i < text.length) {
      const open = text.indexOf('{{', i);
      let chunk = open < 0 ? text.slice(i) : text.slice(i, open);
      if (trimNext) chunk = chunk.replace(/^[ \t\r\n]+/, '');
      trimNext = false;
      if (open < 0) {
        if (chunk) nodes.push({ kind: 'text', text: chunk });
        break;
      }
      let start = open + 2;
      if (text[start] === '-' && /[ \t\r\n]/.test(text[start + 1] ?? '')) {
        chunk = chunk.replace(/[ \t\r\n]+$/, '');
        start += 1;
      }
      if (chunk) nodes.push({ kind: 'text', text: chunk });
      const p = new ActionParser(text, start, functions);
      const action = p.parseAction();
      trimNext = action.trimRight;
      if (action.pipeline) nodes.push({ kind: 'action', pipeline: action.pipeline, pos: action.pos, raw: text.slice(open, action.end) });
      i = action.end;
    }
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    return { nodes: [], error: `template: ${name}:${lineOf(text, e.pos)}: ${e.message}` };
  }
  return { nodes };
}

class ActionParser {
  private i: number;

  constructor(
    private readonly s: string,
    start: number,
    private readonly functions: ReadonlySet<string>,
  ) {
    this.i = start;
  }

  private space(): void {
    while (this.i < this.s.length && /[ \t\r\n]/.test(this.s[this.i]!)) this.i += 1;
  }

  /** At the closing delimiter (with optional trim marker)? Returns its length, or 0. */
  private closeAt(): { len: number; trim: boolean } | undefined {
    if (this.s.startsWith('-}}', this.i) && /[ \t\r\n]/.test(this.s[this.i - 1] ?? '')) return { len: 3, trim: true };
    if (this.s.startsWith('}}', this.i)) return { len: 2, trim: false };
    return undefined;
  }

  parseAction(): { pipeline?: Command[]; pos: number; end: number; trimRight: boolean } {
    this.space();
    if (this.s.startsWith('/*', this.i)) {
      const end = this.s.indexOf('*/', this.i + 2);
      if (end < 0) throw new ParseError('unclosed comment', this.i);
      this.i = end + 2;
      this.space();
      const close = this.closeAt();
      if (!close) throw new ParseError('comment ends before closing delimiter', this.i);
      return { pos: this.i, end: this.i + close.len, trimRight: close.trim };
    }
    const pos = this.i;
    const pipeline = this.parsePipeline(false);
    const close = this.closeAt();
    if (!close) throw new ParseError(this.i >= this.s.length ? 'unclosed action' : `unexpected ${JSON.stringify(this.s[this.i])} in command`, this.i);
    if (pipeline.length === 0) throw new ParseError('missing value for command', pos);
    return { pipeline, pos, end: this.i + close.len, trimRight: close.trim };
  }

  private parsePipeline(inParens: boolean): Command[] {
    const cmds: Command[] = [];
    for (;;) {
      this.space();
      const cmd: Command = { args: [], pos: this.i };
      for (;;) {
        this.space();
        if (this.i >= this.s.length) throw new ParseError(inParens ? 'unclosed left paren' : 'unclosed action', this.i);
        if (this.closeAt() || this.s[this.i] === '|' || this.s[this.i] === ')') break;
        cmd.args.push(this.parseOperand());
      }
      if (cmd.args.length === 0) {
        if (this.s[this.i] === '|' || cmds.length > 0) throw new ParseError('missing command', this.i);
        return cmds;
      }
      cmds.push(cmd);
      if (this.s[this.i] === '|') {
        this.i += 1;
        continue;
      }
      if (this.s[this.i] === ')') {
        if (!inParens) throw new ParseError('unexpected right paren', this.i);
      }
      return cmds;
    }
  }

  private parseOperand(): Arg {
    const s = this.s;
    const pos = this.i;
    const c = s[pos]!;
    if (c === '`') {
      const end = s.indexOf('`', pos + 1);
      if (end < 0) throw new ParseError('unterminated raw quoted string', pos);
      this.i = end + 1;
      return { kind: 'string', value: s.slice(pos + 1, end), text: s.slice(pos, end + 1), pos };
    }
    if (c === '"') {
      let k = pos + 1;
      while (k < s.length && s[k] !== '"') {
        if (s[k] === '\n') throw new ParseError('unterminated quoted string', pos);
        k += s[k] === '\\' ? 2 : 1;
      }
      if (k >= s.length) throw new ParseError('unterminated quoted string', pos);
      const text = s.slice(pos, k + 1);
      this.i = k + 1;
      let value: string;
      try {
        value = JSON.parse(text.replace(/\\'/g, "'").replace(/\\a/g, '\u0007').replace(/\\v/g, '\u000b')) as string;
      } catch {
        throw new ParseError(`bad quoted string ${text}`, pos);
      }
      return { kind: 'string', value, text, pos };
    }
    if (c === '(') {
      this.i += 1;
      const pipeline = this.parsePipeline(true);
      if (s[this.i] !== ')') throw new ParseError('unclosed left paren', pos);
      this.i += 1;
      return { kind: 'pipe', pipeline, pos };
    }
    if (c === '.') {
      IDENT.lastIndex = pos + 1;
      const m = IDENT.exec(s);
      if (!m) {
        this.i = pos + 1;
        throw new ParseError('the dot (.) is not supported here: name a field, such as {{ .Name }}', pos);
      }
      this.i = pos + 1 + m[0].length;
      return { kind: 'field', name: m[0], pos };
    }
    if (c === '$') throw new ParseError('template variables ($x) are not supported in legacy templates', pos);
    NUMBER.lastIndex = pos;
    const num = /[-+0-9]/.test(c) ? NUMBER.exec(s) : null;
    if (num) {
      this.i = pos + num[0].length;
      return { kind: 'number', value: Number(num[0]), text: num[0], pos };
    }
    IDENT.lastIndex = pos;
    const id = IDENT.exec(s);
    if (id) {
      const name = id[0];
      this.i = pos + name.length;
      if (KEYWORDS.has(name)) throw new ParseError(`"${name}" is not supported in legacy templates`, pos);
      if (!this.functions.has(name)) throw new ParseError(`function "${name}" not defined`, pos);
      return { kind: 'ident', name, pos };
    }
    throw new ParseError(`unexpected ${JSON.stringify(c)} in command`, pos);
  }
}

export interface ExecuteOptions {
  functions: ReadonlyMap<string, GoFunction>;
  /** A field's value; undefined when the data has no such field. */
  field?: (name: string) => string | undefined;
  /** Go's name of the data's type, for "can't evaluate field X in type T". */
  dataType?: string;
  /** Keep `{{ .Field }}` actions as written (for a later renderer that knows them). */
  keepFields?: boolean;
}

/** Runs parsed nodes; returns the output parts, or Go's execution error. */
export function executeGoTemplate(text: string, name: string, nodes: readonly GoNode[], opts: ExecuteOptions): { parts: GoPart[]; error?: string } {
  const parts: GoPart[] = [];
  const push = (t: string): void => {
    const last = parts[parts.length - 1];
    if (last?.kind === 'text') last.text += t;
    else parts.push({ kind: 'text', text: t });
  };
  const fail = (pos: number, node: string, message: string): never => {
    throw new ExecError(`template: ${name}:${lineOf(text, pos)}:${columnOf(text, pos)}: executing "${name}" at <${node}>: ${message}`);
  };
  const cmdText = (c: Command): string => c.args.map(argText).join(' ');
  const argText = (a: Arg): string =>
    a.kind === 'string' || a.kind === 'number' ? a.text : a.kind === 'field' ? `.${a.name}` : a.kind === 'ident' ? a.name : `(${a.pipeline.map(cmdText).join(' | ')})`;

  const evalPipeline = (pipeline: readonly Command[]): string | GoRaw => {
    let prev: string | GoRaw | undefined;
    for (const cmd of pipeline) prev = evalCommand(cmd, prev);
    return prev!;
  };
  const evalArg = (a: Arg, cmd: Command): GoValue => {
    switch (a.kind) {
      case 'string':
      case 'number':
        return a.value;
      case 'field':
      case 'pipe':
      case 'ident': {
        const v = a.kind === 'pipe' ? evalPipeline(a.pipeline) : evalCommand({ args: [a], pos: a.pos }, undefined);
        if (typeof v !== 'string') return fail(cmd.pos, cmdText(cmd), 'a build value cannot be passed to another function in a legacy template');
        return v;
      }
    }
  };
  const evalCommand = (cmd: Command, piped: string | GoRaw | undefined): string | GoRaw => {
    const [first, ...rest] = cmd.args;
    if (!first) return '';
    if (first.kind !== 'ident') {
      if (rest.length > 0 || piped !== undefined) return fail(first.pos, argText(first), `can't give argument to non-function ${argText(first)}`);
      if (first.kind === 'field') {
        const v = opts.field?.(first.name);
        if (v === undefined) return fail(first.pos, argText(first), `can't evaluate field ${first.name} in type ${opts.dataType ?? 'interface {}'}`);
        return v;
      }
      const v = evalArg(first, cmd);
      return typeof v === 'number' ? String(v) : v;
    }
    const fn = opts.functions.get(first.name)!;
    const args: GoValue[] = rest.map((a) => evalArg(a, cmd));
    if (piped !== undefined) {
      if (typeof piped !== 'string') return fail(cmd.pos, cmdText(cmd), 'a build value cannot be passed to another function in a legacy template');
      args.push(piped);
    }
    if (fn.variadic ? args.length < fn.arity : args.length !== fn.arity) {
      return fail(first.pos, first.name, `wrong number of args for ${first.name}: want ${fn.variadic ? 'at least ' : ''}${fn.arity} got ${args.length}`);
    }
    for (let k = 0; k < args.length; k++) {
      const wantInt = fn.intArgs?.includes(k) ?? false;
      const v = args[k]!;
      if (wantInt && (typeof v !== 'number' || !Number.isInteger(v))) {
        return fail(first.pos, cmdText(cmd), `wrong type for value; expected int; got ${typeof v === 'number' ? 'float64' : 'string'}`);
      }
      if (!wantInt && typeof v === 'number') return fail(first.pos, cmdText(cmd), `wrong type for value; expected string; got ${Number.isInteger(v) ? 'int' : 'float64'}`);
    }
    try {
      return fn.call(args);
    } catch (e) {
      if (e instanceof GoFunctionError) return fail(first.pos, cmdText(cmd), `error calling ${first.name}: ${e.message}`);
      throw e;
    }
  };

  try {
    for (const n of nodes) {
      if (n.kind === 'text') {
        push(n.text);
        continue;
      }
      const only = n.pipeline.length === 1 && n.pipeline[0]!.args.length === 1 ? n.pipeline[0]!.args[0]! : undefined;
      if (opts.keepFields && only?.kind === 'field') {
        push(n.raw);
        continue;
      }
      const v = evalPipeline(n.pipeline);
      if (typeof v === 'string') push(v);
      else parts.push({ kind: 'raw', raw: v.raw });
    }
  } catch (e) {
    if (e instanceof ExecError) return { parts, error: e.message };
    throw e;
  }
  return { parts };
}

class ExecError extends Error {}

/** Parses and runs `text` in one go. */
export function renderGo(text: string, name: string, opts: ExecuteOptions): { parts: GoPart[]; error?: string; phase?: 'parse' | 'execute' } {
  const parsed = parseGoTemplate(text, name, new Set(opts.functions.keys()));
  if (parsed.error) return { parts: [], error: parsed.error, phase: 'parse' };
  const r = executeGoTemplate(text, name, parsed.nodes, opts);
  return r.error ? { ...r, phase: 'execute' } : r;
}

/** The text of parts, with raw parts written by `raw`. */
export function joinParts(parts: readonly GoPart[], raw: (r: string) => string = (r) => r): string {
  return parts.map((p) => (p.kind === 'text' ? p.text : raw(p.raw))).join('');
}

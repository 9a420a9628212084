/**
 * YAML as go-cty-yaml reads and writes it for `yamldecode` / `yamlencode`.
 *
 * Decoding: one document (see `yamlDecode`); numbers kept exact from their source text.
 * Encoding: block style, every string double-quoted unless it spans lines (then a literal `|`
 * block with the chomping indicator its trailing newlines need), keys double-quoted, sequences
 * inside mappings not indented (as libyaml emits them), `[]` / `{}` for empty collections.
 */
import type * as Yaml from 'yaml';
import type { Node } from 'yaml';
import { NumberContext, Value } from '../values/value.js';
import { lazyRequire } from '../lazy-require.js';

/** The yaml package (about 50 ms to load), loaded when `yamldecode` first runs. */
const yaml = lazyRequire<typeof Yaml>('yaml');

export class YamlError extends Error {}

const LONG_TAG = 'tag:yaml.org,2002:';
const STR = `${LONG_TAG}str`;
const BINARY = `${LONG_TAG}binary`;
const BOOL = `${LONG_TAG}bool`;
const INT = `${LONG_TAG}int`;
const FLOAT = `${LONG_TAG}float`;
const NULL = `${LONG_TAG}null`;
const TIMESTAMP = `${LONG_TAG}timestamp`;
const RESOLVABLE = new Set(['', STR, BINARY, BOOL, INT, FLOAT, NULL, TIMESTAMP]);

/** Plain scalars with a fixed meaning (go-cty-yaml's resolve table: YAML 1.1 booleans). */
const FIXED = new Map<string, () => Value>();
for (const w of ['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']) FIXED.set(w, () => Value.bool(true));
for (const w of ['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']) FIXED.set(w, () => Value.bool(false));
for (const w of ['', '~', 'null', 'Null', 'NULL']) FIXED.set(w, () => Value.null());
for (const w of ['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF']) FIXED.set(w, () => Value.number(new NumberContext(Infinity)));
for (const w of ['-.inf', '-.Inf', '-.INF']) FIXED.set(w, () => Value.number(new NumberContext(-Infinity)));

/** A decimal number as cty.ParseNumberVal reads it. */
const DECIMAL = /^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/;

const pad = (n: number): string => String(n).padStart(2, '0');

/**
 * A YAML timestamp in one of the forms go-cty-yaml accepts (date only; date and time with `T`,
 * `t` or spaces, a fraction, and a `Z` / `±hh:mm` zone, or no zone when space-separated), as Go
 * writes it with time.RFC3339 (the fraction dropped, UTC as `Z`); undefined if it is not one.
 */
function yamlTimestamp(s: string): string | undefined {
  const m = /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:(?:([Tt])| +)([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,][0-9]+)?(Z|[-+][0-9]{2}:[0-9]{2})?)?$/.exec(s);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const daysIn = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysIn) return undefined;
  const date = `${m[1]}-${pad(month)}-${pad(day)}`;
  if (m[5] === undefined) return `${date}T00:00:00Z`;
  const [hour, minute, second] = [Number(m[5]), Number(m[6]), Number(m[7])];
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  // The T form needs a zone; the space form has none (UTC).
  if ((m[4] !== undefined) !== (m[8] !== undefined)) return undefined;
  const zone = m[8] === undefined || /^[-+]00:00$/.test(m[8]) ? 'Z' : m[8];
  return `${date}T${pad(hour)}:${pad(minute)}:${pad(second)}${zone}`;
}

/** Go's strconv.ParseInt(s, 0, 64) / ParseUint for the prefixed forms (0x, 0o, 0b, leading 0). */
function goInteger(s: string): Value | undefined {
  const m = /^([-+]?)(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[1-9][0-9]*|0)$/.exec(s);
  if (!m) return undefined;
  const body = m[2]!;
  const digits = /^0[0-7]/.test(body) ? `0o${body.slice(1)}` : body.replace(/^0[oO]/, '0o');
  const n = BigInt(digits) * (m[1] === '-' ? -1n : 1n);
  if (n > 18446744073709551615n || n < -9223372036854775808n) return undefined;
  return Value.number(new NumberContext(n.toString()));
}

/** A scalar's value as go-cty-yaml resolves it: `tag` is the long explicit tag, or '' for a
 * plain scalar without one (quoted and block scalars come with the !!str tag). */
function resolveScalar(tag: string, src: string): Value {
  if (!RESOLVABLE.has(tag)) throw new YamlError(`unsupported tag ${JSON.stringify(tag)}`);
  const first = src[0] ?? '';
  const hint = src === '' ? 'N' : /[-+]/.test(first) ? 'S' : /[0-9]/.test(first) ? 'D' : /[yYnNtTfFoO~]/.test(first) ? 'M' : first === '.' ? '.' : '';
  let t = tag;
  if (hint !== '' && tag !== STR && tag !== BINARY) {
    const fixed = FIXED.get(src);
    if (fixed) return fixed();
    if (src === '.nan' || src === '.NaN' || src === '.NAN') throw new YamlError('floating point NaN is not supported');
    if (hint === '.' && DECIMAL.test(src)) return Value.number(new NumberContext(src));
    if (hint === 'D' || hint === 'S') {
      if (tag === '' || tag === TIMESTAMP) {
        const ts = yamlTimestamp(src);
        if (ts !== undefined) return Value.string(ts);
      }
      const plain = src.replace(/_/g, '');
      if (DECIMAL.test(plain)) return Value.number(new NumberContext(plain));
      if (/^-?0b/.test(plain)) t = INT;
    }
  }
  switch (t) {
    case STR:
      return Value.string(src);
    case BINARY:
      // Kept as its base64 text (cty has no binary type), once checked.
      if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(src)) throw new YamlError(`cannot parse ${JSON.stringify(src)} as ${t}: not valid base64`);
      return Value.string(src);
    case BOOL: {
      const fixed = FIXED.get(src)?.();
      if (!fixed || fixed.type.kind !== 'bool') throw new YamlError(`cannot parse ${JSON.stringify(src)} as ${t}`);
      return fixed;
    }
    case INT:
    case FLOAT: {
      const plain = src.replace(/_/g, '');
      if (DECIMAL.test(plain)) return Value.number(new NumberContext(plain));
      const n = goInteger(plain);
      if (n) return n;
      throw new YamlError(`cannot parse ${JSON.stringify(src)} as ${t}`);
    }
    case TIMESTAMP: {
      const ts = yamlTimestamp(src);
      if (ts === undefined) throw new YamlError(`cannot parse ${JSON.stringify(src)} as ${t}`);
      return Value.string(ts);
    }
    case NULL:
      return Value.null();
    default:
      return Value.string(src);
  }
}

/**
 * Decodes one YAML document as go-cty-yaml does: mappings become objects (keys must be scalars
 * that convert to non-null strings), sequences tuples, scalars by go-cty-yaml's resolve table
 * (YAML 1.1 booleans such as `y`, `on`, `off`; `_` in numbers; timestamps as RFC 3339 text);
 * only the standard tags are accepted; `<<` merge keys; an alias inside the definition of its
 * own anchor is an error (cty values are finite), and each anchored node is decoded once.
 */
export function yamlDecode(src: string): Value {
  const docs = yaml().parseAllDocuments(src, { schema: 'failsafe', merge: false, uniqueKeys: false });
  if (!Array.isArray(docs)) throw new YamlError('the given YAML is not a sequence of documents');
  if (docs.length === 0) return Value.null();
  if (docs.length > 1) throw new YamlError('on line 1, column 1: unexpected extra content after value');
  const doc = docs[0]!;
  const err = doc.errors[0];
  if (err) {
    const reason = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new YamlError(`on line ${err.linePos?.[0].line ?? 1}, column ${err.linePos?.[0].col ?? 1}: ${reason}`);
  }
  return new Decoder(doc).value(doc.contents as Node | null);
}

class Decoder {
  private readonly decoded = new Map<Node, Value>();
  private readonly open = new Set<Node>();
  private readonly lib = yaml();
  constructor(private readonly doc: Yaml.Document.Parsed) {}

  value(node: Node | null): Value {
    if (node === null || node === undefined) return Value.null();
    const { isAlias } = this.lib;
    if (isAlias(node)) {
      const target = node.resolve(this.doc) as Node | undefined;
      if (!target) throw new YamlError(`reference to undefined anchor ${JSON.stringify(node.source)}`);
      if (this.open.has(target)) throw new YamlError(`cannot refer to anchor ${JSON.stringify(node.source)} from inside its own definition`);
      return this.value(target);
    }
    const done = this.decoded.get(node);
    if (done) return done;
    this.open.add(node);
    try {
      const v = this.fresh(node);
      if ((node as { anchor?: string }).anchor) this.decoded.set(node, v);
      return v;
    } finally {
      this.open.delete(node);
    }
  }

  private fresh(node: Node): Value {
    const { isAlias, isMap, isScalar, isSeq } = this.lib;
    const tag = node.tag ?? '';
    if (isMap(node)) {
      if (tag !== '' && tag !== `${LONG_TAG}map`) throw new YamlError(`can't interpret mapping as ${tag}`);
      const m = new Map<string, Value>();
      for (const pair of node.items) {
        const k = pair.key as Node | null;
        if (k !== null && !isScalar(k)) throw new YamlError('only strings are allowed as mapping keys');
        const key = k === null ? Value.null() : this.scalar(k);
        if (key.isNull) throw new YamlError('mapping key cannot be null');
        const name = key.type.kind === 'string' ? key.asString() : key.type.kind === 'bool' ? String(key.asBool()) : key.asNumber().toString();
        if (name === '<<' && k?.type === 'PLAIN' && (isMap(pair.value) || isAlias(pair.value))) {
          const merged = this.value(pair.value as Node);
          if (merged.isMapping) for (const [mk, mv] of merged.entries()) if (!m.has(mk)) m.set(mk, mv);
          continue;
        }
        m.set(name, this.value(pair.value as Node | null));
      }
      return Value.object(m);
    }
    if (isSeq(node)) {
      if (tag !== '' && tag !== `${LONG_TAG}seq`) throw new YamlError(`can't interpret sequence as ${tag}`);
      return Value.tuple(node.items.map((i) => this.value(i as Node | null)));
    }
    if (isScalar(node)) return this.scalar(node);
    throw new YamlError('unsupported YAML node');
  }

  private scalar(node: Yaml.Scalar): Value {
    // The text as written (the yaml package may already have read `!!binary` or `!!timestamp`).
    const text = node.source ?? String(node.value ?? '');
    const tag = node.tag ?? (node.type === 'PLAIN' ? '' : STR);
    return resolveScalar(tag, text);
  }
}

/**
 * A double-quoted scalar as libyaml writes it. When `fold` is given, a space past column 80 (the
 * emitter's best width) becomes a line break followed by `fold.indent` (libyaml's folding; a
 * following space is kept by a `\\` escape); `fold.column` is where the opening quote stands.
 */
function quote(s: string, fold?: { column: number; indent: string }): string {
  const esc: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\0': '\\0', '\x07': '\\a', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\v': '\\v', '\f': '\\f', '\r': '\\r', '\x1b': '\\e', '\x85': '\\N', '\xa0': '\\_', '\u2028': '\\L', '\u2029': '\\P' };
  const chars = [...s];
  let out = '"';
  let column = (fold?.column ?? 0) + 1;
  let spaces = false;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    const c = ch.codePointAt(0)!;
    if (ch === ' ') {
      if (fold && !spaces && column > 80 && i !== 0 && i !== chars.length - 1) {
        out += `\n${fold.indent}`;
        column = fold.indent.length;
        if (chars[i + 1] === ' ') {
          out += '\\';
          column++;
        }
      } else {
        out += ' ';
        column++;
      }
      spaces = true;
      continue;
    }
    spaces = false;
    let piece: string;
    if (esc[ch] !== undefined) piece = esc[ch]!;
    else if (c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0) || c === 0xfeff) piece = `\\x${c.toString(16).toUpperCase().padStart(2, '0')}`;
    else piece = ch;
    out += piece;
    column += [...piece].length;
  }
  return `${out}"`;
}

function literalBlock(s: string, indent: string): string {
  const trailing = /\n*$/.exec(s)![0].length;
  const chomp = trailing === 0 ? '-' : trailing === 1 ? '' : '+';
  const indicator = s.startsWith(' ') ? '2' : '';
  // The caller ends the block with one line break, which stands for the last newline of `s`.
  const body = trailing === 0 ? s : s.slice(0, -1);
  const lines = body.split('\n').map((l) => (l === '' ? '' : indent + l));
  return `|${indicator}${chomp}\n${lines.join('\n')}`;
}

/** A scalar or empty collection at column `column` whose continuation lines are indented by
 * `indent`; undefined for a non-empty collection. */
function scalar(v: Value, indent: string, column: number): string | undefined {
  if (v.isNull) return 'null';
  switch (v.type.kind) {
    case 'string': {
      const s = v.asString();
      return s.includes('\n') && !/[ \t]\n|[\x00-\x08\x0b-\x1f]/.test(s) ? literalBlock(s, indent) : quote(s, { column, indent });
    }
    case 'number':
      return v.asNumber().toFixed();
    case 'bool':
      return v.asBool() ? 'true' : 'false';
    default:
      if (v.isSequence && v.elements().length === 0) return '[]';
      if (v.isMapping && v.entries().size === 0) return '{}';
      return undefined;
  }
}

/** Lines of a non-empty collection whose entries start at `indent`; the first line is not
 * indented (the caller places it). */
function emit(v: Value, indent: string): string {
  if (v.isSequence) {
    return v
      .elements()
      .map((e) => `- ${scalar(e, `${indent}  `, indent.length + 2) ?? emit(e, `${indent}  `)}`)
      .join(`\n${indent}`);
  }
  return [...v.entries()]
    .map(([k, e]) => {
      const key = quote(k);
      const sc = scalar(e, `${indent}  `, indent.length + [...key].length + 2);
      if (sc !== undefined) return `${key}: ${sc}`;
      if (e.isSequence) return `${key}:\n${indent}${emit(e, indent)}`;
      return `${key}:\n${indent}  ${emit(e, `${indent}  `)}`;
    })
    .join(`\n${indent}`);
}

export function yamlEncode(v: Value): string {
  if (!v.isWhollyKnown) throw new YamlError('cannot serialize unknown value as YAML');
  const text = `${scalar(v, '  ', 0) ?? emit(v, '')}\n`;
  // A plain scalar as the whole document is "open ended": libyaml closes it with "...".
  const plain = v.isNull || v.type.kind === 'number' || v.type.kind === 'bool';
  return plain ? `${text}...\n` : text;
}

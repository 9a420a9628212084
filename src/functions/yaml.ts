/**
 * YAML as go-cty-yaml reads and writes it for `yamldecode` / `yamlencode`.
 *
 * Decoding: one document; mappings become objects, sequences tuples; scalars by the YAML 1.2 core
 * schema (numbers kept exact from their source text); timestamps stay strings; `<<` merge keys.
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

const TIMESTAMP = /^\d{4}-\d\d?-\d\d?(?:[Tt]|[ \t]+)\d\d?:\d\d:\d\d(?:\.\d*)?(?:[ \t]*(?:Z|[-+]\d\d?(?::\d\d)?))?$/;

export function yamlDecode(src: string): Value {
  const docs = yaml().parseAllDocuments(src, { schema: 'core', merge: true, uniqueKeys: false });
  if (!Array.isArray(docs)) throw new YamlError('the given YAML is not a sequence of documents');
  if (docs.length === 0) return Value.null();
  if (docs.length > 1) throw new YamlError('on line 1, column 1: unexpected extra content after value');
  const doc = docs[0]!;
  const err = doc.errors[0];
  if (err) {
    const reason = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new YamlError(`on line ${err.linePos?.[0].line ?? 1}, column ${err.linePos?.[0].col ?? 1}: ${reason}`);
  }
  return nodeValue(doc.contents as Node | null, doc);
}

function nodeValue(node: Node | null, doc: { contents: unknown }): Value {
  if (node === null || node === undefined) return Value.null();
  const { isAlias, isMap, isScalar, isSeq } = yaml();
  if (isAlias(node)) return nodeValue(node.resolve(doc as never) as Node, doc);
  if (isMap(node)) {
    const m = new Map<string, Value>();
    for (const pair of node.items) {
      const k = pair.key as Node | null;
      const key = isScalar(k) ? String(k.value ?? 'null') : '';
      if (key === '<<' && (isMap(pair.value) || isAlias(pair.value))) {
        const merged = nodeValue(pair.value as Node, doc);
        for (const [mk, mv] of merged.entries()) if (!m.has(mk)) m.set(mk, mv);
        continue;
      }
      m.set(key, nodeValue(pair.value as Node | null, doc));
    }
    return Value.object(m);
  }
  if (isSeq(node)) return Value.tuple(node.items.map((i) => nodeValue(i as Node, doc)));
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return Value.null();
    if (typeof v === 'boolean') return Value.bool(v);
    if (typeof v === 'number' || typeof v === 'bigint') {
      const srcText = (node.source ?? String(v)).replace(/_/g, '');
      // go-cty-yaml reads hexadecimal and octal forms as strings.
      if (/^[-+]?0[xo]/i.test(srcText)) return Value.string(node.source ?? String(v));
      if (/^[-+]?\.(inf|Inf|INF)$/.test(srcText)) return Value.number(new NumberContext(srcText.startsWith('-') ? -Infinity : Infinity));
      if (/\.nan$/i.test(srcText)) throw new YamlError('floating point NaN is not supported');
      return Value.number(new NumberContext(srcText));
    }
    const text = String(v);
    // go-cty-yaml reads an unquoted YAML timestamp as a time and writes it as RFC 3339 text; a
    // bare date is midnight UTC.
    if (node.type === 'PLAIN' && /^\d{4}-\d\d-\d\d$/.test(text)) return Value.string(`${text}T00:00:00Z`);
    if (node.type === 'PLAIN' && TIMESTAMP.test(text)) return Value.string(text.replace(/[ \t]+/, 'T').replace(/[ \t]+/g, ''));
    return Value.string(text);
  }
  throw new YamlError('unsupported YAML node');
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

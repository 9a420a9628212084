/**
 * Printing values for people (`builder console`, `inspect`) and for machines.
 *
 * Contracts:
 * - `displayValue` prints exactly what `packer console` prints (Packer converts the value to Go
 *   data and formats it with Terraform's legacy REPL formatter): a string at the top level bare,
 *   nested strings quoted Go-style; integers that fit in int64 exactly, other numbers as Go's
 *   `%g` of the nearest float64 (`1e+30`, `0.3333333333333333`, `+Inf`); lists, sets and tuples as
 *   `[` + one indented `elem,` per line + `]`; maps and objects as `{` + indented `"key" = value`
 *   lines in key order + `}`, leaving out null attributes; `null`; a value that is not wholly known
 *   as `<unknown>`.
 * - A sensitive value prints as `<sensitive>` wherever it appears (Packer 1.6.6 prints the quoted
 *   string "<sensitive>" inside collections; we print the marker bare, as at the top level).
 * - `valueToJSON` gives JSON text with numbers exact, sensitive values as the string
 *   "<sensitive>" and unknown values as null.
 */
import { formatNumber, type Num, type Value } from './value.js';

const SENSITIVE = '<sensitive>';

export function displayValue(v: Value): string {
  if (v.sensitive) return SENSITIVE;
  if (!v.isWhollyKnown) return '<unknown>';
  return format(v, false);
}

function format(v: Value, nested: boolean): string {
  if (v.sensitive) return SENSITIVE;
  if (!v.isWhollyKnown) return '<unknown>';
  if (v.isNull) return 'null';
  switch (v.type.kind) {
    case 'string':
      return nested ? goQuote(v.asString()) : v.asString();
    case 'number':
      return formatGoNumber(v.asNumber());
    case 'bool':
      return v.asBool() ? 'true' : 'false';
    case 'list':
    case 'set':
    case 'tuple': {
      const elems = v.elements();
      if (elems.length === 0) return '[]';
      return `[\n${elems.map((e) => `${indent(format(e, true))},\n`).join('')}]`;
    }
    case 'map':
    case 'object': {
      const entries = [...v.entries()].filter(([, e]) => !(e.isNull && !e.sensitive)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      if (entries.length === 0) return '{}';
      return `{\n${entries.map(([k, e]) => `${indent(`${goQuote(k)} = ${format(e, true)}`)}\n`).join('')}}`;
    }
    default:
      return 'null';
  }
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A number as Packer's console prints it: exact when it is an int64, else Go's `%g` of the
 * float64 nearest to it. */
export function formatGoNumber(n: Num): string {
  if (!n.isFinite()) return n.isNegative() ? '-Inf' : '+Inf';
  if (n.isInteger()) {
    const i = BigInt(n.toFixed(0));
    if (i >= INT64_MIN && i <= INT64_MAX) return i.toString();
  }
  return goFormatG(n.toNumber());
}

/** Go's `%g` of a float64: the shortest digits that round-trip, in exponent form (`1e+06`,
 * `1e-05`) when the decimal exponent is below -4 or at least 6 (Go's cut-off for shortest %g). */
function goFormatG(f: number): string {
  if (f === 0) return '0';
  const [mant, expText] = f.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const abs = Math.abs(exp);
    return `${mant}e${exp < 0 ? '-' : '+'}${abs < 10 ? `0${abs}` : abs}`;
  }
  return String(f);
}

/** Go's `%q` for a string: double quotes, `\"`, `\\`, `\n`, `\t`, … and `\u`/`\U`/`\x` escapes
 * for non-printable characters; printable Unicode is kept as is. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\v':
        out += '\\v';
        continue;
    }
    if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (/[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u.test(ch) || (/\p{Z}/u.test(ch) && ch !== ' ')) {
      out += cp > 0xffff ? `\\U${cp.toString(16).padStart(8, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return `${out}"`;
}

/** JSON text for a value (see the module contract). */
export function valueToJSON(v: Value): string {
  if (v.sensitive) return JSON.stringify(SENSITIVE);
  if (v.unknown || v.isNull) return 'null';
  switch (v.type.kind) {
    case 'string':
      return JSON.stringify(v.asString());
    case 'number': {
      const n = v.asNumber();
      return n.isFinite() ? formatNumber(n) : JSON.stringify(formatNumber(n));
    }
    case 'bool':
      return v.asBool() ? 'true' : 'false';
    case 'list':
    case 'set':
    case 'tuple':
      return `[${v.elements().map(valueToJSON).join(',')}]`;
    case 'map':
    case 'object':
      return `{${[...v.entries()].map(([k, e]) => `${JSON.stringify(k)}:${valueToJSON(e)}`).join(',')}}`;
    default:
      return 'null';
  }
}

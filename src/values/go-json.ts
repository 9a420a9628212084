/**
 * JSON written the way Go's encoding/json `MarshalIndent(v, "", "  ")` writes it, so files Packer
 * users diff or parse (the manifest) are byte-identical: `<`, `>`, `&`, U+2028 and U+2029 escaped
 * as \u003c…, control characters other than \n \r \t as \u00XX, empty arrays and objects as `[]`
 * and `{}`, no trailing newline. Object keys are written in the order given.
 */
export type GoJson = null | string | number | boolean | GoJson[] | { [key: string]: GoJson };

export function goJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029) {
      out += `\\u${c.toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return `${out}"`;
}

export function goMarshalIndent(v: GoJson, indent = '  ', prefix = ''): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return goJsonString(v);
  // Go writes a float64 negative zero as -0.
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'boolean') return String(v);
  const inner = prefix + indent;
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return `[\n${v.map((x) => inner + goMarshalIndent(x, indent, inner)).join(',\n')}\n${prefix}]`;
  }
  const keys = Object.keys(v);
  if (keys.length === 0) return '{}';
  return `{\n${keys.map((k) => `${inner}${goJsonString(k)}: ${goMarshalIndent(v[k]!, indent, inner)}`).join(',\n')}\n${prefix}}`;
}

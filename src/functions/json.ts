/**
 * JSON as cty reads and writes it: `jsonencode` output (object keys in lexical order, numbers as
 * exact decimals without exponent, Go's string escaping) and `jsondecode` input (numbers kept
 * exact, objects become objects and arrays tuples: cty's "implied type").
 */
import { goJsonString } from '../values/go-json.js';
import { NumberContext, Value } from '../values/value.js';

/** Thrown for a value JSON cannot represent (an unknown value). */
export class JsonEncodeError extends Error {}

/** cty's json.Marshal of a known value. */
export function ctyJsonEncode(v: Value): string {
  if (v.unknown) throw new JsonEncodeError('value is not known');
  if (v.isNull) return 'null';
  switch (v.type.kind) {
    case 'string':
      return goJsonString(v.asString());
    case 'number':
      return v.asNumber().toFixed();
    case 'bool':
      return v.asBool() ? 'true' : 'false';
    case 'list':
    case 'set':
    case 'tuple':
      return `[${v.elements().map(ctyJsonEncode).join(',')}]`;
    case 'map':
    case 'object':
      return `{${[...v.entries()].map(([k, e]) => `${goJsonString(k)}:${ctyJsonEncode(e)}`).join(',')}}`;
    default:
      throw new JsonEncodeError('value is not known');
  }
}

/** A syntax error in JSON text, with a message in the style of Go's encoding/json. */
export class JsonSyntaxError extends Error {}

/** Parses JSON text into a value of its implied type; numbers stay exact decimals. */
export function ctyJsonDecode(text: string): Value {
  const p = new JsonParser(text);
  p.ws();
  if (p.pos >= text.length) throw new JsonSyntaxError('EOF');
  const v = p.value();
  p.ws();
  if (p.pos < text.length) throw new JsonSyntaxError('extraneous data after JSON object');
  return v;
}

function charName(c: string): string {
  return c === "'" ? "'\\''" : `'${c}'`;
}

class JsonParser {
  pos = 0;
  constructor(private readonly text: string) {}

  ws(): void {
    while (this.pos < this.text.length && ' \t\r\n'.includes(this.text[this.pos]!)) this.pos++;
  }

  private fail(context: string): never {
    if (this.pos >= this.text.length) throw new JsonSyntaxError('EOF');
    throw new JsonSyntaxError(`invalid character ${charName(this.text[this.pos]!)} ${context}`);
  }

  value(): Value {
    const c = this.text[this.pos];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return Value.string(this.string());
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const [word, v] of [['true', Value.bool(true)], ['false', Value.bool(false)], ['null', Value.null()]] as const) {
      if (c !== word[0]) continue;
      for (let i = 1; i < word.length; i++) {
        this.pos++;
        if (this.text[this.pos] !== word[i]) this.fail(`in literal ${word} (expecting ${charName(word[i]!)})`);
      }
      this.pos++;
      return v;
    }
    return this.fail('looking for beginning of value');
  }

  private object(): Value {
    this.pos++;
    const m = new Map<string, Value>();
    this.ws();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return Value.object(m);
    }
    for (;;) {
      this.ws();
      if (this.text[this.pos] !== '"') this.fail('looking for beginning of object key string');
      const k = this.string();
      this.ws();
      if (this.text[this.pos] !== ':') this.fail('after object key');
      this.pos++;
      this.ws();
      m.set(k.normalize('NFC'), this.value());
      this.ws();
      const c = this.text[this.pos];
      this.pos++;
      if (c === '}') return Value.object(m);
      if (c !== ',') {
        this.pos--;
        this.fail('after object key:value pair');
      }
    }
  }

  private array(): Value {
    this.pos++;
    const out: Value[] = [];
    this.ws();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return Value.tuple(out);
    }
    for (;;) {
      this.ws();
      out.push(this.value());
      this.ws();
      const c = this.text[this.pos];
      this.pos++;
      if (c === ']') return Value.tuple(out);
      if (c !== ',') {
        this.pos--;
        this.fail('after array element');
      }
    }
  }

  private string(): string {
    this.pos++;
    let out = '';
    for (;;) {
      if (this.pos >= this.text.length) throw new JsonSyntaxError('EOF');
      const c = this.text[this.pos]!;
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c === '\\') {
        const e = this.text[this.pos + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && e in simple) {
          out += simple[e];
          this.pos += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(this.text.slice(this.pos + 2, this.pos + 6))) {
          out += String.fromCharCode(parseInt(this.text.slice(this.pos + 2, this.pos + 6), 16));
          this.pos += 6;
        } else {
          this.pos++;
          this.fail('in string escape code');
        }
        continue;
      }
      if (c.charCodeAt(0) < 0x20) this.fail('in string literal');
      out += c;
      this.pos++;
    }
  }

  private number(): Value {
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(this.text.slice(this.pos));
    if (!m) {
      this.pos++;
      this.fail('in numeric literal');
    }
    this.pos += m[0].length;
    return Value.number(new NumberContext(m[0]));
  }
}

/** Encoding functions: base64, gzip, CSV, JSON, YAML, URL and text encodings (go-cty-funcs,
 * cty stdlib, go-cty-yaml and Packer's own `base64gzip`, `textencodebase64`, `textdecodebase64`). */
import type * as Zlib from 'node:zlib';
import { T, Value } from '../values/value.js';
import { ctyJsonDecode, ctyJsonEncode, JsonSyntaxError } from './json.js';
import { define, param } from './support.js';
import { FunctionArgError, FunctionError } from './types.js';
import { yamlDecode, yamlEncode, YamlError } from './yaml.js';
import { lazyRequire } from '../lazy-require.js';

const zlib = lazyRequire<typeof Zlib>('node:zlib');

const string = T.string;

/** Decodes standard, padded base64 strictly (as Go's base64.StdEncoding, which skips CR/LF);
 * returns the offset of the first bad symbol when invalid. */
export function decodeStdBase64(s: string): Buffer | number {
  const clean = s.replace(/[\r\n]/g, '');
  const m = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?/.exec(clean)!;
  if (m[0].length !== clean.length) {
    const bad = /[^A-Za-z0-9+/=]/.exec(clean);
    return bad ? bad.index : Math.max(m[0].length, clean.length - (clean.length % 4 || 4));
  }
  return Buffer.from(clean, 'base64');
}

function validUtf8(b: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return undefined;
  }
}

export const base64encode = define({
  params: [param('str', string)],
  returnType: string,
  impl: ([s]) => Value.string(Buffer.from(s!.asString(), 'utf8').toString('base64')),
});

export const base64decode = define({
  params: [param('str', string)],
  returnType: string,
  impl: ([s]) => {
    const str = s!.asString();
    const b = decodeStdBase64(str);
    if (typeof b === 'number') throw new FunctionError(`failed to decode base64 data '${str}'`);
    const text = validUtf8(b);
    if (text === undefined) throw new FunctionError('the result of decoding the the provided string is not valid UTF-8'); // sic: go-cty-funcs' text
    return Value.string(text);
  },
});

export const base64gzip = define({
  params: [param('str', string)],
  returnType: string,
  impl: ([s]) => {
    const gz = zlib().gzipSync(Buffer.from(s!.asString(), 'utf8'));
    gz[9] = 255; // OS "unknown", as Go's compress/gzip writes it
    return Value.string(gz.toString('base64'));
  },
});

export const urlencode = define({
  params: [param('str', string)],
  returnType: string,
  impl: ([s]) => {
    let out = '';
    for (const byte of Buffer.from(s!.asString(), 'utf8')) {
      const ch = String.fromCharCode(byte);
      if (/[A-Za-z0-9\-_.~]/.test(ch)) out += ch;
      else if (ch === ' ') out += '+';
      else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
    return Value.string(out);
  },
});

export const jsonencode = define({
  params: [param('val', T.dynamic, { allowNull: true })],
  returnType: string,
  impl: ([v]) => (v!.isWhollyKnown ? Value.string(ctyJsonEncode(v!)) : Value.unknown(string)),
});

export const jsondecode = define({
  params: [param('str', string)],
  impl: ([s]) => {
    try {
      return ctyJsonDecode(s!.asString());
    } catch (e) {
      if (e instanceof JsonSyntaxError) throw new FunctionError(e.message);
      throw e;
    }
  },
});

export const yamlencode = define({
  params: [param('value', T.dynamic, { allowNull: true })],
  returnType: string,
  impl: ([v]) => (v!.isWhollyKnown ? Value.string(yamlEncode(v!)) : Value.unknown(string)),
});

export const yamldecode = define({
  params: [param('src', string)],
  impl: ([s]) => {
    try {
      return yamlDecode(s!.asString());
    } catch (e) {
      if (e instanceof YamlError) throw new FunctionError(e.message);
      throw e;
    }
  },
});

/** A CSV error with Go's encoding/csv text ("parse error on line 2, column 4: bare \" in non-quoted-field"). */
class CsvError extends Error {}

/** Go's encoding/csv reader with its defaults: comma-separated, RFC 4180 quoting, every record
 * as long as the first. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let line = 1;
  let lineStart = 0;
  let i = 0;
  const n = text.length;
  const isEnd = (k: number): boolean => k >= n || text[k] === '\n' || (text[k] === '\r' && text[k + 1] === '\n');
  const parseError = (recordLine: number, at: number, reason: string): CsvError => {
    const column = Buffer.byteLength(text.slice(lineStart, at)) + 1;
    const where = `parse error on line ${line}, column ${column}: ${reason}`;
    return new CsvError(recordLine === line ? where : `record on line ${recordLine}; ${where}`);
  };
  const newline = (): void => {
    i += text[i] === '\r' ? 2 : 1;
    line++;
    lineStart = i;
  };
  while (i < n) {
    if (isEnd(i)) {
      newline();
      continue;
    }
    const recordLine = line;
    const fields: string[] = [];
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) throw parseError(recordLine, i, 'extraneous or missing " in quoted-field');
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\r' && text[i + 1] === '\n') {
            field += '\n';
            newline();
            continue;
          }
          if (c === '\n') {
            field += '\n';
            newline();
            continue;
          }
          field += c;
          i++;
        }
        if (!isEnd(i) && text[i] !== ',') throw parseError(recordLine, i, 'extraneous or missing " in quoted-field');
      } else {
        while (!isEnd(i) && text[i] !== ',') {
          if (text[i] === '"') throw parseError(recordLine, i, 'bare " in non-quoted-field');
          field += text[i++];
        }
      }
      fields.push(field);
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (i < n) newline();
      break;
    }
    if (records.length > 0 && fields.length !== records[0]!.length) throw new CsvError(`record on line ${recordLine}: wrong number of fields`);
    records.push(fields);
  }
  return records;
}

export const csvdecode = define({
  params: [param('str', string)],
  impl: ([s]) => {
    let records: string[][];
    try {
      records = parseCsv(s!.asString());
    } catch (e) {
      if (e instanceof CsvError) throw new FunctionError(e.message);
      throw e;
    }
    if (records.length === 0) throw new FunctionError('missing header line');
    const [headers, ...rows] = records;
    const seen = new Set<string>();
    for (const h of headers!) {
      if (seen.has(h)) throw new FunctionError(`duplicate column name ${JSON.stringify(h)}`);
      seen.add(h);
    }
    const objType = T.object(new Map(headers!.map((h) => [h, string])));
    return Value.list(
      rows.map((r) => Value.object(new Map(headers!.map((h, i) => [h, Value.string(r[i]!)])))),
      objType,
    );
  },
});

/** The text encodings `textencodebase64` / `textdecodebase64` support, by normalised IANA name
 * or alias. */
const ENCODINGS: Record<string, { name: string; node: BufferEncoding | 'utf16be' }> = {};
for (const [names, name, node] of [
  [['utf-8', 'utf8', 'csutf8'], 'UTF-8', 'utf8'],
  [['utf-16le', 'csutf16le'], 'UTF-16LE', 'utf16le'],
  [['utf-16be', 'csutf16be'], 'UTF-16BE', 'utf16be'],
  [['iso-8859-1', 'iso_8859-1', 'latin1', 'l1', 'ibm819', 'cp819', 'csisolatin1', 'iso-ir-100', 'iso_8859-1:1987'], 'ISO-8859-1', 'latin1'],
  [['us-ascii', 'ascii', 'iso646-us', 'us', 'ibm367', 'cp367', 'csascii', 'ansi_x3.4-1968', 'iso-ir-6'], 'US-ASCII', 'ascii'],
] as const) {
  for (const n of names) ENCODINGS[n] = { name, node };
}

function encodingArg(v: Value): { name: string; node: BufferEncoding | 'utf16be' } {
  const e = ENCODINGS[v.asString().toLowerCase()];
  if (!e) throw new FunctionArgError(1, `${JSON.stringify(v.asString())} is not a supported IANA encoding name or alias`);
  return e;
}

export const textencodebase64 = define({
  params: [param('string', string), param('encoding', string)],
  returnType: string,
  impl: ([s, enc]) => {
    const e = encodingArg(enc!);
    const text = s!.asString();
    let bytes: Buffer;
    if (e.node === 'utf16be') bytes = Buffer.from(text, 'utf16le').swap16();
    else if (e.node === 'latin1' || e.node === 'ascii') {
      const limit = e.node === 'ascii' ? 0x7f : 0xff;
      if ([...text].some((c) => c.codePointAt(0)! > limit)) throw new FunctionArgError(0, `the given string contains characters that cannot be represented in ${e.name}`);
      bytes = Buffer.from(text, 'latin1');
    } else bytes = Buffer.from(text, e.node);
    return Value.string(bytes.toString('base64'));
  },
});

/** A decoder for encodings outside the table: the WHATWG labels Node's TextDecoder knows
 * (windows-125x, ISO-8859-x, Shift_JIS, EUC-KR, GBK, Big5, KOI8-R, …). */
function otherDecoder(label: string): { encoding: string; decode(b: Buffer): string } | undefined {
  try {
    const d = new TextDecoder(label, { fatal: true });
    // Node decodes windows-1252 as ISO-8859-1; its 0x80–0x9F differ.
    return d.encoding === 'windows-1252' ? { encoding: 'windows-1252', decode: decodeWindows1252 } : d;
  } catch {
    return undefined;
  }
}

const CP1252_HIGH = '€\ufffd‚ƒ„…†‡ˆ‰Š‹Œ\ufffdŽ\ufffd\ufffd‘’“”•–—˜™š›œ\ufffdžŸ';

function decodeWindows1252(b: Buffer): string {
  let out = '';
  for (const x of b) out += x >= 0x80 && x <= 0x9f ? CP1252_HIGH[x - 0x80]! : String.fromCharCode(x);
  return out;
}

export const textdecodebase64 = define({
  params: [param('source', string), param('encoding', string)],
  returnType: string,
  impl: ([s, enc]) => {
    const known = ENCODINGS[enc!.asString().toLowerCase()];
    const other = known ? undefined : otherDecoder(enc!.asString());
    if (!known && !other) encodingArg(enc!);
    const name = known?.name ?? other!.encoding;
    const b = decodeStdBase64(s!.asString());
    if (typeof b === 'number') throw new FunctionArgError(0, `the given value is has an invalid base64 symbol at offset ${b}`);
    const notDefined = (): never => {
      throw new FunctionArgError(0, `the given string contains symbols that are not defined for ${name}`);
    };
    if (known?.node === 'ascii' && b.some((x) => x > 0x7f)) notDefined();
    if (known?.node === 'latin1') return Value.string(b.toString('latin1'));
    const label = known?.node === 'utf16be' ? 'utf-16be' : known?.node === 'utf16le' ? 'utf-16le' : 'utf-8';
    try {
      const text = (other ?? new TextDecoder(label, { fatal: true })).decode(b);
      if (text.includes('\ufffd')) notDefined();
      return Value.string(text);
    } catch (e) {
      if (e instanceof FunctionArgError) throw e;
      return notDefined();
    }
  },
});

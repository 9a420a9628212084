/**
 * `format` and `formatlist`: cty's printf-like formatting.
 *
 * Verb syntax: `%` flags (`0 # - + space`) `[n]` (1-based argument index) width `.precision`
 * letter. Widths and string precisions count grapheme clusters. Numbers use Go's formatting of
 * big.Float (`%e %E %f %g %G`) and big.Int (`%b %d %o %x %X`); `%v` prints strings as they are,
 * numbers as `%g` with the shortest digits, and everything else (and `%#v` always) as JSON.
 */
import { T, Value, type Num } from '../values/value.js';
import { ctyJsonEncode, JsonEncodeError } from './json.js';
import { goJsonString } from '../values/go-json.js';
import { define, graphemes, param, tryConvert } from './support.js';
import { FunctionArgError, FunctionError } from './types.js';

interface Verb {
  raw: string;
  offset: number;
  argNum: number;
  mode: string;
  zero: boolean;
  sharp: boolean;
  plus: boolean;
  minus: boolean;
  space: boolean;
  width: number; // -1 when absent
  prec: number; // -1 when absent
}

class FormatFailure extends Error {}

/** More arguments than the verbs use: an error of the first unused argument (0 is the format). */
class UnusedArguments extends FormatFailure {
  constructor(readonly argIndex: number, maxArgUsed: number) {
    super(maxArgUsed === 0 ? 'too many arguments; no verbs in format string' : `too many arguments; only ${maxArgUsed} used by format string`);
  }
}

function byteOffset(s: string, index: number): number {
  return Buffer.byteLength(s.slice(0, index), 'utf8');
}

function goQuoteByte(s: string, index: number): string {
  const b = Buffer.from(s.slice(index, index + 2), 'utf8')[0]!;
  const ch = String.fromCharCode(b);
  if (ch === "'") return "'\\''";
  if (ch === '\\') return "'\\\\'";
  if (b < 0x20 || b === 0x7f) return `'\\x${b.toString(16).padStart(2, '0')}'`;
  return `'${ch}'`;
}

/** Formats `args` by `format`, as cty's formatFSM does; every argument must be used. */
export function formatString(format: string, args: readonly Value[]): string {
  let out = '';
  let nextArg = 1;
  let maxArgUsed = 0;
  let i = 0;
  const n = format.length;
  const unrecognized = (at: number): never => {
    throw new FormatFailure(`unrecognized format character ${goQuoteByte(format, at)} at offset ${byteOffset(format, at)}`);
  };
  const eof = (): never => {
    throw new FormatFailure(`invalid format string starting at offset ${Buffer.byteLength(format, 'utf8')}`);
  };
  while (i < n) {
    const c = format[i]!;
    if (c !== '%') {
      out += c;
      i++;
      continue;
    }
    if (format[i + 1] === '%') {
      out += '%';
      i += 2;
      continue;
    }
    const start = i;
    const verb: Verb = { raw: '', offset: byteOffset(format, start), argNum: nextArg, mode: '', zero: false, sharp: false, plus: false, minus: false, space: false, width: -1, prec: -1 };
    i++;
    for (; i < n && '0#-+ '.includes(format[i]!); i++) {
      const f = format[i]!;
      if (f === '0') verb.zero = true;
      else if (f === '#') verb.sharp = true;
      else if (f === '-') verb.minus = true;
      else if (f === '+') verb.plus = true;
      else verb.space = true;
    }
    if (format[i] === '[') {
      i++;
      if (i >= n) eof();
      if (!/[1-9]/.test(format[i]!)) unrecognized(i);
      let num = 0;
      while (i < n && /[0-9]/.test(format[i]!)) num = num * 10 + Number(format[i++]);
      if (i >= n) eof();
      if (format[i] !== ']') unrecognized(i);
      i++;
      verb.argNum = num;
    }
    if (i < n && /[1-9]/.test(format[i]!)) {
      let w = 0;
      while (i < n && /[0-9]/.test(format[i]!)) w = w * 10 + Number(format[i++]);
      verb.width = w;
    }
    if (format[i] === '.') {
      i++;
      let p = 0;
      while (i < n && /[0-9]/.test(format[i]!)) p = p * 10 + Number(format[i++]);
      verb.prec = p;
    }
    if (i >= n) eof();
    if (!/[a-zA-Z]/.test(format[i]!)) unrecognized(i);
    verb.mode = format[i]!;
    i++;
    verb.raw = format.slice(start, i);
    out += formatVerb(verb, args);
    maxArgUsed = Math.max(maxArgUsed, verb.argNum);
    nextArg = verb.argNum + 1;
  }
  if (args.length > maxArgUsed) throw new UnusedArguments(maxArgUsed + 1, maxArgUsed);
  return out;
}

function fail(verb: Verb, message: string): never {
  throw new FormatFailure(`unsupported value for ${JSON.stringify(verb.raw)} at ${verb.offset}: ${message}`);
}

function formatVerb(verb: Verb, args: readonly Value[]): string {
  const idx = verb.argNum - 1;
  if (idx >= args.length) {
    throw new FormatFailure(`not enough arguments for ${JSON.stringify(verb.raw)} at ${verb.offset}: need index ${verb.argNum} but have ${args.length} total`);
  }
  const arg = args[idx]!;
  if (verb.mode !== 'v' && arg.isNull) fail(verb, 'null value cannot be formatted');
  switch (verb.mode) {
    case 'v':
      return formatAsIs(verb, arg);
    case 't': {
      const b = tryConvert(arg, T.bool);
      if (!(b instanceof Value)) fail(verb, b.message);
      return b.asBool() ? 'true' : 'false';
    }
    case 'b':
    case 'd':
    case 'o':
    case 'x':
    case 'X':
    case 'e':
    case 'E':
    case 'f':
    case 'g':
    case 'G': {
      const c = tryConvert(arg, T.number);
      if (!(c instanceof Value)) fail(verb, c.message);
      const n = c.asNumber();
      if ('bdoxX'.includes(verb.mode)) {
        if (!n.isInteger()) fail(verb, 'an integer is required');
        return formatInteger(verb, BigInt(n.toFixed(0)));
      }
      return formatFloat(verb, n);
    }
    case 's':
    case 'q':
      return formatStringVerb(verb, arg);
    default:
      throw new FormatFailure(`unsupported format verb '${verb.mode}' in ${JSON.stringify(verb.raw)} at offset ${verb.offset}`);
  }
}

function padWidth(verb: Verb, s: string): string {
  if (verb.width < 0) return s;
  const len = graphemes(s).length;
  if (len >= verb.width) return s;
  const pads = (verb.zero ? '0' : ' ').repeat(verb.width - len);
  return verb.minus ? s + pads : pads + s;
}

function formatAsIs(verb: Verb, arg: Value): string {
  if (!verb.sharp && !arg.isNull) {
    if (arg.type.kind === 'string') return padWidth(verb, arg.asString());
    if (arg.type.kind === 'number') return padWidth(verb, goFloatText(arg.asNumber(), 'g', -1));
  }
  try {
    return padWidth(verb, ctyJsonEncode(arg));
  } catch (e) {
    if (e instanceof JsonEncodeError) fail(verb, e.message);
    throw e;
  }
}

function formatStringVerb(verb: Verb, arg: Value): string {
  const c = tryConvert(arg, T.string);
  if (!(c instanceof Value)) fail(verb, c.message);
  let s = c.asString();
  if (verb.prec > 0) s = graphemes(s).slice(0, verb.prec).join('');
  return padWidth(verb, verb.mode === 'q' ? goJsonString(s) : s);
}

/** Go's big.Int formatting with fmt flags, width and precision (minimum digits). */
function formatInteger(verb: Verb, x: bigint): string {
  const base = verb.mode === 'b' ? 2 : verb.mode === 'o' ? 8 : verb.mode === 'd' ? 10 : 16;
  const neg = x < 0n;
  let digits = (neg ? -x : x).toString(base);
  if (verb.mode === 'X') digits = digits.toUpperCase();
  const sign = neg ? '-' : verb.plus ? '+' : verb.space ? ' ' : '';
  let prefix = '';
  if (verb.sharp) prefix = { b: '0b', o: '0', x: '0x', X: '0X', d: '' }[verb.mode] ?? '';
  let zeros = 0;
  if (verb.prec >= 0) {
    if (digits.length < verb.prec) zeros = verb.prec - digits.length;
    else if (digits === '0' && verb.prec === 0) return '';
  }
  let left = 0;
  let right = 0;
  const length = sign.length + prefix.length + zeros + digits.length;
  if (verb.width >= 0 && length < verb.width) {
    const d = verb.width - length;
    if (verb.minus) right = d;
    else if (verb.zero && verb.prec < 0) zeros = d;
    else left = d;
  }
  return ' '.repeat(left) + sign + prefix + '0'.repeat(zeros) + digits + ' '.repeat(right);
}

/** Go's big.Float formatting (`%e %E %f %g %G`) with fmt flags and width. */
function formatFloat(verb: Verb, n: Num): string {
  let prec = verb.prec;
  const hasPrec = prec >= 0;
  if (!hasPrec) prec = 6;
  const mode = verb.mode as 'e' | 'E' | 'f' | 'g' | 'G';
  if ((mode === 'g' || mode === 'G') && !hasPrec) prec = -1;
  let body = goFloatText(n, mode, prec);
  let sign = '';
  if (body.startsWith('-')) {
    sign = '-';
    body = body.slice(1);
  } else if (verb.plus) sign = '+';
  else if (verb.space) sign = ' ';
  const padding = verb.width > sign.length + body.length ? verb.width - sign.length - body.length : 0;
  if (verb.zero && n.isFinite()) return sign + '0'.repeat(padding) + body;
  if (verb.minus) return sign + body + ' '.repeat(padding);
  return ' '.repeat(padding) + sign + body;
}

/** Decimal digits of |n|: value = 0.mant × 10^exp, mant without trailing zeros ("" for zero). */
interface Digits {
  mant: string;
  exp: number;
}

function digitsOf(n: Num): Digits {
  if (n.isZero()) return { mant: '', exp: 0 };
  const [m, e] = n.abs().toExponential().split('e');
  const mant = m!.replace('.', '').replace(/0+$/, '');
  return { mant, exp: Number(e) + 1 };
}

function roundDigits(d: Digits, count: number, exact: Num): Digits {
  if (count < 0 || count >= d.mant.length) return d;
  const tie = d.mant[count] === '5' && count + 1 === d.mant.length;
  let up: boolean;
  if (tie) {
    // cty holds numbers as 512-bit binary floats: a decimal tie is decided by which side of it
    // the binary value lies, and only an exact tie goes to the even digit (as Go rounds).
    const side = binary512Side(exact);
    up = side > 0 || (side === 0 && count > 0 && Number(d.mant[count - 1]) % 2 === 1);
  } else up = d.mant[count]! >= '5';
  if (!up) {
    const mant = d.mant.slice(0, count).replace(/0+$/, '');
    return mant === '' ? { mant: '', exp: 0 } : { mant, exp: d.exp };
  }
  let i = count;
  while (i > 0 && d.mant[i - 1] === '9') i--;
  if (i === 0) return { mant: '1', exp: d.exp + 1 };
  return { mant: d.mant.slice(0, i - 1) + String(Number(d.mant[i - 1]) + 1), exp: d.exp };
}

/** Sign of (the 512-bit binary float nearest to |n|) − |n|: cty parses numbers into such floats. */
function binary512Side(n: Num): number {
  const abs = n.abs();
  const [intPart, frac = ''] = abs.toFixed().split('.');
  const num = BigInt(intPart! + frac);
  const den = 10n ** BigInt(frac.length);
  // Find e with 2^511 <= num * 2^e / den < 2^512.
  let e = 511 - (num.toString(2).length - den.toString(2).length);
  const scaled = (k: number): bigint => (k >= 0 ? (num << BigInt(k)) / den : num / (den << BigInt(-k)));
  while (scaled(e) >= 1n << 512n) e--;
  while (scaled(e) < 1n << 511n) e++;
  // m = round-half-even(num * 2^e / den); compare m / 2^e with num / den.
  const top = e >= 0 ? num << BigInt(e) : num;
  const bottom = e >= 0 ? den : den << BigInt(-e);
  let m = top / bottom;
  const rem = top - m * bottom;
  if (rem * 2n > bottom || (rem * 2n === bottom && (m & 1n) === 1n)) m++;
  const diff = m * bottom - top;
  return diff > 0n ? 1 : diff < 0n ? -1 : 0;
}

function fmtE(d: Digits, e: string, prec: number): string {
  let out = d.mant[0] ?? '0';
  if (prec > 0) out += `.${d.mant.slice(1, prec + 1).padEnd(prec, '0')}`;
  const exp = d.mant.length > 0 ? d.exp - 1 : 0;
  return `${out}${e}${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

function fmtF(d: Digits, prec: number): string {
  const at = (i: number): string => (i >= 0 && i < d.mant.length ? d.mant[i]! : '0');
  let out = d.exp > 0 ? d.mant.slice(0, d.exp).padEnd(d.exp, '0') : '0';
  if (prec > 0) {
    out += '.';
    for (let i = 0; i < prec; i++) out += at(d.exp + i);
  }
  return out;
}

/** big.Float.Text(fmt, prec): prec -1 means the shortest digits that represent the value. */
export function goFloatText(n: Num, fmt: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): string {
  if (!n.isFinite()) return n.isNaN() ? 'NaN' : n.isNegative() ? '-Inf' : '+Inf';
  const sign = n.isNegative() && !n.isZero() ? '-' : '';
  let d = digitsOf(n);
  let shortest = false;
  if (prec < 0) {
    shortest = true;
    if (fmt === 'e' || fmt === 'E') prec = d.mant.length - 1;
    else if (fmt === 'f') prec = Math.max(d.mant.length - d.exp, 0);
    else prec = d.mant.length;
  } else if (fmt === 'e' || fmt === 'E') d = roundDigits(d, 1 + prec, n);
  else if (fmt === 'f') d = roundDigits(d, d.exp + prec, n);
  else {
    if (prec === 0) prec = 1;
    d = roundDigits(d, prec, n);
  }
  if (fmt === 'e' || fmt === 'E') return sign + fmtE(d, fmt, prec);
  if (fmt === 'f') return sign + fmtF(d, prec);
  let eprec = prec;
  if (eprec > d.mant.length && d.mant.length >= d.exp) eprec = d.mant.length;
  if (shortest) eprec = 6;
  const exp = d.exp - 1;
  if (exp < -4 || exp >= eprec) {
    if (prec > d.mant.length) prec = d.mant.length;
    return sign + fmtE(d, fmt === 'g' ? 'e' : 'E', prec - 1);
  }
  if (prec > d.exp) prec = d.mant.length;
  return sign + fmtF(d, Math.max(prec - d.exp, 0));
}

function runFormat(format: string, args: readonly Value[]): string {
  try {
    return formatString(format, args);
  } catch (e) {
    if (e instanceof UnusedArguments) throw new FunctionArgError(e.argIndex, e.message);
    if (e instanceof FormatFailure) throw new FunctionError(e.message);
    throw e;
  }
}

export const format = define({
  params: [param('format', T.string)],
  varParam: param('args', T.dynamic, { allowNull: true }),
  returnType: T.string,
  impl: ([fmt, ...args]) => {
    if (!args.every((a) => a.isWhollyKnown)) return Value.unknown(T.string);
    return Value.string(runFormat(fmt!.asString(), args));
  },
});

export const formatlist = define({
  params: [param('format', T.string)],
  varParam: param('args', T.dynamic, { allowNull: true, allowUnknown: true }),
  returnType: T.list(T.string),
  impl: ([fmt, ...args]) => {
    const fmtStr = fmt!.asString();
    if (args.length === 0) return Value.list([Value.string(runFormat(fmtStr, []))], T.string);
    let iterLen = -1;
    let lenChooser = -1;
    const sequences: (readonly Value[] | undefined)[] = [];
    let anyUnknown = false;
    args.forEach((arg, i) => {
      const k = arg.type.kind;
      if ((k === 'list' || k === 'set' || k === 'tuple') && !arg.isNull) {
        if (arg.unknown && k !== 'tuple') {
          anyUnknown = true;
          sequences.push(undefined);
          return;
        }
        const len = k === 'tuple' ? (arg.type as { elems: readonly unknown[] }).elems.length : arg.elements().length;
        if (iterLen === -1) {
          iterLen = len;
          lenChooser = i;
        } else if (len !== iterLen) {
          throw new FunctionArgError(i + 1, `argument ${i + 1} has length ${len}, which is inconsistent with argument ${lenChooser + 1} of length ${iterLen}`);
        }
        if (arg.unknown) {
          anyUnknown = true;
          sequences.push(undefined);
          return;
        }
        sequences.push(arg.elements());
      } else sequences.push(undefined);
    });
    if (anyUnknown) return Value.unknown(T.list(T.string));
    if (iterLen === 0) return Value.list([], T.string);
    if (iterLen === -1) iterLen = 1;
    const out: Value[] = [];
    for (let it = 0; it < iterLen; it++) {
      const callArgs = args.map((a, i) => sequences[i]?.[it] ?? a);
      if (!callArgs.every((a) => a.isWhollyKnown)) {
        out.push(Value.unknown(T.string));
        continue;
      }
      try {
        out.push(Value.string(formatString(fmtStr, callArgs)));
      } catch (e) {
        if (e instanceof FormatFailure) throw new FunctionError(`error on format iteration ${it}: ${e.message}`);
        throw e;
      }
    }
    return Value.list(out, T.string);
  },
});

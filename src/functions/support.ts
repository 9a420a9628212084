/**
 * Small helpers shared by the function library: parameter shorthands, argument readers with cty's
 * messages, grapheme-cluster handling, and value conversion inside function bodies.
 */
import { convert } from '../values/convert.js';
import { NumberContext, T, Value, type Num, type Type } from '../values/value.js';
import { FunctionError, type FunctionDef, type Param } from './types.js';

/** A parameter; `opts` adds `allowNull`, `allowUnknown`, `allowMarked`. */
export function param(name: string, type: Type, opts: Omit<Param, 'name' | 'type'> = {}): Param {
  return { name, type, ...opts };
}

export function define(def: FunctionDef): FunctionDef {
  return def;
}

/** Made on first use: creating a Segmenter loads ICU break-iterator data (about 15 ms). */
let graphemeSegmenter: Intl.Segmenter | undefined;

/** The user-perceived characters (grapheme clusters) of `s`, as cty's textseg splits them. */
export function graphemes(s: string): string[] {
  const out: string[] = [];
  graphemeSegmenter ??= new Intl.Segmenter('en', { granularity: 'grapheme' });
  for (const seg of graphemeSegmenter.segment(s)) out.push(seg.segment);
  return out;
}

/** Converts `v` to `type` inside a function body; returns the value or cty's message. */
export function tryConvert(v: Value, type: Type): Value | { message: string } {
  const r = convert(v, type);
  return 'message' in r ? { message: r.message } : r.value;
}

/**
 * Reads argument `index` as a JS integer the way gocty does for an `int` target: the number must
 * be whole and fit in 64 bits. cty's functions return gocty's error as an error of the call.
 */
export function intArg(args: readonly Value[], index: number, prefix = ''): number {
  const n = args[index]!.asNumber();
  if (!n.isInteger() || n.abs().gt(Number.MAX_SAFE_INTEGER)) {
    throw new FunctionError(`${prefix}value must be a whole number, between -9223372036854775808 and 9223372036854775807`);
  }
  return n.toNumber();
}

export function num(n: number | string | Num): Value {
  return Value.number(n);
}

/** A JS double as a cty number: its shortest decimal form (cty.NumberFloatVal). */
export function floatNum(x: number): Value {
  return Value.number(new NumberContext(x));
}

export function str(v: Value): string {
  return v.asString();
}

export function strings(values: readonly string[]): Value {
  return Value.list(values.map((s) => Value.string(s)), T.string);
}

/** True for list, set and tuple types. */
export function isSequenceType(t: Type): boolean {
  return t.kind === 'list' || t.kind === 'set' || t.kind === 'tuple';
}

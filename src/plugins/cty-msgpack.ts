/**
 * go-cty's msgpack encoding of a value, decoded into builder's `Value`: the form in which a data
 * source of a v2 plugin started with `--protobuf` returns its result from `Execute` (encoded for
 * cty's dynamic type, so the bytes start with the value's type).
 *
 * The encoding, as observed (given the type the value is decoded for):
 * - Any msgpack extension value is an unknown value: one of at most 1 byte (go-cty writes
 *   fixext1 type 0 with a 0 byte) has no refinements; a longer one must be type 0x0C and carries a
 *   map of refinements (1: not-null/null, 2: string prefix, 3/4: number bounds, 5/6: length
 *   bounds). `Value` keeps no refinements; a refinement "is null" gives a known null.
 * - nil is null of the type. For the dynamic type a value is a 2-element array: the type as cty
 *   JSON type bytes (`"string"`, `["list","number"]`, `["object",{…}]`…) and the value encoded for
 *   that type; nil is a dynamic null.
 * - string: str (bin accepted); bool: bool; number: an integer, a float64 (both exact), or a
 *   decimal string for what neither holds exactly (±Infinity as float64).
 * - list, set, tuple: array (a tuple must have its type's length, or 0: an empty tuple);
 *   map: map of string keys; object: map of its attribute names, every attribute present
 *   (or none: an empty object), in any order.
 *
 * Contracts: `decodeCtyMsgpack` throws an Error naming the path (`.a[0]`) of what does not
 * conform; map keys `__proto__` are refused by the msgpack reader. Values are never marked
 * sensitive (marks cannot be encoded).
 */
import { ExtData, decode } from '@msgpack/msgpack';
import { ctyTypeFromJson, valueType, type CtyType } from './cty.js';
import { T, Value, type Type } from '../values/value.js';

const REFINED_UNKNOWN = 0x0c;

function fail(path: string, what: string): never {
  throw new Error(`cty msgpack value${path ? ` at ${path}` : ''}: ${what}`);
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof ExtData);
}

function unknownOf(ext: ExtData, t: CtyType, path: string): Value {
  const data = typeof ext.data === 'function' ? ext.data(0) : ext.data;
  if (data.length <= 1) return Value.unknown(valueType(t));
  if (ext.type !== REFINED_UNKNOWN) fail(path, `unsupported extension type ${ext.type} with ${data.length} bytes`);
  let refinements: unknown;
  try {
    refinements = decode(data);
  } catch {
    fail(path, 'the refinements of an unknown value are not a msgpack map');
  }
  if (!isMap(refinements)) fail(path, 'the refinements of an unknown value are not a map');
  // Key 1 is the nullness refinement; true ("is null") collapses to a known null in cty.
  if (t.kind !== 'dynamic' && refinements['1'] === true) return Value.null(valueType(t));
  return Value.unknown(valueType(t));
}

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  return undefined;
}

function numberOf(v: unknown, path: string): Value {
  if (typeof v === 'number') return Value.number(v);
  if (typeof v === 'bigint') return Value.number(v.toString());
  const s = text(v);
  if (s !== undefined && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s.trim())) return Value.number(s.trim());
  return fail(path, 'number is required');
}

function sequence(v: unknown, path: string, what: string): unknown[] {
  if (!Array.isArray(v)) fail(path, `${what} is required`);
  return v;
}

function mapping(v: unknown, path: string, what: string): Record<string, unknown> {
  if (!isMap(v)) fail(path, `${what} is required`);
  return v;
}

/** An element type given to Value's list/map/set constructors: none for dynamic (derived from the elements). */
function elemType(t: CtyType, n: number): Type | undefined {
  return t.kind === 'dynamic' && n > 0 ? undefined : valueType(t);
}

function toValue(v: unknown, t: CtyType, path: string): Value {
  if (v instanceof ExtData) return unknownOf(v, t, path);
  if (t.kind === 'dynamic') {
    if (v === null) return Value.null(T.dynamic);
    const pair = sequence(v, path, 'a dynamic value (a [type, value] array)');
    if (pair.length !== 2) fail(path, 'a dynamic value array must have exactly two elements');
    const typeText = text(pair[0]);
    if (typeText === undefined) fail(path, 'the type of a dynamic value must be JSON bytes');
    let ty: CtyType;
    try {
      ty = ctyTypeFromJson(JSON.parse(typeText));
    } catch (e) {
      fail(path, `bad dynamic type: ${(e as Error).message}`);
    }
    return toValue(pair[1], ty, path);
  }
  if (v === null) return Value.null(valueType(t));
  switch (t.kind) {
    case 'string': {
      const s = text(v);
      return s === undefined ? fail(path, 'string is required') : Value.string(s);
    }
    case 'bool':
      return typeof v === 'boolean' ? Value.bool(v) : fail(path, 'bool is required');
    case 'number':
      return numberOf(v, path);
    case 'list': case 'set': {
      const elems = sequence(v, path, `a ${t.kind}`).map((e, i) => toValue(e, t.elem, `${path}[${i}]`));
      return t.kind === 'list' ? Value.list(elems, elemType(t.elem, elems.length)) : Value.set(elems, elemType(t.elem, elems.length));
    }
    case 'tuple': {
      const items = sequence(v, path, 'a tuple');
      if (items.length === 0) return Value.tuple([]);
      if (items.length !== t.elems.length) fail(path, `a tuple of length ${t.elems.length} is required`);
      return Value.tuple(items.map((e, i) => toValue(e, t.elems[i]!, `${path}[${i}]`)));
    }
    case 'map': {
      const entries = Object.entries(mapping(v, path, 'a map')).map(([k, e]) => [k, toValue(e, t.elem, `${path}[${JSON.stringify(k)}]`)] as const);
      return Value.map(new Map(entries), elemType(t.elem, entries.length));
    }
    case 'object': {
      const m = mapping(v, path, 'an object');
      const keys = Object.keys(m);
      if (keys.length === 0) return Value.object({});
      const want = Object.keys(t.attrs);
      if (keys.length !== want.length) fail(path, `an object with ${want.length} attributes is required (${keys.length} given)`);
      const out = new Map<string, Value>();
      for (const k of keys) {
        const at = t.attrs[k];
        if (!at) fail(`${path}.${k}`, 'unsupported attribute');
        out.set(k, toValue(m[k], at, `${path}.${k}`));
      }
      return Value.object(out);
    }
  }
}

/**
 * Decodes go-cty msgpack bytes as a value of type `type` (default: dynamic, the form of a data
 * source's `Execute` result).
 */
export function decodeCtyMsgpack(bytes: Uint8Array, type: CtyType = { kind: 'dynamic' }): Value {
  let raw: unknown;
  try {
    raw = decode(bytes, { useBigInt64: true });
  } catch (e) {
    throw new Error(`cty msgpack value: not msgpack (${(e as Error).message})`);
  }
  return toValue(raw, type, '');
}

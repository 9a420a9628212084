/**
 * Type conversion and type unification with cty's rules (the "unsafe" mode HCL and Packer use).
 *
 * Contracts:
 * - `convert(v, want)` first decides at the type level whether a conversion exists; when none does
 *   the error is cty's mismatch message for the two types ("list of string required",
 *   `attribute "x" is required`, "incorrect list element type: number required", …). When one does,
 *   the value is converted element by element; a value-level failure ("a number is required") is
 *   reported with the path to the failing element.
 * - Null of any type converts to null of the target type; unknown stays unknown (typed); a
 *   sensitive value's result is sensitive. Conversion to `dynamic` returns the value unchanged.
 * - Object → object keeps only the target's attributes; a missing attribute is an error unless it
 *   is `optional(...)`, in which case it is null or, with `optional(T, default)`, the default.
 *   A null attribute with a default also takes the default (Terraform's behaviour).
 * - `unifyTypes` is cty's `UnifyUnsafe`: the one type all given types convert to, for conditional
 *   branches, tuple → list conversion and collection-building functions.
 */
import { T, Value, formatNumber, typeEquals, type Num, type Type, NumberContext } from './value.js';

/** One step of a path into a value: `.name` (object attribute) or `[key]` (index). */
export type PathStep = { readonly attr: string } | { readonly index: string | number };

export type ConvertResult =
  | { value: Value }
  | {
      /** The message with the path prefixed when the failure is inside the value: `.foo[2]: a number is required`. */
      error: string;
      /** cty's bare message, as Packer prints it in "Invalid value for …" diagnostics. */
      message: string;
      /** The path to the failing element (empty at the top level). */
      path: readonly PathStep[];
    };

/** Converts `value` to type `want`, or says why it cannot be. */
export function convert(value: Value, want: Type): ConvertResult {
  if (typeEquals(value.type, want) && !hasTypeConstraintExtras(want)) return { value };
  const conv = getConversion(value.type, want);
  if (!conv) {
    const message = mismatchMessage(value.type, want);
    return { error: message, message, path: [] };
  }
  try {
    return { value: conv(value, []) };
  } catch (e) {
    if (e instanceof ConversionFailure) {
      const p = formatPath(e.path);
      return { error: p ? `${p}: ${e.message}` : e.message, message: e.message, path: e.path };
    }
    throw e;
  }
}

/** True when some conversion from `from` to `to` exists at the type level (it may still fail for
 * a particular value, e.g. the string "abc" to number). */
export function conversionExists(from: Type, to: Type): boolean {
  return getConversion(from, to) !== undefined;
}

/** Formats a path the way Terraform/Packer print it: `.foo[2]["key"]`. */
export function formatPath(path: readonly PathStep[]): string {
  return path.map((s) => ('attr' in s ? `.${s.attr}` : typeof s.index === 'number' ? `[${s.index}]` : `[${JSON.stringify(s.index)}]`)).join('');
}

// ---- conversions --------------------------------------------------------------------------------

type Conversion = (v: Value, path: readonly PathStep[]) => Value;

class ConversionFailure extends Error {
  readonly path: readonly PathStep[];
  constructor(path: readonly PathStep[], message: string) {
    super(message);
    this.path = [...path];
  }
}

/** True when an object type (anywhere inside `t`) carries optional markers or defaults, which a
 * conversion must apply even when the structural types are equal. */
function hasTypeConstraintExtras(t: Type): boolean {
  switch (t.kind) {
    case 'list':
    case 'set':
    case 'map':
      return hasTypeConstraintExtras(t.elem);
    case 'tuple':
      return t.elems.some(hasTypeConstraintExtras);
    case 'object':
      return (t.optional?.size ?? 0) > 0 || (t.defaults?.size ?? 0) > 0 || [...t.attrs.values()].some(hasTypeConstraintExtras);
    default:
      return false;
  }
}

/** The type with optional markers and defaults removed, recursively (the type a value has). */
export function withoutOptionalAttributes(t: Type): Type {
  switch (t.kind) {
    case 'list':
    case 'set':
    case 'map':
      return { kind: t.kind, elem: withoutOptionalAttributes(t.elem) };
    case 'tuple':
      return T.tuple(t.elems.map(withoutOptionalAttributes));
    case 'object':
      return T.object(new Map([...t.attrs].map(([k, v]) => [k, withoutOptionalAttributes(v)])));
    default:
      return t;
  }
}

/** Replaces `dynamic` in `out` with the corresponding part of `from` (cty's dynamicReplace), so an
 * unknown or null result keeps as much type information as the input had. */
function dynamicReplace(from: Type, out: Type): Type {
  if (out.kind === 'dynamic') return from;
  if (from.kind === 'dynamic') return out;
  if ((out.kind === 'list' || out.kind === 'set' || out.kind === 'map') && from.kind === out.kind) {
    return { kind: out.kind, elem: dynamicReplace(from.elem, out.elem) };
  }
  if (out.kind === 'tuple' && from.kind === 'tuple' && from.elems.length === out.elems.length) {
    return T.tuple(out.elems.map((e, i) => dynamicReplace(from.elems[i]!, e)));
  }
  if (out.kind === 'object' && from.kind === 'object') {
    return T.object(new Map([...out.attrs].map(([k, v]) => [k, from.attrs.has(k) ? dynamicReplace(from.attrs.get(k)!, v) : v])));
  }
  return out;
}

const isPrimitive = (t: Type): boolean => t.kind === 'string' || t.kind === 'number' || t.kind === 'bool';
const isCollection = (t: Type): boolean => t.kind === 'list' || t.kind === 'set' || t.kind === 'map';

/** The conversion from `inT` to `out`, wrapped with cty's standard handling of marks, null and
 * unknown; undefined when no conversion exists. */
function getConversion(inT: Type, out: Type): Conversion | undefined {
  const conv = getConversionKnown(inT, out);
  if (!conv) return undefined;
  const wrapped: Conversion = (v, path) => {
    if (v.sensitive) return wrapped(v.unmark(), path).markSensitive();
    if (out.kind === 'dynamic') return v;
    if (v.unknown || v.isNull) {
      const t = dynamicReplace(v.type, withoutOptionalAttributes(out));
      return v.unknown ? Value.unknown(t) : Value.null(t);
    }
    return conv(v, path);
  };
  return wrapped;
}

function getConversionKnown(inT: Type, out: Type): Conversion | undefined {
  if (out.kind === 'dynamic') return (v) => v;
  if (inT.kind === 'dynamic') return dynamicFixup(out);
  if (isPrimitive(inT) && isPrimitive(out)) return primitiveConversion(inT, out);
  if (out.kind === 'object' && inT.kind === 'object') return objectToObject(inT, out);
  if (out.kind === 'tuple' && inT.kind === 'tuple') return tupleToTuple(inT, out);
  if ((out.kind === 'list' || out.kind === 'set') && (inT.kind === 'list' || inT.kind === 'set')) {
    if (typeEquals(inT.elem, out.elem) && !hasTypeConstraintExtras(out.elem)) return collectionToSequence(out.kind, out.elem, undefined);
    const ec = getConversion(inT.elem, out.elem);
    return ec ? collectionToSequence(out.kind, out.elem, ec) : undefined;
  }
  if (out.kind === 'map' && inT.kind === 'map') {
    const ec = getConversion(inT.elem, out.elem);
    return ec ? mapToMap(out.elem, ec) : undefined;
  }
  if ((out.kind === 'list' || out.kind === 'set') && inT.kind === 'tuple') return tupleToSequence(out.kind, inT, out.elem);
  if (out.kind === 'map' && inT.kind === 'object') return objectToMap(inT, out.elem);
  if (out.kind === 'object' && inT.kind === 'map') return mapToObject(inT, out);
  return undefined;
}

/** From a value whose type was not known while type checking: decide now, from its real type. */
function dynamicFixup(out: Type): Conversion {
  return (v, path) => {
    const conv = getConversion(v.type, out);
    if (!conv) throw new ConversionFailure(path, mismatchMessage(v.type, out));
    return conv(v, path);
  };
}

function primitiveConversion(inT: Type, out: Type): Conversion | undefined {
  if (inT.kind === out.kind) return (v) => v;
  if (out.kind === 'string') {
    if (inT.kind === 'number') return (v) => Value.string(formatNumber(v.asNumber()));
    return (v) => Value.string(v.asBool() ? 'true' : 'false');
  }
  if (inT.kind !== 'string') return undefined; // number <-> bool: no conversion
  if (out.kind === 'number') {
    return (v, path) => {
      const n = parseNumber(v.asString());
      if (!n) throw new ConversionFailure(path, 'a number is required');
      return Value.number(n);
    };
  }
  return (v, path) => {
    const s = v.asString();
    if (s === 'true' || s === '1') return Value.bool(true);
    if (s === 'false' || s === '0') return Value.bool(false);
    const lower = s.toLowerCase();
    if (lower === 'true' || lower === 'false') {
      throw new ConversionFailure(path, `a bool is required; to convert from string, use lowercase "${lower}"`);
    }
    throw new ConversionFailure(path, 'a bool is required');
  };
}

const NUMBER_SYNTAX = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Parses a decimal number the way cty's string → number conversion does (Go's big.Float parser in
 * base 10: optional sign, digits, fraction, exponent; no spaces, no hex, no "Inf"). */
export function parseNumber(s: string): Num | undefined {
  if (!NUMBER_SYNTAX.test(s)) return undefined;
  return new NumberContext(s);
}

function objectToObject(inT: Extract<Type, { kind: 'object' }>, out: Extract<Type, { kind: 'object' }>): Conversion | undefined {
  const attrConvs = new Map<string, Conversion | undefined>();
  for (const [name, outAty] of out.attrs) {
    const inAty = inT.attrs.get(name);
    if (!inAty) {
      if (out.optional?.has(name)) continue;
      return undefined;
    }
    if (typeEquals(inAty, outAty) && !hasTypeConstraintExtras(outAty)) {
      attrConvs.set(name, undefined);
      continue;
    }
    const c = getConversion(inAty, outAty);
    if (!c) return undefined;
    attrConvs.set(name, c);
  }
  return (v, path) => {
    const attrs = new Map<string, Value>();
    for (const [name, av] of v.entries()) {
      if (!attrConvs.has(name)) continue;
      const c = attrConvs.get(name);
      attrs.set(name, c ? c(av, [...path, { attr: name }]) : av);
    }
    for (const [name, aty] of out.attrs) {
      const current = attrs.get(name);
      if (current !== undefined && !current.isNull) continue;
      const dflt = out.defaults?.get(name);
      if (dflt !== undefined && !dflt.isNull) {
        const c = getConversion(dflt.type, aty);
        if (!c) throw new ConversionFailure([...path, { attr: name }], mismatchMessage(dflt.type, aty));
        attrs.set(name, c(dflt, [...path, { attr: name }]));
      } else if (current === undefined) {
        attrs.set(name, Value.null(withoutOptionalAttributes(aty)));
      }
    }
    return Value.object(attrs);
  };
}

function tupleToTuple(inT: Extract<Type, { kind: 'tuple' }>, out: Extract<Type, { kind: 'tuple' }>): Conversion | undefined {
  if (inT.elems.length !== out.elems.length) return undefined;
  const convs: (Conversion | undefined)[] = [];
  for (let i = 0; i < out.elems.length; i++) {
    if (typeEquals(inT.elems[i]!, out.elems[i]!) && !hasTypeConstraintExtras(out.elems[i]!)) {
      convs.push(undefined);
      continue;
    }
    const c = getConversion(inT.elems[i]!, out.elems[i]!);
    if (!c) return undefined;
    convs.push(c);
  }
  return (v, path) => Value.tuple(v.elements().map((e, i) => (convs[i] ? convs[i]!(e, [...path, { index: i }]) : e)));
}

/** Builds a list or set from converted elements, unifying their types when they differ (which can
 * happen when the target element type is or contains `dynamic`). */
function buildSequence(kind: 'list' | 'set', elems: Value[], path: readonly PathStep[], emptyElemType: Type): Value {
  if (elems.length === 0) return Value.ofType({ kind, elem: withoutOptionalAttributes(emptyElemType) }, []);
  const unified = unifyElementValues(elems, path, (i) => ({ index: i }));
  const et = unified[0]!.type;
  return Value.ofType({ kind, elem: et }, unified);
}

function unifyElementValues(elems: readonly Value[], path: readonly PathStep[], step: (i: number) => PathStep): Value[] {
  const first = elems[0]!.type;
  if (elems.every((e) => typeEquals(e.type, first))) return [...elems];
  const ut = unifyTypes(elems.map((e) => e.type));
  if (!ut) throw new ConversionFailure(path, 'cannot find a common base type for all elements');
  return elems.map((e, i) => {
    if (typeEquals(e.type, ut)) return e;
    const c = getConversion(e.type, ut);
    if (!c) throw new ConversionFailure([...path, step(i)], mismatchMessage(e.type, ut));
    return c(e, [...path, step(i)]);
  });
}

function collectionToSequence(kind: 'list' | 'set', ety: Type, ec: Conversion | undefined): Conversion {
  return (v, path) => {
    const elems = v.elements().map((e, i) => (ec ? ec(e, [...path, { index: i }]) : e));
    return buildSequence(kind, elems, path, ety.kind === 'dynamic' ? (v.type as { elem: Type }).elem : ety);
  };
}

function tupleToSequence(kind: 'list' | 'set', inT: Extract<Type, { kind: 'tuple' }>, wantEty: Type): Conversion | undefined {
  if (inT.elems.length === 0) return () => Value.ofType({ kind, elem: withoutOptionalAttributes(wantEty) }, []);
  let ety = wantEty;
  if (ety.kind === 'dynamic') {
    const u = unifyTypes(inT.elems);
    if (!u) return undefined;
    if (u.kind === 'dynamic' && !inT.elems.every((t) => t.kind === 'dynamic')) return undefined;
    ety = u;
  }
  const convs: (Conversion | undefined)[] = [];
  for (const t of inT.elems) {
    if (typeEquals(t, ety) && !hasTypeConstraintExtras(ety)) {
      convs.push(undefined);
      continue;
    }
    const c = getConversion(t, ety);
    if (!c) return undefined;
    convs.push(c);
  }
  return (v, path) => {
    const elems = v.elements().map((e, i) => (convs[i] ? convs[i]!(e, [...path, { index: i }]) : e));
    return buildSequence(kind, elems, path, ety);
  };
}

function buildMap(entries: Map<string, Value>, path: readonly PathStep[], emptyElemType: Type): Value {
  if (entries.size === 0) return Value.map(new Map(), withoutOptionalAttributes(emptyElemType));
  const keys = [...entries.keys()];
  const unified = unifyElementValues([...entries.values()], path, (i) => ({ index: keys[i]! }));
  return Value.map(new Map(keys.map((k, i) => [k, unified[i]!])), unified[0]!.type);
}

function mapToMap(ety: Type, ec: Conversion): Conversion {
  return (v, path) => {
    const out = new Map<string, Value>();
    for (const [k, e] of v.entries()) out.set(k, ec(e, [...path, { index: k }]));
    return buildMap(out, path, ety.kind === 'dynamic' ? (v.type as { elem: Type }).elem : ety);
  };
}

function objectToMap(inT: Extract<Type, { kind: 'object' }>, wantEty: Type): Conversion | undefined {
  if (inT.attrs.size === 0) return () => Value.map(new Map(), withoutOptionalAttributes(wantEty));
  let ety = wantEty;
  if (ety.kind === 'dynamic') {
    const u = unifyTypes([...inT.attrs.values()]);
    if (!u) return undefined;
    ety = u;
  }
  const convs = new Map<string, Conversion | undefined>();
  for (const [name, t] of inT.attrs) {
    if (typeEquals(t, ety) && !hasTypeConstraintExtras(ety)) {
      convs.set(name, undefined);
      continue;
    }
    const c = getConversion(t, ety);
    if (!c) return undefined;
    convs.set(name, c);
  }
  return (v, path) => {
    const out = new Map<string, Value>();
    for (const [k, e] of v.entries()) {
      const c = convs.get(k);
      out.set(k, c ? c(e, [...path, { index: k }]) : e);
    }
    return buildMap(out, path, ety);
  };
}

function mapToObject(inT: Extract<Type, { kind: 'map' }>, out: Extract<Type, { kind: 'object' }>): Conversion | undefined {
  const convs = new Map<string, Conversion | undefined>();
  const impossibleOptional = new Set<string>();
  for (const [name, aty] of out.attrs) {
    if (typeEquals(inT.elem, aty) && !hasTypeConstraintExtras(aty)) continue;
    const c = getConversion(inT.elem, aty);
    if (!c) {
      if (out.optional?.has(name)) {
        impossibleOptional.add(name);
        continue;
      }
      return undefined;
    }
    convs.set(name, c);
  }
  return (v, path) => {
    const attrs = new Map<string, Value>();
    for (const [k, e] of v.entries()) {
      if (!out.attrs.has(k)) continue;
      const p = [...path, { index: k }];
      if (impossibleOptional.has(k)) {
        throw new ConversionFailure(path, `map element type is incompatible with attribute "${k}": ${mismatchMessage(e.type, out.attrs.get(k)!)}`);
      }
      const c = convs.get(k);
      attrs.set(k, c ? c(e, p) : e);
    }
    for (const [name, aty] of out.attrs) {
      const current = attrs.get(name);
      if (current !== undefined && !current.isNull) continue;
      const dflt = out.defaults?.get(name);
      if (dflt !== undefined && !dflt.isNull) {
        const c = getConversion(dflt.type, aty);
        if (!c) throw new ConversionFailure([...path, { attr: name }], mismatchMessage(dflt.type, aty));
        attrs.set(name, c(dflt, [...path, { attr: name }]));
      } else if (current === undefined) {
        if (!out.optional?.has(name)) throw new ConversionFailure(path, `map has no element for required attribute "${name}"`);
        attrs.set(name, Value.null(withoutOptionalAttributes(aty)));
      }
    }
    return Value.object(attrs);
  };
}

// ---- mismatch messages --------------------------------------------------------------------------

/** cty's name for a type in a constraint message: "string", "list of number", "any type"… */
export function constraintTypeName(t: Type): string {
  switch (t.kind) {
    case 'dynamic':
      return 'any type';
    case 'list':
    case 'set':
    case 'map':
      return `${t.kind} of ${constraintTypeName(t.elem)}`;
    default:
      return t.kind;
  }
}

/** cty's English description of why `got` does not conform to `want`. */
export function mismatchMessage(got: Type, want: Type): string {
  if (got.kind === 'object' && want.kind === 'object') return mismatchObjects(got, want);
  if (got.kind === 'tuple' && want.kind === 'list' && want.elem.kind === 'dynamic') return 'all list elements must have the same type';
  if (got.kind === 'tuple' && want.kind === 'set' && want.elem.kind === 'dynamic') return 'all set elements must have the same type';
  if (got.kind === 'object' && want.kind === 'map' && want.elem.kind === 'dynamic') return 'all map elements must have the same type';
  if ((got.kind === 'tuple' || got.kind === 'object') && isCollection(want)) return mismatchFromStructural(got, want);
  if (isCollection(got) && isCollection(want)) return mismatchFromCollections(got, want);
  return `${constraintTypeName(want)} required`;
}

function mismatchObjects(got: Extract<Type, { kind: 'object' }>, want: Extract<Type, { kind: 'object' }>): string {
  const missing: string[] = [];
  let mismatch = '';
  for (const [name, wantAty] of [...want.attrs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const gotAty = got.attrs.get(name);
    if (!gotAty) {
      if (!want.optional?.has(name)) missing.push(name);
      continue;
    }
    if (mismatch || typeEquals(gotAty, wantAty)) continue;
    if (!getConversion(gotAty, wantAty)) mismatch = `attribute "${name}": ${mismatchMessage(gotAty, wantAty)}`;
  }
  if (missing.length === 1) return `attribute "${missing[0]}" is required`;
  if (missing.length === 2) return `attributes "${missing[0]}" and "${missing[1]}" are required`;
  if (missing.length > 2) {
    const quoted = missing.map((m) => `"${m}"`);
    return `attributes ${quoted.slice(0, -1).join(', ')}, and ${quoted[quoted.length - 1]} are required`;
  }
  return mismatch || 'incorrect object attributes';
}

function mismatchFromStructural(got: Type, want: Type): string {
  const wantEty = (want as { elem: Type }).elem;
  if ((want.kind === 'list' || want.kind === 'set') && got.kind !== 'tuple') return `${constraintTypeName(want)} required`;
  if (want.kind === 'map' && got.kind !== 'object') return `${constraintTypeName(want)} required`;
  if (got.kind === 'tuple') {
    for (let i = 0; i < got.elems.length; i++) {
      const e = got.elems[i]!;
      if (typeEquals(e, wantEty) || getConversion(e, wantEty)) continue;
      return `element ${i}: ${mismatchMessage(e, wantEty)}`;
    }
  } else if (got.kind === 'object') {
    for (const [name, a] of got.attrs) {
      if (typeEquals(a, wantEty) || getConversion(a, wantEty)) continue;
      return `element "${name}": ${mismatchMessage(a, wantEty)}`;
    }
  }
  return `all elements must be ${constraintTypeName(wantEty)}`;
}

function mismatchFromCollections(got: Type, want: Type): string {
  const gotIsSeq = got.kind === 'list' || got.kind === 'set';
  if ((want.kind === 'list' || want.kind === 'set') && !gotIsSeq) return `${constraintTypeName(want)} required`;
  if (want.kind === 'map' && got.kind !== 'map') return `${constraintTypeName(want)} required`;
  const noun = `${want.kind} element type`;
  return `incorrect ${noun}: ${mismatchMessage((got as { elem: Type }).elem, (want as { elem: Type }).elem)}`;
}

// ---- unification --------------------------------------------------------------------------------

/** cty's unsafe unification: the type all `types` can convert to, or undefined when there is none. */
export function unifyTypes(types: readonly Type[]): Type | undefined {
  if (types.length === 0) return undefined;
  const first = types[0]!;
  if (types.every((t) => typeEquals(t, first))) return first;
  let map = 0, list = 0, set = 0, object = 0, tuple = 0, dynamic = 0;
  for (const t of types) {
    if (t.kind === 'map') map++;
    else if (t.kind === 'list') list++;
    else if (t.kind === 'set') set++;
    else if (t.kind === 'object') object++;
    else if (t.kind === 'tuple') tuple++;
    else if (t.kind === 'dynamic') dynamic++;
  }
  const n = types.length;
  if (map > 0 && map + dynamic === n) return unifyCollections('map', types, dynamic > 0);
  if (map > 0 && map + object + dynamic === n) {
    const r = unifyStructuralAs('map', types);
    if (r) return r;
  } else if (list > 0 && list + dynamic === n) {
    return unifyCollections('list', types, dynamic > 0);
  } else if (list > 0 && list + tuple + dynamic === n) {
    const r = unifyStructuralAs('list', types);
    if (r) return r;
  } else if (set > 0 && set + dynamic === n) {
    return unifyCollections('set', types, dynamic > 0);
  } else if (object > 0 && object + dynamic === n) {
    return dynamic > 0 ? T.dynamic : unifyObjects(types as Extract<Type, { kind: 'object' }>[]);
  } else if (tuple > 0 && tuple + dynamic === n) {
    return dynamic > 0 ? T.dynamic : unifyTuples(types as Extract<Type, { kind: 'tuple' }>[]);
  } else if (object > 0 && tuple > 0) {
    return undefined;
  }
  outer: for (const wi of sortTypes(types)) {
    const want = types[wi]!;
    for (let i = 0; i < n; i++) {
      if (i === wi || typeEquals(types[i]!, want)) continue;
      if (!getConversion(types[i]!, want)) continue outer;
    }
    return want;
  }
  return undefined;
}

function unifyCollections(kind: 'list' | 'set' | 'map', types: readonly Type[], hasDynamic: boolean): Type | undefined {
  if (hasDynamic) return T.dynamic;
  const et = unifyTypes(types.map((t) => (t as { elem: Type }).elem));
  return et ? { kind, elem: et } : undefined;
}

/** Tuples among lists (or objects among maps): unify the structural ones as a collection, then
 * unify the whole set again with that collection type in their place. */
function unifyStructuralAs(kind: 'list' | 'map', types: readonly Type[]): Type | undefined {
  const structural = types.filter((t) => t.kind === (kind === 'list' ? 'tuple' : 'object'));
  const asColl = kind === 'list' ? unifyTuplesToList(structural as Extract<Type, { kind: 'tuple' }>[]) : unifyObjectsToMap(structural as Extract<Type, { kind: 'object' }>[]);
  if (!asColl || asColl.kind !== kind) return undefined;
  const replaced = types.map((t) => (t.kind === 'tuple' || t.kind === 'object' ? asColl : t));
  const r = unifyTypes(replaced);
  return r && r.kind === kind ? r : undefined;
}

function allConvert(types: readonly Type[], to: Type): boolean {
  return types.every((t) => typeEquals(t, to) || getConversion(t, to) !== undefined);
}

function unifyObjects(types: readonly Extract<Type, { kind: 'object' }>[]): Type | undefined {
  const first = types[0]!;
  for (const t of types.slice(1)) {
    if (t.attrs.size !== first.attrs.size || [...t.attrs.keys()].some((k) => !first.attrs.has(k))) return unifyObjectsToMap(types);
  }
  const attrs = new Map<string, Type>();
  for (const name of first.attrs.keys()) {
    const u = unifyTypes(types.map((t) => t.attrs.get(name)!));
    if (!u) return undefined;
    attrs.set(name, u);
  }
  const ret = T.object(attrs);
  return allConvert(types, ret) ? ret : unifyObjectsToMap(types);
}

function unifyObjectsToMap(types: readonly Extract<Type, { kind: 'object' }>[]): Type | undefined {
  const et = unifyTypes(types.flatMap((t) => [...t.attrs.values()]));
  if (!et) return undefined;
  const ret = T.map(et);
  return allConvert(types, ret) ? ret : undefined;
}

function unifyTuples(types: readonly Extract<Type, { kind: 'tuple' }>[]): Type | undefined {
  const first = types[0]!;
  if (types.some((t) => t.elems.length !== first.elems.length)) return unifyTuplesToList(types);
  const elems: Type[] = [];
  for (let i = 0; i < first.elems.length; i++) {
    const u = unifyTypes(types.map((t) => t.elems[i]!));
    if (!u) return undefined;
    elems.push(u);
  }
  const ret = T.tuple(elems);
  return allConvert(types, ret) ? ret : unifyTuplesToList(types);
}

function unifyTuplesToList(types: readonly Extract<Type, { kind: 'tuple' }>[]): Type | undefined {
  const et = unifyTypes(types.flatMap((t) => t.elems));
  if (!et) return undefined;
  const ret = T.list(et);
  return allConvert(types, ret) ? ret : undefined;
}

/** cty's preference order for unification: indices of `types`, most general first. */
function sortTypes(types: readonly Type[]): number[] {
  const n = types.length;
  const edges: number[][] = types.map(() => []);
  for (let i = 0; i < n - 1; i++) {
    for (let j = i + 1; j < n; j++) {
      const c = compareTypes(types[i]!, types[j]!);
      if (c < 0) edges[i]!.push(j);
      else if (c > 0) edges[j]!.push(i);
    }
  }
  const inDegree = new Array<number>(n).fill(0);
  for (const outs of edges) for (const j of outs) inDegree[j]!++;
  const result: number[] = [];
  for (let i = 0; i < n; i++) if (inDegree[i] === 0) result.push(i);
  for (let q = 0; q < result.length; q++) {
    for (const j of edges[result[q]!]!) {
      inDegree[j]!--;
      if (inDegree[j] === 0) result.push(j);
    }
  }
  return result;
}

/** Negative when `a` is more general than `b` (preferred as a unification result). */
function compareTypes(a: Type, b: Type): number {
  if (a.kind === 'dynamic' || b.kind === 'dynamic') {
    // dynamic is least preferred: it is a placeholder that should converge on its neighbours.
    if (a.kind !== 'dynamic') return -1;
    if (b.kind !== 'dynamic') return 1;
    return 0;
  }
  if (isPrimitive(a) && isPrimitive(b) && (a.kind === 'string' || b.kind === 'string')) {
    if (a.kind !== 'string') return 1;
    if (b.kind !== 'string') return -1;
    return 0;
  }
  if (a.kind === b.kind && (a.kind === 'list' || a.kind === 'set' || a.kind === 'map')) {
    return compareTypes(a.elem, (b as { elem: Type }).elem);
  }
  let swap = 1;
  if ((a.kind === 'tuple' && b.kind === 'list') || (a.kind === 'object' && b.kind === 'map') || (a.kind === 'set' && (b.kind === 'tuple' || b.kind === 'list'))) {
    [a, b] = [b, a];
    swap = -1;
  }
  if (b.kind === 'set' && (a.kind === 'tuple' || a.kind === 'list')) return -1 * swap;
  if (a.kind === 'list' && b.kind === 'tuple') return -1 * swap;
  if (a.kind === 'map' && b.kind === 'object') return -1 * swap;
  if (a.kind === 'object' && b.kind === 'object') {
    if (a.attrs.size !== b.attrs.size) return 0;
    let aSuper = false, bSuper = false;
    for (const [k, t] of a.attrs) {
      const o = b.attrs.get(k);
      if (!o) return 0;
      const c = compareTypes(t, o);
      if (c < 0) aSuper = true;
      else if (c > 0) bSuper = true;
    }
    return aSuper === bSuper ? 0 : aSuper ? -1 * swap : swap;
  }
  if (a.kind === 'tuple' && b.kind === 'tuple') {
    if (a.elems.length !== b.elems.length) return 0;
    let aSuper = false, bSuper = false;
    a.elems.forEach((t, i) => {
      const c = compareTypes(t, b.elems[i]!);
      if (c < 0) aSuper = true;
      else if (c > 0) bSuper = true;
    });
    return aSuper === bSuper ? 0 : aSuper ? -1 * swap : swap;
  }
  return 0;
}

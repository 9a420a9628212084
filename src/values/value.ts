/**
 * The value model of the template language: Packer's (cty's) types and values.
 *
 * Contracts:
 * - Values are immutable. Collections hold `Value`s, never raw JS data.
 * - Numbers are arbitrary-precision decimals (`decimal.js`), so `0.1 + 0.2` is exactly `0.3` and
 *   `9007199254740993` stays exact, as with cty's big.Float.
 * - A value can be *null* (of any type), *unknown* (not known until the build runs, e.g.
 *   `build.Host` during `validate`), and *sensitive* (marked; the mark propagates through every
 *   operation and function, and the UI prints `<sensitive>`).
 * - Strings are stored NFC-normalised, as cty does.
 * - Set elements are kept unique and in cty's canonical order (see `sortSetElements`).
 */
import { Decimal } from 'decimal.js';

/** The precision used for all arithmetic: 512 bits in cty; ~155 significant decimal digits. */
export const NumberContext = Decimal.clone({ precision: 160, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -1e9, toExpPos: 1e9 });
export type Num = Decimal;

export type Type =
  | { readonly kind: 'string' }
  | { readonly kind: 'number' }
  | { readonly kind: 'bool' }
  /** "any": the type is not known or not constrained. A value of this type is null or unknown. */
  | { readonly kind: 'dynamic' }
  | { readonly kind: 'list'; readonly elem: Type }
  | { readonly kind: 'set'; readonly elem: Type }
  | { readonly kind: 'map'; readonly elem: Type }
  | { readonly kind: 'tuple'; readonly elems: readonly Type[] }
  | {
      readonly kind: 'object';
      readonly attrs: ReadonlyMap<string, Type>;
      /** Attribute names declared `optional(...)` in a type constraint. */
      readonly optional?: ReadonlySet<string>;
      /** Defaults given as `optional(type, default)` in a type constraint. */
      readonly defaults?: ReadonlyMap<string, Value>;
    };

export const T = {
  string: { kind: 'string' } as Type,
  number: { kind: 'number' } as Type,
  bool: { kind: 'bool' } as Type,
  dynamic: { kind: 'dynamic' } as Type,
  list: (elem: Type): Type => ({ kind: 'list', elem }),
  set: (elem: Type): Type => ({ kind: 'set', elem }),
  map: (elem: Type): Type => ({ kind: 'map', elem }),
  tuple: (elems: readonly Type[]): Type => ({ kind: 'tuple', elems }),
  object: (attrs: Record<string, Type> | ReadonlyMap<string, Type>): Type => ({
    kind: 'object',
    attrs: attrs instanceof Map ? attrs : new Map(Object.entries(attrs as Record<string, Type>)),
  }),
  emptyObject: { kind: 'object', attrs: new Map() } as Type,
  emptyTuple: { kind: 'tuple', elems: [] } as Type,
};

/** Structural type equality (ignores optional markers and defaults). */
export function typeEquals(a: Type, b: Type): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'list':
    case 'set':
    case 'map':
      return typeEquals(a.elem, (b as { elem: Type }).elem);
    case 'tuple': {
      const be = (b as { elems: readonly Type[] }).elems;
      return a.elems.length === be.length && a.elems.every((t, i) => typeEquals(t, be[i]!));
    }
    case 'object': {
      const ba = (b as { attrs: ReadonlyMap<string, Type> }).attrs;
      if (a.attrs.size !== ba.size) return false;
      for (const [k, t] of a.attrs) {
        const o = ba.get(k);
        if (!o || !typeEquals(t, o)) return false;
      }
      return true;
    }
    default:
      return true;
  }
}

/** True when the type is or contains `dynamic` (so it is a constraint, not a concrete type). */
export function hasDynamic(t: Type): boolean {
  switch (t.kind) {
    case 'dynamic':
      return true;
    case 'list':
    case 'set':
    case 'map':
      return hasDynamic(t.elem);
    case 'tuple':
      return t.elems.some(hasDynamic);
    case 'object':
      return [...t.attrs.values()].some(hasDynamic);
    default:
      return false;
  }
}

/** The name cty prints for a type in messages: "string", "list of string", "object", "tuple"… */
export function friendlyTypeName(t: Type): string {
  switch (t.kind) {
    case 'dynamic':
      return 'dynamic';
    case 'list':
      return `list of ${friendlyTypeName(t.elem)}`;
    case 'set':
      return `set of ${friendlyTypeName(t.elem)}`;
    case 'map':
      return `map of ${friendlyTypeName(t.elem)}`;
    default:
      return t.kind;
  }
}

/** The type written the way a type constraint expression writes it: `list(string)`, `object({a=number})`. */
export function typeExpression(t: Type): string {
  switch (t.kind) {
    case 'dynamic':
      return 'any';
    case 'list':
    case 'set':
    case 'map':
      return `${t.kind}(${typeExpression(t.elem)})`;
    case 'tuple':
      return `tuple([${t.elems.map(typeExpression).join(', ')}])`;
    case 'object':
      return `object({${[...t.attrs].map(([k, v]) => `${k}=${typeExpression(v)}`).join(', ')}})`;
    default:
      return t.kind;
  }
}

const ASCII = /^[\x00-\x7f]*$/;

type Raw = null | string | Num | boolean | readonly Value[] | ReadonlyMap<string, Value>;

export class Value {
  /** For primitives: string | Num | boolean. For list/set/tuple: Value[]. For map/object: Map.
   * `null` for a null value and for an unknown value. */
  readonly raw: Raw;
  readonly type: Type;
  readonly unknown: boolean;
  readonly sensitive: boolean;

  private constructor(type: Type, raw: Raw, unknown: boolean, sensitive: boolean) {
    this.type = type;
    this.raw = raw;
    this.unknown = unknown;
    this.sensitive = sensitive;
  }

  // ---- constructors -------------------------------------------------------------------------

  static string(s: string): Value {
    // ASCII text is already in NFC; normalising only the rest keeps literals cheap.
    return new Value(T.string, ASCII.test(s) ? s : s.normalize('NFC'), false, false);
  }
  static number(n: number | string | Num): Value {
    return new Value(T.number, new NumberContext(n as Decimal.Value), false, false);
  }
  static bool(b: boolean): Value {
    return b ? TRUE : FALSE;
  }
  static null(type: Type = T.dynamic): Value {
    return new Value(type, null, false, false);
  }
  static unknown(type: Type = T.dynamic): Value {
    return new Value(type, null, true, false);
  }
  /** A list; `elemType` is needed only for an empty list. All elements must share one type. */
  static list(elems: readonly Value[], elemType?: Type): Value {
    const et = elemType ?? (elems[0] ? elems[0].type : T.dynamic);
    return new Value(T.list(et), [...elems], false, false);
  }
  static set(elems: readonly Value[], elemType?: Type): Value {
    const et = elemType ?? (elems[0] ? elems[0].type : T.dynamic);
    return new Value(T.set(et), sortSetElements(dedupe(elems)), false, false);
  }
  static tuple(elems: readonly Value[]): Value {
    return new Value(T.tuple(elems.map((e) => e.type)), [...elems], false, false);
  }
  static map(entries: ReadonlyMap<string, Value> | Record<string, Value>, elemType?: Type): Value {
    const m = entries instanceof Map ? new Map(entries) : new Map(Object.entries(entries as Record<string, Value>));
    const first = m.values().next().value as Value | undefined;
    const et = elemType ?? (first ? first.type : T.dynamic);
    return new Value(T.map(et), sortedMap(m), false, false);
  }
  static object(entries: ReadonlyMap<string, Value> | Record<string, Value>): Value {
    const m = entries instanceof Map ? new Map(entries) : new Map(Object.entries(entries as Record<string, Value>));
    const sm = sortedMap(m);
    return new Value(T.object(new Map([...sm].map(([k, v]) => [k, v.type]))), sm, false, false);
  }
  /** Builds a value of an exact given type from already-conforming parts (used by conversion). */
  static ofType(type: Type, raw: Raw): Value {
    if (type.kind === 'set' && Array.isArray(raw)) return new Value(type, sortSetElements(dedupe(raw as Value[])), false, false);
    if ((type.kind === 'map' || type.kind === 'object') && raw instanceof Map) return new Value(type, sortedMap(raw), false, false);
    return new Value(type, raw, false, false);
  }

  // ---- marks --------------------------------------------------------------------------------

  markSensitive(on = true): Value {
    if (!on || this.sensitive) return this;
    return new Value(this.type, this.raw, this.unknown, true);
  }
  /** The value without its sensitive mark (only for code that deliberately uses the secret). */
  unmark(): Value {
    return this.sensitive ? new Value(this.type, this.raw, this.unknown, false) : this;
  }
  /** True when this value or anything nested in it is sensitive. */
  containsSensitive(): boolean {
    if (this.sensitive) return true;
    if (Array.isArray(this.raw)) return (this.raw as Value[]).some((v) => v.containsSensitive());
    if (this.raw instanceof Map) return [...this.raw.values()].some((v) => v.containsSensitive());
    return false;
  }

  // ---- inspection ---------------------------------------------------------------------------

  get isNull(): boolean {
    return this.raw === null && !this.unknown;
  }
  /** Known and, for collections, every element wholly known. */
  get isWhollyKnown(): boolean {
    if (this.unknown) return false;
    if (Array.isArray(this.raw)) return (this.raw as Value[]).every((v) => v.isWhollyKnown);
    if (this.raw instanceof Map) return [...this.raw.values()].every((v) => v.isWhollyKnown);
    return true;
  }
  asString(): string {
    if (typeof this.raw !== 'string') throw new TypeError(`value is not a known string (${friendlyTypeName(this.type)})`);
    return this.raw;
  }
  asNumber(): Num {
    if (!(this.raw instanceof NumberContext || Decimal.isDecimal(this.raw))) throw new TypeError('value is not a known number');
    return this.raw as Num;
  }
  asBool(): boolean {
    if (typeof this.raw !== 'boolean') throw new TypeError('value is not a known bool');
    return this.raw;
  }
  /** Elements of a list, set or tuple. */
  elements(): readonly Value[] {
    if (!Array.isArray(this.raw)) throw new TypeError(`value is not a known sequence (${friendlyTypeName(this.type)})`);
    return this.raw as readonly Value[];
  }
  /** Entries of a map or object, in lexical key order. */
  entries(): ReadonlyMap<string, Value> {
    if (!(this.raw instanceof Map)) throw new TypeError(`value is not a known map or object (${friendlyTypeName(this.type)})`);
    return this.raw as ReadonlyMap<string, Value>;
  }
  get isSequence(): boolean {
    return this.type.kind === 'list' || this.type.kind === 'set' || this.type.kind === 'tuple';
  }
  get isMapping(): boolean {
    return this.type.kind === 'map' || this.type.kind === 'object';
  }

  /** Plain JSON-compatible data (numbers become JS numbers when exact, else decimal strings).
   * Unknown values become `undefined`. Sensitive marks are dropped: callers decide about masking. */
  toJS(): unknown {
    if (this.unknown) return undefined;
    if (this.raw === null) return null;
    if (typeof this.raw === 'string' || typeof this.raw === 'boolean') return this.raw;
    if (Array.isArray(this.raw)) return (this.raw as Value[]).map((v) => v.toJS());
    if (this.raw instanceof Map) {
      const o: Record<string, unknown> = {};
      for (const [k, v] of this.raw) o[k] = v.toJS();
      return o;
    }
    const n = this.raw as Num;
    const asNum = n.toNumber();
    return new NumberContext(asNum).equals(n) ? asNum : n.toString();
  }

  /** Converts plain JSON data to a value with the types cty's JSON "implied type" gives it:
   * objects become objects, arrays become tuples. */
  static fromJS(data: unknown): Value {
    if (data === null || data === undefined) return Value.null();
    if (typeof data === 'string') return Value.string(data);
    if (typeof data === 'number') return Value.number(data);
    if (typeof data === 'boolean') return Value.bool(data);
    if (Decimal.isDecimal(data)) return Value.number(data as Num);
    if (Array.isArray(data)) return Value.tuple(data.map((d) => Value.fromJS(d)));
    if (data instanceof Map) return Value.object(new Map([...data].map(([k, v]) => [String(k), Value.fromJS(v)])));
    if (typeof data === 'object') return Value.object(Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Value.fromJS(v)])));
    throw new TypeError(`cannot represent ${typeof data} as a value`);
  }
}

const TRUE = Value.ofType(T.bool, true);
const FALSE = Value.ofType(T.bool, false);

/**
 * Deep equality of two known values, including type (cty's `Equals` for known values).
 * Marks are ignored.
 */
export function valuesEqual(a: Value, b: Value): boolean {
  if (a.unknown || b.unknown) return false;
  if (a.isNull || b.isNull) return a.isNull && b.isNull;
  if (!typeEquals(a.type, b.type)) return false;
  const ra = a.raw;
  const rb = b.raw;
  if (typeof ra === 'string' || typeof ra === 'boolean') return ra === rb;
  if (Array.isArray(ra)) {
    const eb = rb as readonly Value[];
    return ra.length === eb.length && (ra as Value[]).every((v, i) => valuesEqual(v, eb[i]!));
  }
  if (ra instanceof Map) {
    const mb = rb as ReadonlyMap<string, Value>;
    if (ra.size !== mb.size) return false;
    for (const [k, v] of ra) {
      const o = mb.get(k);
      if (!o || !valuesEqual(v, o)) return false;
    }
    return true;
  }
  return (ra as Num).equals(rb as Num);
}

function dedupe(elems: readonly Value[]): Value[] {
  const out: Value[] = [];
  for (const e of elems) if (!out.some((o) => !e.unknown && valuesEqual(o, e))) out.push(e);
  return out;
}

function sortedMap(m: ReadonlyMap<string, Value>): Map<string, Value> {
  return new Map([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * cty's canonical set order: strings lexically, numbers numerically, bools false first; other
 * element types keep insertion order (cty orders them by hash, which is not observable in Packer
 * output in a stable way). Unknown elements go last.
 */
export function sortSetElements(elems: readonly Value[]): Value[] {
  const known = elems.filter((e) => !e.unknown);
  const unknown = elems.filter((e) => e.unknown);
  const kind = known[0]?.type.kind;
  if (kind === 'string' && known.every((e) => typeof e.raw === 'string')) {
    known.sort((a, b) => (a.raw! < b.raw! ? -1 : a.raw! > b.raw! ? 1 : 0));
  } else if (kind === 'number' && known.every((e) => e.raw !== null)) {
    known.sort((a, b) => (a.raw as Num).comparedTo(b.raw as Num));
  } else if (kind === 'bool') {
    known.sort((a, b) => Number(a.raw) - Number(b.raw));
  }
  return [...known, ...unknown];
}

/** Formats a number the way cty/Packer prints it: integers without a point, no exponent for
 * ordinary magnitudes, shortest exact decimal otherwise; infinities as Go prints them (`+Inf`). */
export function formatNumber(n: Num): string {
  if (!n.isFinite()) return n.isNegative() ? '-Inf' : '+Inf';
  if (n.isInteger()) return n.toFixed(0);
  return n.toString();
}

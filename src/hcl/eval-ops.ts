/**
 * Value-level operations of the HCL expression language: attribute access, indexing, equality,
 * comparison, arithmetic and logic, with HCL's (hcl.GetAttr, hcl.Index) and cty's (stdlib
 * operator functions) rules and messages.
 *
 * Contracts:
 * - Every operation propagates the sensitive mark of its operands (and, for access, of the
 *   container) to its result.
 * - Unknown operands give unknown results of the operation's result type.
 * - Failures are returned as `{ summary, detail }` for the evaluator to place in a diagnostic.
 */
import { convert } from '../values/convert.js';
import { hasDynamic, NumberContext, T, Value, typeEquals, type Num } from '../values/value.js';

export interface OpFailure {
  summary: string;
  detail: string;
}
export type OpResult = { value: Value } | { failure: OpFailure };

const fail = (summary: string, detail: string): OpResult => ({ failure: { summary, detail } });

/** `obj.name` (hcl.GetAttr). */
export function getAttr(obj: Value, name: string): OpResult {
  if (obj.isNull) return fail('Attempt to get attribute from null value', 'This value is null, so it does not have any attributes.');
  const ty = obj.type;
  const s = obj.sensitive;
  switch (ty.kind) {
    case 'object': {
      const at = ty.attrs.get(name);
      if (!at) return fail('Unsupported attribute', `This object does not have an attribute named ${JSON.stringify(name)}.`);
      if (obj.unknown) return { value: Value.unknown(at).markSensitive(s) };
      return { value: obj.entries().get(name)!.markSensitive(s) };
    }
    case 'map': {
      if (obj.unknown) return { value: Value.unknown(ty.elem).markSensitive(s) };
      const v = obj.entries().get(name);
      if (!v) return fail('Missing map element', `This map does not have an element with the key ${JSON.stringify(name)}.`);
      return { value: v.markSensitive(s) };
    }
    case 'dynamic':
      return { value: Value.unknown().markSensitive(s) };
    case 'list':
      if (ty.elem.kind === 'object') {
        return fail(
          'Unsupported attribute',
          ty.elem.attrs.has(name)
            ? `Can't access attributes on a list of objects. Did you mean to access attribute ${JSON.stringify(name)} for a specific element of the list, or across all elements of the list?`
            : "Can't access attributes on a list of objects. Did you mean to access an attribute for a specific element of the list, or across all elements of the list?",
        );
      }
      break;
    case 'set':
      if (ty.elem.kind === 'object') {
        return fail('Unsupported attribute', "Can't access attributes on a set of objects. Did you mean to access an attribute across all elements of the set?");
      }
      break;
    case 'string':
    case 'number':
    case 'bool':
      return fail('Unsupported attribute', `Can't access attributes on a primitive-typed value (${ty.kind}).`);
    default:
      break;
  }
  return fail('Unsupported attribute', 'This value does not have any attributes.');
}

/** `collection[key]` (hcl.Index). */
export function indexValue(coll: Value, key: Value): OpResult {
  const invalid = 'Invalid index';
  if (coll.isNull) return fail('Attempt to index null value', 'This value is null, so it does not have any indices.');
  if (key.isNull) return fail(invalid, "Can't use a null value as an indexing key.");
  const marks = coll.sensitive || key.sensitive;
  const ty = coll.type;
  if (key.type.kind === 'dynamic' || ty.kind === 'dynamic') return { value: Value.unknown().markSensitive(coll.sensitive) };
  const notIdentified = 'The given key does not identify an element in this collection value';

  if (ty.kind === 'list' || ty.kind === 'tuple' || ty.kind === 'map') {
    const want = ty.kind === 'map' ? T.string : T.number;
    const kc = convert(key.unmark(), want);
    if ('error' in kc) return fail(invalid, `${notIdentified}: ${kc.message}.`);
    const k = kc.value;
    if (k.unknown || coll.unknown) {
      return { value: (ty.kind === 'tuple' ? Value.unknown() : Value.unknown(ty.elem)).markSensitive(marks) };
    }
    if (ty.kind === 'map') {
      const v = coll.entries().get(k.asString());
      if (!v) return fail(invalid, `${notIdentified}.`);
      return { value: v.markSensitive(marks) };
    }
    const n = k.asNumber();
    const elems = coll.elements();
    if (!n.isInteger()) {
      return fail(invalid, `${notIdentified}: indexing a sequence requires a whole number, but the given index has a fractional part.`);
    }
    if (n.isNegative() && !n.isZero()) return fail(invalid, `${notIdentified}: a negative number is not a valid index for a sequence.`);
    if (n.greaterThanOrEqualTo(elems.length)) {
      if (coll.sensitive) return fail(invalid, `${notIdentified}.`);
      if (elems.length === 0) return fail(invalid, `${notIdentified}: the collection has no elements.`);
      return fail(invalid, `${notIdentified}: the given index is greater than or equal to the length of the collection.`);
    }
    return { value: elems[n.toNumber()]!.markSensitive(marks) };
  }
  if (ty.kind === 'object') {
    const wasNumber = key.type.kind === 'number';
    const kc = convert(key.unmark(), T.string);
    if ('error' in kc) return fail(invalid, `${notIdentified}: ${kc.message}.`);
    if (kc.value.unknown) return { value: Value.unknown().markSensitive(coll.sensitive) };
    const name = kc.value.asString();
    const at = ty.attrs.get(name);
    if (!at) {
      const hint = wasNumber ? ' An object only supports looking up attributes by name, not by numeric index.' : '';
      return fail(invalid, `${notIdentified}.${hint}`);
    }
    if (coll.unknown) return { value: Value.unknown(at).markSensitive(marks) };
    return { value: coll.entries().get(name)!.markSensitive(marks) };
  }
  if (ty.kind === 'set') {
    return fail(
      invalid,
      "Elements of a set are identified only by their value and don't have any separate index or key to select with, so it's only possible to perform operations across all elements of the set.",
    );
  }
  return fail(invalid, 'This value does not have any indices.');
}

// ---- equality -----------------------------------------------------------------------------------

const UNKNOWN_BOOL = Value.unknown(T.bool);

/** cty's `Value.Equals`: a bool (or unknown bool); null equals null of any type; values of
 * different types are never equal. Marks of both operands are carried to the result. */
export function equalsValue(a: Value, b: Value): Value {
  return rawEquals(a.unmark(), b.unmark()).markSensitive(a.sensitive || b.sensitive);
}

function rawEquals(a: Value, b: Value): Value {
  if (a.unknown && b.unknown) return UNKNOWN_BOOL;
  if (a.unknown || b.unknown) {
    const [known, unknown] = a.unknown ? [b, a] : [a, b];
    if (known.isNull || hasDynamic(unknown.type)) return UNKNOWN_BOOL;
    if (!typeEquals(known.type, unknown.type)) return Value.bool(false);
    return UNKNOWN_BOOL;
  }
  if (a.isNull && b.isNull) return Value.bool(true);
  if (a.isNull || b.isNull) return Value.bool(false);
  if (!typeEquals(a.type, b.type)) return Value.bool(false);
  const ra = a.raw;
  const rb = b.raw;
  if (typeof ra === 'string' || typeof ra === 'boolean') return Value.bool(ra === rb);
  if (Array.isArray(ra)) {
    const ea = ra as readonly Value[];
    const eb = rb as readonly Value[];
    if (ea.length !== eb.length) return Value.bool(false);
    if (a.type.kind === 'set') return setEquals(ea, eb);
    let unknown = false;
    for (let i = 0; i < ea.length; i++) {
      const r = equalsValue(ea[i]!, eb[i]!);
      if (r.unknown) unknown = true;
      else if (r.raw === false) return Value.bool(false);
    }
    return unknown ? UNKNOWN_BOOL : Value.bool(true);
  }
  if (ra instanceof Map) {
    const mb = rb as ReadonlyMap<string, Value>;
    if (ra.size !== mb.size) return Value.bool(false);
    let unknown = false;
    for (const [k, v] of ra as ReadonlyMap<string, Value>) {
      const o = mb.get(k);
      if (!o) return Value.bool(false);
      const r = equalsValue(v, o);
      if (r.unknown) unknown = true;
      else if (r.raw === false) return Value.bool(false);
    }
    return unknown ? UNKNOWN_BOOL : Value.bool(true);
  }
  return Value.bool((ra as Num).equals(rb as Num));
}

function setEquals(a: readonly Value[], b: readonly Value[]): Value {
  if (a.some((e) => !e.isWhollyKnown) || b.some((e) => !e.isWhollyKnown)) return UNKNOWN_BOOL;
  for (const e of a) if (!b.some((o) => equalsValue(e, o).raw === true)) return Value.bool(false);
  return Value.bool(true);
}

// ---- arithmetic, comparison, logic --------------------------------------------------------------

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%';
export type ComparisonOp = '<' | '>' | '<=' | '>=';

/** Applies an arithmetic operator to two known, non-null numbers (cty's stdlib semantics:
 * division by zero gives an infinity; 0/0, ∞-∞ … are errors). */
export function arithmetic(op: ArithmeticOp, a: Num, b: Num): { value: Num } | { error: string } {
  let r: Num;
  switch (op) {
    case '+':
      r = a.plus(b);
      if (r.isNaN()) return { error: "can't compute sum of opposing infinities" };
      break;
    case '-':
      r = a.minus(b);
      if (r.isNaN()) return { error: "can't subtract infinity from itself" };
      break;
    case '*':
      r = a.times(b);
      if (r.isNaN()) return { error: "can't multiply zero by infinity" };
      break;
    case '/':
      if (b.isZero()) {
        if (a.isZero()) return { error: "can't divide zero by zero or infinity by infinity" };
        r = new NumberContext(a.isNegative() !== b.isNegative() ? -Infinity : Infinity);
        break;
      }
      r = a.dividedBy(b);
      if (r.isNaN()) return { error: "can't divide zero by zero or infinity by infinity" };
      break;
    case '%':
      if (!a.isFinite() || !b.isFinite()) {
        r = a.times(b);
        if (r.isNaN()) return { error: "can't use modulo with zero and infinity" };
        break;
      }
      if (b.isZero()) {
        r = a;
        break;
      }
      r = a.mod(b);
      break;
  }
  return { value: r.isZero() ? new NumberContext(0) : r };
}

export function compare(op: ComparisonOp, a: Num, b: Num): boolean {
  switch (op) {
    case '<':
      return a.lessThan(b);
    case '>':
      return a.greaterThan(b);
    case '<=':
      return a.lessThanOrEqualTo(b);
    case '>=':
      return a.greaterThanOrEqualTo(b);
  }
}

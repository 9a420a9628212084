/**
 * Collection functions (cty stdlib, go-cty-funcs' `coalesce`, and Packer's own `index`, `length`,
 * `alltrue`, `anytrue`). Messages are cty's.
 */
import { unifyTypes } from '../values/convert.js';
import { T, Value, friendlyTypeName, typeEquals, valuesEqual, type Type } from '../values/value.js';
import { define, graphemes, intArg, isSequenceType, num, param, tryConvert } from './support.js';
import { FunctionArgError, FunctionError } from './types.js';

const dyn = T.dynamic;

function convertOrThrow(v: Value, type: Type, argIndex: number): Value {
  const c = tryConvert(v, type);
  if (!(c instanceof Value)) throw new FunctionArgError(argIndex, c.message);
  return c;
}

/** Elements of a known list, set or tuple, or of a map/object's values. */
function elems(v: Value): readonly Value[] {
  return v.isMapping ? [...v.entries().values()] : v.elements();
}

export const length = define({
  params: [param('value', dyn, { allowUnknown: true })],
  returnType: T.number,
  impl: ([v]) => {
    const t = v!.type;
    if (t.kind === 'dynamic') return Value.unknown(T.number);
    if (t.kind === 'tuple') return num(t.elems.length);
    if (t.kind === 'object') return num(t.attrs.size);
    if (t.kind === 'string') return v!.unknown ? Value.unknown(T.number) : num(graphemes(v!.asString()).length);
    if (t.kind === 'list' || t.kind === 'set' || t.kind === 'map') return v!.unknown ? Value.unknown(T.number) : num(elems(v!).length);
    throw new FunctionArgError(0, 'argument must be a string, a collection type, or a structural type');
  },
});

export const index = define({
  params: [param('list', dyn), param('value', dyn)],
  returnType: T.number,
  impl: ([list, value]) => {
    if (list!.type.kind !== 'list' && list!.type.kind !== 'tuple') throw new FunctionError('argument must be a list or tuple');
    const items = list!.elements();
    if (items.length === 0) throw new FunctionError('cannot search an empty list');
    for (let i = 0; i < items.length; i++) {
      if (items[i]!.unknown || !value!.isWhollyKnown) return Value.unknown(T.number);
      if (valuesEqual(items[i]!, value!)) return num(i);
    }
    throw new FunctionError('item not found');
  },
});

export const alltrue = define({
  params: [param('list', T.list(T.bool))],
  returnType: T.bool,
  impl: ([list]) => {
    for (const v of list!.elements()) {
      if (v.unknown) return Value.unknown(T.bool);
      if (v.isNull || !v.asBool()) return Value.bool(false);
    }
    return Value.bool(true);
  },
});

export const anytrue = define({
  params: [param('list', T.list(T.bool))],
  returnType: T.bool,
  impl: ([list]) => {
    let unknown = false;
    for (const v of list!.elements()) {
      if (v.unknown) unknown = true;
      else if (!v.isNull && v.asBool()) return Value.bool(true);
    }
    return unknown ? Value.unknown(T.bool) : Value.bool(false);
  },
});

export const chunklist = define({
  params: [param('list', T.list(dyn)), param('size', T.number)],
  impl: (args) => {
    const list = args[0]!;
    const size = intArg(args, 1, 'invalid index: ');
    if (size < 0) throw new FunctionError('the size argument must be positive');
    const et = list.type.kind === 'list' ? list.type.elem : dyn;
    const items = list.elements();
    if (items.length === 0) return Value.list([], T.list(et));
    if (size === 0) return Value.list([list], T.list(et));
    const chunks: Value[] = [];
    for (let i = 0; i < items.length; i += size) chunks.push(Value.list(items.slice(i, i + size), et));
    return Value.list(chunks, T.list(et));
  },
});

export const coalesce = define({
  params: [],
  varParam: param('vals', dyn, { allowNull: true, allowUnknown: true }),
  impl: (args) => {
    const ret = unifyTypes(args.map((a) => a.type));
    if (!ret) throw new FunctionError('all arguments must have the same type');
    for (const a of args) {
      const v = convertOrThrow(a, ret, 0);
      if (v.unknown) return Value.unknown(ret);
      if (v.isNull) continue;
      if (ret.kind === 'string' && v.asString() === '') continue;
      return v;
    }
    throw new FunctionError('no non-null, non-empty-string arguments');
  },
});

export const coalescelist = define({
  params: [],
  varParam: param('vals', dyn, { allowNull: true, allowUnknown: true }),
  impl: (args) => {
    if (args.length === 0) throw new FunctionError('at least one argument is required');
    args.forEach((a, i) => {
      if (a.type.kind !== 'list' && a.type.kind !== 'tuple' && a.type.kind !== 'dynamic') {
        throw new FunctionArgError(i, `coalescelist arguments must be lists or tuples, got ${friendlyTypeName(a.type)}`);
      }
    });
    // As cty: the first non-empty argument as it is (no conversion to a common type, so a list
    // of numbers stays one beside a list of strings); unknown while an earlier one is.
    for (const a of args) {
      if (a.unknown) return Value.unknown(args.every((b) => typeEquals(b.type, a.type)) ? a.type : dyn);
      if (a.isNull) continue;
      if (a.elements().length > 0) return a;
    }
    throw new FunctionError('no non-null arguments');
  },
});

export const compact = define({
  params: [param('list', T.list(T.string))],
  returnType: T.list(T.string),
  impl: ([list]) => {
    if (!list!.isWhollyKnown) return Value.unknown(T.list(T.string));
    return Value.list(list!.elements().filter((e) => !e.isNull && e.asString() !== ''), T.string);
  },
});

export const concat = define({
  params: [],
  varParam: param('seqs', dyn),
  impl: (args) => {
    if (args.length === 0) throw new FunctionError('at least one argument is required');
    if (args.every((a) => a.type.kind === 'list')) {
      const common = unifyTypes(args.map((a) => a.type));
      if (common && common.kind === 'list') {
        const out: Value[] = [];
        for (const a of args) out.push(...convertOrThrow(a, common, 0).elements());
        return Value.list(out, common.elem);
      }
    }
    const out: Value[] = [];
    args.forEach((a, i) => {
      if (a.type.kind !== 'tuple' && a.type.kind !== 'list') {
        throw new FunctionArgError(i, `all arguments must be lists or tuples; got ${friendlyTypeName(a.type)}`);
      }
      out.push(...a.elements());
    });
    return Value.tuple(out);
  },
});

export const contains = define({
  params: [param('list', dyn), param('value', dyn)],
  returnType: T.bool,
  impl: ([list, value]) => {
    if (!isSequenceType(list!.type)) throw new FunctionError('argument must be list, tuple, or set');
    const items = list!.elements();
    if (items.length === 0) return Value.bool(false);
    if (!value!.isWhollyKnown) return Value.unknown(T.bool);
    let unknown = false;
    for (const e of items) {
      if (!e.isWhollyKnown) unknown = true;
      else if (valuesEqual(e, value!)) return Value.bool(true);
    }
    return unknown ? Value.unknown(T.bool) : Value.bool(false);
  },
});

export const distinct = define({
  params: [param('list', T.list(dyn))],
  impl: ([list]) => {
    const et = (list!.type as { elem: Type }).elem;
    if (!list!.isWhollyKnown) return Value.unknown(list!.type);
    const out: Value[] = [];
    for (const e of list!.elements()) if (!out.some((o) => valuesEqual(o, e))) out.push(e);
    return Value.list(out, et);
  },
});

export const element = define({
  params: [param('list', dyn), param('index', T.number)],
  impl: (args) => {
    const list = args[0]!;
    if (list.type.kind !== 'list' && list.type.kind !== 'tuple') {
      throw new FunctionArgError(0, `cannot read elements from ${friendlyTypeName(list.type)}`);
    }
    const n = args[1]!.asNumber();
    if (!n.isInteger()) throw new FunctionArgError(1, 'invalid index: value must be a whole number, between -9223372036854775808 and 9223372036854775807');
    const items = list.elements();
    if (items.length === 0) throw new FunctionError('cannot use element function with an empty list');
    if (n.isNegative()) throw new FunctionError('cannot use element function with a negative index');
    return items[n.mod(items.length).toNumber()]!;
  },
});

function flattenInto(v: Value, out: Value[]): boolean {
  let known = true;
  for (const e of v.elements()) {
    if (e.unknown && e.type.kind === 'dynamic') known = false;
    if (!e.isNull && isSequenceType(e.type)) {
      if (e.unknown) {
        known = false;
        continue;
      }
      if (!flattenInto(e, out)) known = false;
    } else out.push(e);
  }
  return known;
}

export const flatten = define({
  params: [param('list', dyn)],
  impl: ([list]) => {
    if (!isSequenceType(list!.type)) throw new FunctionError('can only flatten lists, sets and tuples');
    const out: Value[] = [];
    if (!flattenInto(list!, out)) return Value.unknown(dyn);
    return Value.tuple(out);
  },
});

export const keys = define({
  params: [param('inputMap', dyn)],
  impl: ([m]) => {
    const t = m!.type;
    if (t.kind !== 'map' && t.kind !== 'object') throw new FunctionArgError(0, 'must have map or object type');
    const names = [...m!.entries().keys()].map((k) => Value.string(k));
    return t.kind === 'map' ? Value.list(names, T.string) : Value.tuple(names);
  },
});

export const values = define({
  params: [param('mapping', dyn)],
  impl: ([m]) => {
    const t = m!.type;
    if (t.kind === 'map') return Value.list([...m!.entries().values()], t.elem);
    if (t.kind === 'object') return Value.tuple([...m!.entries().values()]);
    throw new FunctionError('values() requires a map as the first argument');
  },
});

export const lookup = define({
  params: [param('inputMap', dyn), param('key', T.string)],
  varParam: param('default', dyn, { allowNull: true, allowUnknown: true }),
  impl: (args) => {
    if (args.length > 3) throw new FunctionError(`lookup() takes two or three arguments, got ${args.length}`);
    const [m, k, dflt] = args;
    const key = k!.asString();
    const t = m!.type;
    if (t.kind === 'object') {
      if (m!.entries().has(key)) return m!.entries().get(key)!;
      if (dflt) return dflt;
      throw new FunctionArgError(0, `the given object has no attribute ${JSON.stringify(key)}`);
    }
    if (t.kind !== 'map') throw new FunctionArgError(0, 'lookup() requires a map as the first argument');
    let d: Value | undefined;
    if (dflt) {
      const c = tryConvert(dflt, t.elem);
      if (!(c instanceof Value)) throw new FunctionArgError(2, 'the default value must have the same type as the map elements');
      d = c;
    }
    if (!m!.isWhollyKnown) return Value.unknown(t.elem);
    const found = m!.entries().get(key);
    if (found) return found;
    if (d) return d;
    throw new FunctionError(`lookup failed to find key ${k!.sensitive ? '(sensitive value)' : JSON.stringify(key)}`);
  },
});

export const merge = define({
  params: [],
  varParam: param('maps', dyn, { allowNull: true }),
  impl: (args) => {
    if (args.length === 0) return Value.object(new Map());
    for (const a of args) {
      if (a.type.kind !== 'map' && a.type.kind !== 'object' && a.type.kind !== 'dynamic') {
        throw new FunctionError(`arguments must be maps or objects, got "${friendlyTypeName(a.type)}"`);
      }
    }
    const first = args[0]!.type;
    const matching = args.every((a) => typeEquals(a.type, first));
    const out = new Map<string, Value>();
    for (const a of args) {
      if (a.isNull) continue;
      for (const [k, v] of a.entries()) out.set(k, v);
    }
    if (matching && first.kind === 'map') return Value.map(out, first.elem);
    return Value.object(out);
  },
});

export const range = define({
  params: [],
  varParam: param('params', T.number),
  returnType: T.list(T.number),
  impl: (args) => {
    const zero = num(0).asNumber();
    let start, end, step;
    if (args.length === 1) [start, end, step] = [zero, args[0]!.asNumber(), num(args[0]!.asNumber().lt(0) ? -1 : 1).asNumber()];
    else if (args.length === 2) [start, end, step] = [args[0]!.asNumber(), args[1]!.asNumber(), num(args[1]!.asNumber().lt(args[0]!.asNumber()) ? -1 : 1).asNumber()];
    else if (args.length === 3) [start, end, step] = args.map((a) => a.asNumber()) as [typeof zero, typeof zero, typeof zero];
    else throw new FunctionError('must have one, two, or three arguments');
    if (step.isZero()) throw new FunctionArgError(2, 'step must not be zero');
    const down = step.lt(0);
    if (down && end.gt(start)) throw new FunctionArgError(1, 'end must be less than start when step is negative');
    if (!down && end.lt(start)) throw new FunctionArgError(1, 'end must be greater than start when step is positive');
    const out: Value[] = [];
    for (let n = start; down ? n.gt(end) : n.lt(end); n = n.plus(step)) {
      if (out.length >= 1024) throw new FunctionError('more than 1024 values were generated; either decrease the difference between start and end or use a smaller step');
      out.push(num(n));
    }
    return Value.list(out, T.number);
  },
});

export const reverse = define({
  params: [param('list', dyn)],
  impl: ([list]) => {
    const t = list!.type;
    if (t.kind === 'list') return Value.list([...list!.elements()].reverse(), t.elem);
    if (t.kind === 'tuple') return Value.tuple([...list!.elements()].reverse());
    throw new FunctionArgError(0, `can only reverse list or tuple values, not ${friendlyTypeName(t)}`);
  },
});

export const slice = define({
  params: [param('list', dyn), param('start_index', T.number), param('end_index', T.number)],
  impl: (args) => {
    const list = args[0]!;
    const t = list.type;
    if (t.kind === 'set') throw new FunctionArgError(0, 'cannot slice a set, because its elements do not have indices');
    if (t.kind !== 'list' && t.kind !== 'tuple') throw new FunctionArgError(0, 'must be a list or tuple value');
    const items = list.elements();
    const index = (i: number, what: string): number => {
      const n = args[i]!.asNumber();
      if (!n.isInteger()) throw new FunctionArgError(i, `invalid ${what} index: value must be a whole number, between -9223372036854775808 and 9223372036854775807`);
      const v = n.toNumber();
      if (v < 0) throw new FunctionArgError(i, `${what} index must not be less than zero`);
      if (v > items.length) throw new FunctionArgError(i, `${what} index must not be greater than the length of the list`);
      return v;
    };
    const s = index(1, 'start');
    const e = index(2, 'end');
    if (s > e) throw new FunctionArgError(1, 'start index must not be greater than end index');
    const part = items.slice(s, e);
    return t.kind === 'list' ? Value.list(part, t.elem) : Value.tuple(part);
  },
});

function compareCodePoints(a: string, b: string): number {
  const ca = [...a];
  const cb = [...b];
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const d = ca[i]!.codePointAt(0)! - cb[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return ca.length - cb.length;
}

export const sort = define({
  params: [param('list', T.list(T.string))],
  returnType: T.list(T.string),
  impl: ([list]) => {
    if (!list!.isWhollyKnown) return Value.unknown(T.list(T.string));
    const items = list!.elements();
    items.forEach((e, i) => {
      if (e.isNull) throw new FunctionError(`given list element ${i} is null; a null string cannot be sorted`);
    });
    return Value.list([...items].sort((a, b) => compareCodePoints(a.asString(), b.asString())), T.string);
  },
});

export const zipmap = define({
  params: [param('keys', T.list(T.string)), param('values', dyn)],
  impl: ([k, v]) => {
    const vt = v!.type;
    if (vt.kind !== 'list' && vt.kind !== 'tuple') throw new FunctionArgError(1, 'values argument must be a list or tuple value');
    const ks = k!.elements();
    const vs = v!.elements();
    if (ks.length !== vs.length) throw new FunctionError(`number of keys (${ks.length}) does not match number of values (${vs.length})`);
    const out = new Map<string, Value>();
    ks.forEach((key, i) => {
      if (key.isNull) throw new FunctionArgError(0, `keys list has null value at index ${i}`);
      out.set(key.asString(), vs[i]!);
    });
    return vt.kind === 'list' ? Value.map(out, vt.elem) : Value.object(out);
  },
});

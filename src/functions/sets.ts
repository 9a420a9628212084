/** Set functions: setintersection, setunion, setproduct (cty stdlib). Results are sets in cty's
 * canonical order (see `sortSetElements`). */
import { unifyTypes } from '../values/convert.js';
import { T, Value, valuesEqual, type Type } from '../values/value.js';
import { define, param, tryConvert } from './support.js';
import { FunctionArgError, FunctionError, type FunctionDef } from './types.js';

/** Converts every set to the one element type they share (cty's setOperationReturnType). */
function commonSets(sets: readonly Value[]): { elem: Type; sets: Value[] } {
  const elem = unifyTypes(sets.map((s) => (s.type as { elem: Type }).elem));
  if (!elem) throw new FunctionError('given sets must all have compatible element types');
  return {
    elem,
    sets: sets.map((s, i) => {
      const c = tryConvert(s, T.set(elem));
      if (!(c instanceof Value)) throw new FunctionArgError(i, c.message);
      return c;
    }),
  };
}

function setOperation(first: string, rest: string, op: (a: readonly Value[], b: readonly Value[]) => Value[]): FunctionDef {
  return define({
    params: [param(first, T.set(T.dynamic))],
    varParam: param(rest, T.set(T.dynamic)),
    impl: (args) => {
      const { elem, sets } = commonSets(args);
      if (!sets.every((s) => s.isWhollyKnown)) return Value.unknown(T.set(elem));
      let acc = sets[0]!.elements();
      for (const s of sets.slice(1)) acc = op(acc, s.elements());
      return Value.set(acc, elem);
    },
  });
}

const has = (list: readonly Value[], v: Value): boolean => list.some((e) => valuesEqual(e, v));

export const setintersection = setOperation('first_set', 'other_sets', (a, b) => a.filter((v) => has(b, v)));
export const setunion = setOperation('first_set', 'other_sets', (a, b) => [...a, ...b.filter((v) => !has(a, v))]);

export const setproduct = define({
  params: [],
  varParam: param('sets', T.dynamic),
  impl: (args) => {
    if (args.length < 2) throw new FunctionError('at least two arguments are required');
    let listCount = 0;
    const seqs = args.map((a, i) => {
      const k = a.type.kind;
      if (k === 'list') listCount++;
      else if (k === 'tuple') {
        listCount++;
        const lt = unifyTypes((a.type as { elems: readonly Type[] }).elems);
        const c = lt ? tryConvert(a, T.list(lt)) : Value.list([], T.dynamic);
        if (!(c instanceof Value)) throw new FunctionArgError(i, 'a set or a list is required');
        return c;
      } else if (k !== 'set') throw new FunctionArgError(i, 'a set or a list is required');
      return a;
    });
    const elemTypes = seqs.map((s) => (s.type as { elem: Type }).elem);
    const tupleType = T.tuple(elemTypes);
    const asList = listCount === args.length;
    if (!seqs.every((s) => s.isWhollyKnown)) return Value.unknown(asList ? T.list(tupleType) : T.set(tupleType));
    let product: Value[][] = [[]];
    for (const s of seqs) {
      const next: Value[][] = [];
      for (const prefix of product) for (const e of s.elements()) next.push([...prefix, e]);
      product = next;
    }
    const tuples = product.map((p) => Value.tuple(p));
    return asList ? Value.list(tuples, tupleType) : Value.set(tuples, tupleType);
  },
});

/** Numeric functions: abs, ceil, floor, log, max, min, parseint, pow, signum, sum (cty stdlib and
 * Packer's `sum`). Results are exact decimals except `log` and `pow`, which cty computes in
 * float64 as Go's math package does. */
import { NumberContext, T, Value, friendlyTypeName, type Num } from '../values/value.js';
import { define, floatNum, num, param, tryConvert } from './support.js';
import { FunctionArgError, FunctionError, type FunctionDef } from './types.js';

const number = T.number;

export const abs = define({
  params: [param('num', number)],
  returnType: number,
  impl: ([n]) => num(n!.asNumber().abs()),
});

export const ceil = define({
  params: [param('num', number)],
  returnType: number,
  impl: ([n]) => num(n!.asNumber().ceil()),
});

export const floor = define({
  params: [param('num', number)],
  returnType: number,
  impl: ([n]) => num(n!.asNumber().floor()),
});

export const log = define({
  params: [param('num', number), param('base', number)],
  returnType: number,
  impl: ([n, base]) => floatNum(Math.log(n!.asNumber().toNumber()) / Math.log(base!.asNumber().toNumber())),
});

export const pow = define({
  params: [param('num', number), param('power', number)],
  returnType: number,
  impl: ([n, p]) => floatNum(Math.pow(n!.asNumber().toNumber(), p!.asNumber().toNumber())),
});

export const signum = define({
  params: [param('num', number)],
  returnType: number,
  impl: ([n]) => num(n!.asNumber().isZero() ? 0 : n!.asNumber().isNegative() ? -1 : 1),
});

function extreme(pick: (a: Num, b: Num) => boolean): FunctionDef {
  return define({
    params: [],
    varParam: param('numbers', number),
    returnType: number,
    impl: (args) => {
      if (args.length === 0) throw new FunctionError('must pass at least one number');
      let best = args[0]!.asNumber();
      for (const a of args.slice(1)) if (pick(a.asNumber(), best)) best = a.asNumber();
      return num(best);
    },
  });
}

export const max = extreme((a, b) => a.gt(b));
export const min = extreme((a, b) => a.lt(b));

/** Digit values of big.Int's SetString: 0-9, then a-z, then (bases above 36) A-Z. */
function digitValue(c: string, base: number): number {
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 122) return code - 97 + 10;
  if (code >= 65 && code <= 90) return base <= 36 ? code - 65 + 10 : code - 65 + 36;
  return Infinity;
}

export const parseint = define({
  params: [param('number', T.dynamic), param('base', number)],
  returnType: number,
  impl: (args) => {
    const [n, b] = args;
    if (n!.type.kind !== 'string') throw new FunctionArgError(0, `first argument must be a string, not ${friendlyTypeName(n!.type)}`);
    const s = n!.asString();
    const base = b!.asNumber();
    if (!base.isInteger() || base.lt(2) || base.gt(62)) throw new FunctionArgError(1, 'base must be a whole number between 2 and 62 inclusive');
    const radix = base.toNumber();
    let body = s;
    let negative = false;
    if (body.startsWith('-') || body.startsWith('+')) {
      negative = body.startsWith('-');
      body = body.slice(1);
    }
    if (body === '' || [...body].some((c) => digitValue(c, radix) >= radix)) {
      throw new FunctionArgError(0, `cannot parse ${JSON.stringify(s)} as a base ${radix} integer`);
    }
    let acc = 0n;
    for (const c of body) acc = acc * BigInt(radix) + BigInt(digitValue(c, radix));
    return num(new NumberContext((negative ? -acc : acc).toString()));
  },
});

export const sum = define({
  params: [param('list', T.dynamic)],
  returnType: number,
  impl: ([list]) => {
    const t = list!.type;
    if (t.kind !== 'list' && t.kind !== 'set' && t.kind !== 'tuple') {
      if (t.kind === 'map' || t.kind === 'object') {
        if (list!.entries().size === 0) throw new FunctionArgError(0, 'cannot sum an empty list');
        throw new FunctionArgError(0, `argument must be list, set, or tuple. Received ${friendlyTypeName(list!.type)}`);
      }
      throw new FunctionArgError(0, 'cannot sum noniterable');
    }
    const elems = list!.elements();
    if (elems.length === 0) throw new FunctionArgError(0, 'cannot sum an empty list');
    if (!list!.isWhollyKnown) return Value.unknown(number);
    let total: Num | undefined;
    for (const e of elems) {
      const c = e.isNull ? undefined : tryConvert(e, number);
      if (!(c instanceof Value)) throw new FunctionArgError(0, 'argument must be list, set, or tuple of number values');
      total = total ? total.plus(c.asNumber()) : c.asNumber();
    }
    return num(total!);
  },
});

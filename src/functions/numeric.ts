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

/** Splits a finite non-zero double into a fraction in [0.5, 1) and a power of two (Go's Frexp). */
function frexp(x: number): [number, number] {
  if (x === 0 || !Number.isFinite(x)) return [x, 0];
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  let exp = (view.getUint16(0) >> 4) & 0x7ff;
  let scale = 0;
  if (exp === 0) {
    view.setFloat64(0, x * 2 ** 64);
    exp = (view.getUint16(0) >> 4) & 0x7ff;
    scale = -64;
  }
  const e = exp - 1022 + scale;
  view.setUint16(0, (view.getUint16(0) & 0x800f) | (1022 << 4));
  return [view.getFloat64(0), e];
}

/** Go's math.Pow, step for step, so results match Packer's to the last bit. */
function goPow(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if (y === 1) return x;
  if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
  if (x === 0 || !Number.isFinite(x) || !Number.isFinite(y)) return Math.pow(x, y);
  if (y === 0.5) return Math.sqrt(x);
  if (y === -0.5) return 1 / Math.sqrt(x);
  let yi = Math.trunc(Math.abs(y));
  let yf = Math.abs(y) - yi;
  if (yf !== 0 && x < 0) return NaN;
  if (yi >= 2 ** 63) {
    if (x === -1) return 1;
    return (Math.abs(x) < 1) === y > 0 ? 0 : Infinity;
  }
  let a1 = 1.0;
  let ae = 0;
  if (yf !== 0) {
    if (yf > 0.5) {
      yf--;
      yi++;
    }
    a1 = Math.exp(yf * Math.log(x));
  }
  let [x1, xe] = frexp(x);
  for (let i = BigInt(yi); i !== 0n; i >>= 1n) {
    if (xe < -(1 << 12) || 1 << 12 < xe) {
      ae += xe;
      break;
    }
    if ((i & 1n) === 1n) {
      a1 *= x1;
      ae += xe;
    }
    x1 *= x1;
    xe <<= 1;
    if (x1 < 0.5) {
      x1 += x1;
      xe--;
    }
  }
  if (y < 0) {
    a1 = 1 / a1;
    ae = -ae;
  }
  return a1 * 2 ** ae;
}

export const pow = define({
  params: [param('num', number), param('power', number)],
  returnType: number,
  impl: ([n, p]) => floatNum(goPow(n!.asNumber().toNumber(), p!.asNumber().toNumber())),
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

/**
 * The result of a plugin data source's `Execute` in its gob form (the SDK's default, without
 * `--protobuf`): `ExecuteResponse.Value` is a gob stream holding one `cty.Value`, which (with the
 * go-cty that Packer plugins build with, the gob-keeping fork `packer-sdc fix` selects) encodes
 * itself as a nested gob stream of `gobValue{Version int, Ty cty.Type, V interface{}}`.
 *
 * `V` is cty's internal representation, as registered interface values: `string`, `bool`,
 * `math/big.Float` (big.Float's own GobEncode bytes), `[]interface {}` (list and tuple),
 * `map[string]interface {}` (map and object), `…/cty/set.Set` (a nested `gobSet{Version, Rules,
 * Values []interface{}}`); an absent `V` is null. Type names are matched by suffix, as vendored
 * builds prefix them. The msgpack form (`--protobuf` plugins) is decoded elsewhere.
 *
 * Contract: `decodeGobCtyValue(bytes)` returns a `Value` of the type the plugin declared, or throws
 * a GobError / Error saying what was malformed.
 */
import { T, Value, type Type } from '../values/value.js';
import { decodeCtyType, valueType } from './cty.js';
import { GobEncoded, GobError, GobInterface, decodeGob } from './gob.js';

function named(v: unknown, suffix: string): boolean {
  return (v instanceof GobInterface || v instanceof GobEncoded) && v.typeName.replace(/^\*/, '').endsWith(suffix);
}

function record(v: unknown): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || v instanceof Map || Array.isArray(v)) throw new GobError('gob: a cty value is not a struct');
  return v as Record<string, unknown>;
}

/**
 * A `math/big.Float` from its GobEncode bytes: version 1; a byte of mode, accuracy, form
 * (0 zero, 1 finite, 2 infinite) and sign; the precision (uint32); for finite numbers the binary
 * exponent (int32) and the mantissa's bytes, big-endian, as the fraction 0.mantissa.
 */
export function decodeBigFloat(b: Buffer): string {
  if (b.length < 6 || b[0] !== 1) throw new GobError('gob: unsupported big.Float encoding');
  const form = (b[1]! >> 1) & 3;
  const neg = (b[1]! & 1) === 1;
  if (form === 0) return '0';
  if (form === 2) throw new GobError('gob: an infinite number is not a cty value');
  if (b.length < 10) throw new GobError('gob: truncated big.Float');
  const exp = b.readInt32BE(6);
  const mant = b.subarray(10);
  let m = mant.length > 0 ? BigInt(`0x${mant.toString('hex')}`) : 0n;
  let shift = exp - 8 * mant.length;
  while (m !== 0n && shift < 0 && (m & 1n) === 0n) {
    m >>= 1n;
    shift++;
  }
  let digits: string;
  if (shift >= 0) digits = (m << BigInt(shift)).toString();
  else {
    // m / 2^k = m·5^k / 10^k: exact in decimal.
    const k = -shift;
    const s = (m * 5n ** BigInt(k)).toString().padStart(k + 1, '0');
    digits = `${s.slice(0, s.length - k)}.${s.slice(s.length - k)}`;
  }
  return neg ? `-${digits}` : digits;
}

function decodeRaw(v: unknown, t: Type, where: string): Value {
  if (v === undefined || v === null) return Value.null(t);
  const inner = v instanceof GobInterface ? v.value : v;
  switch (t.kind) {
    case 'string':
      if (typeof inner !== 'string') throw new GobError(`gob: ${where}: a string was expected`);
      return Value.string(inner);
    case 'bool':
      if (typeof inner !== 'boolean') throw new GobError(`gob: ${where}: a bool was expected`);
      return Value.bool(inner);
    case 'number':
      if (!(inner instanceof GobEncoded) || !named(v, 'big.Float')) throw new GobError(`gob: ${where}: a number was expected`);
      return Value.number(decodeBigFloat(inner.bytes));
    case 'list': case 'tuple': {
      if (!Array.isArray(inner)) throw new GobError(`gob: ${where}: a sequence was expected`);
      const elems = inner.map((e, i) => decodeRaw(e, t.kind === 'list' ? t.elem : (t.elems[i] ?? T.dynamic), `${where}[${i}]`));
      return t.kind === 'list' ? Value.list(elems, t.elem) : Value.tuple(elems);
    }
    case 'set': {
      if (!(inner instanceof GobEncoded)) throw new GobError(`gob: ${where}: a set was expected`);
      const values = record(decodeGob(inner.bytes)).Values;
      const list = Array.isArray(values) ? values : [];
      return Value.set(list.map((e, i) => decodeRaw(e, t.elem, `${where}[${i}]`)), t.elem);
    }
    case 'map': case 'object': {
      if (!(inner instanceof Map)) throw new GobError(`gob: ${where}: a map was expected`);
      const m = new Map<string, Value>();
      if (t.kind === 'map') {
        for (const [k, e] of inner) m.set(String(k), decodeRaw(e, t.elem, `${where}["${String(k)}"]`));
        return Value.map(m, t.elem);
      }
      for (const [k, at] of t.attrs) m.set(k, decodeRaw(inner.get(k), at, `${where}.${k}`));
      return Value.object(m);
    }
    case 'dynamic':
      throw new GobError(`gob: ${where}: a value of no type`);
  }
}

/** Decodes a gob-encoded `cty.Value` (a Datasource `Execute` reply's `Value`). */
export function decodeGobCtyValue(bytes: Buffer): Value {
  const top = decodeGob(bytes);
  if (!(top instanceof GobEncoded) || !top.typeName.endsWith('cty.Value')) throw new GobError('gob: the reply does not hold a cty.Value');
  const gv = record(decodeGob(top.bytes));
  if (gv.Version !== undefined && gv.Version !== 0) throw new GobError(`gob: cty.Value encoding version ${String(gv.Version)} is not supported`);
  if (!(gv.Ty instanceof GobEncoded)) throw new GobError('gob: a cty.Value without a type');
  const type = valueType(decodeCtyType(gv.Ty.bytes));
  return decodeRaw(gv.V, type, 'value');
}

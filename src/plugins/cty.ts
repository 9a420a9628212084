/**
 * go-cty types as plugins send them (inside ConfigSpec, as nested gob streams) and the cty JSON
 * form in which a configuration is sent back (`{"value": …, "type": …}`).
 *
 * Contracts: `decodeCtyType` accepts the bytes of a gob-encoded `cty.Type` (a `gobType{Version,
 * Impl}` whose Impl names `…/cty.primitiveType`, `typeList`, `typeMap`, `typeSet`, `typeObject`,
 * `typeTuple` or `pseudoTypeDynamic`; names are matched by suffix since vendored builds prefix
 * them). `conformValue` converts plain data to a type as cty's conversion does for the simple
 * cases (number ↔ string, bool ↔ string) and throws a message naming the attribute otherwise.
 */
import { GobEncoded, GobInterface, decodeGob } from './gob.js';
import { T, type Type } from '../values/value.js';

export type CtyType =
  | { kind: 'string' | 'number' | 'bool' | 'dynamic' }
  | { kind: 'list' | 'set' | 'map'; elem: CtyType }
  | { kind: 'object'; attrs: Record<string, CtyType> }
  | { kind: 'tuple'; elems: CtyType[] };

function fieldOf(v: unknown, name: string): unknown {
  return v !== null && typeof v === 'object' && !(v instanceof Map) ? (v as Record<string, unknown>)[name] : undefined;
}

function typeFrom(v: unknown): CtyType {
  if (v instanceof GobEncoded) return decodeCtyType(v.bytes);
  return { kind: 'dynamic' };
}

export function decodeCtyType(bytes: Buffer): CtyType {
  const top = decodeGob(bytes);
  const impl = fieldOf(top, 'Impl');
  if (!(impl instanceof GobInterface)) return { kind: 'dynamic' };
  const name = impl.typeName.replace(/^\*/, '');
  const v = impl.value;
  if (name.endsWith('cty.primitiveType')) {
    const k = Number(fieldOf(v, 'Kind') ?? 0);
    if (k === 0x53) return { kind: 'string' };
    if (k === 0x4e) return { kind: 'number' };
    if (k === 0x42) return { kind: 'bool' };
    throw new Error(`unknown cty primitive kind ${k}`);
  }
  if (name.endsWith('cty.typeList')) return { kind: 'list', elem: typeFrom(fieldOf(v, 'ElementTypeT')) };
  if (name.endsWith('cty.typeSet')) return { kind: 'set', elem: typeFrom(fieldOf(v, 'ElementTypeT')) };
  if (name.endsWith('cty.typeMap')) return { kind: 'map', elem: typeFrom(fieldOf(v, 'ElementTypeT')) };
  if (name.endsWith('cty.typeObject')) {
    const attrs: Record<string, CtyType> = {};
    const m = fieldOf(v, 'AttrTypes');
    if (m instanceof Map) for (const [k, t] of m) attrs[String(k)] = typeFrom(t);
    return { kind: 'object', attrs };
  }
  if (name.endsWith('cty.typeTuple')) {
    const e = fieldOf(v, 'ElemTypes');
    return { kind: 'tuple', elems: Array.isArray(e) ? e.map(typeFrom) : [] };
  }
  return { kind: 'dynamic' };
}

/** `list(string)`, `map(number)`… as HCL prints type constraints. */
export function typeString(t: CtyType): string {
  switch (t.kind) {
    case 'string': case 'number': case 'bool': return t.kind;
    case 'dynamic': return 'any';
    case 'list': case 'set': case 'map': return `${t.kind}(${typeString(t.elem)})`;
    case 'object': return `object({${Object.entries(t.attrs).map(([k, v]) => `${k}=${typeString(v)}`).join(',')}})`;
    case 'tuple': return `tuple([${t.elems.map(typeString).join(',')}])`;
  }
}

/** The cty JSON type form: "string", ["list","string"], ["object",{…}]… */
export function typeJson(t: CtyType): unknown {
  switch (t.kind) {
    case 'string': case 'number': case 'bool': case 'dynamic': return t.kind;
    case 'list': case 'set': case 'map': return [t.kind, typeJson(t.elem)];
    case 'object': return ['object', Object.fromEntries(Object.entries(t.attrs).map(([k, v]) => [k, typeJson(v)]))];
    case 'tuple': return ['tuple', t.elems.map(typeJson)];
  }
}

/** The type of cty's JSON type form, the inverse of `typeJson` (`"string"`, `["list", T]`,
 * `["object", {…}, [optional…]]`, `["tuple", […]]`). */
export function ctyTypeFromJson(j: unknown): CtyType {
  if (j === 'string' || j === 'number' || j === 'bool' || j === 'dynamic') return { kind: j };
  if (Array.isArray(j) && j.length >= 2) {
    const [k, arg] = j as [unknown, unknown];
    if (k === 'list' || k === 'set' || k === 'map') return { kind: k, elem: ctyTypeFromJson(arg) };
    if (k === 'tuple' && Array.isArray(arg)) return { kind: 'tuple', elems: arg.map(ctyTypeFromJson) };
    if (k === 'object' && arg !== null && typeof arg === 'object' && !Array.isArray(arg)) {
      return { kind: 'object', attrs: Object.fromEntries(Object.entries(arg).map(([a, t]) => [a, ctyTypeFromJson(t)])) };
    }
  }
  throw new Error(`not a cty type: ${JSON.stringify(j)}`);
}

/** Converts plain data to `t` (null stays null); throws "<where>: <what is wrong>". */
export function conformValue(v: unknown, t: CtyType, where: string): unknown {
  if (v === null || v === undefined) return null;
  switch (t.kind) {
    case 'dynamic':
      return v;
    case 'string':
      if (typeof v === 'string') return v;
      if (typeof v === 'number' || typeof v === 'boolean') return String(v);
      throw new Error(`${where}: string required`);
    case 'number':
      if (typeof v === 'number') return v;
      if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
      throw new Error(`${where}: number required`);
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === 'false') return v === 'true';
      throw new Error(`${where}: bool required`);
    case 'list': case 'set': case 'tuple': {
      if (!Array.isArray(v)) throw new Error(`${where}: ${typeString(t)} required`);
      return v.map((e, i) => conformValue(e, t.kind === 'tuple' ? (t.elems[i] ?? { kind: 'dynamic' }) : t.elem, `${where}[${i}]`));
    }
    case 'map': {
      if (typeof v !== 'object' || Array.isArray(v)) throw new Error(`${where}: ${typeString(t)} required`);
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, e]) => [k, conformValue(e, t.elem, `${where}["${k}"]`)]));
    }
    case 'object': {
      if (typeof v !== 'object' || Array.isArray(v)) throw new Error(`${where}: ${typeString(t)} required`);
      const o = v as Record<string, unknown>;
      return Object.fromEntries(Object.entries(t.attrs).map(([k, at]) => [k, conformValue(o[k], at, `${where}.${k}`)]));
    }
  }
}

/** builder's value `Type` for a cty type (of a data source's output, or a decoded value). */
export function valueType(t: CtyType): Type {
  switch (t.kind) {
    case 'string': return T.string;
    case 'number': return T.number;
    case 'bool': return T.bool;
    case 'dynamic': return T.dynamic;
    case 'list': return T.list(valueType(t.elem));
    case 'set': return T.set(valueType(t.elem));
    case 'map': return T.map(valueType(t.elem));
    case 'tuple': return T.tuple(t.elems.map(valueType));
    case 'object': return T.object(Object.fromEntries(Object.entries(t.attrs).map(([k, v]) => [k, valueType(v)])));
  }
}

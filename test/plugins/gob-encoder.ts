/**
 * A gob encoder for tests: what a current-SDK plugin written in Go sends where builder only
 * decodes (a data source's OutputSpec/ConfigSpec and its `cty.Value` result). It follows Go's
 * encoder's procedure, so that the byte layout is the one builder meets from real plugins: type
 * definitions are sent before first use, the ones a value's interfaces need are written in the
 * middle of the value (flushing the message built so far to the writer of the moment), zero
 * struct fields are left out, non-struct values at top level or inside an interface carry a zero
 * field delta, and GobEncoder types travel as byte strings.
 */

export type GoType =
  | { kind: 'bool' | 'int' | 'uint' | 'float' | 'bytes' | 'string' | 'interface' }
  | { kind: 'struct'; name: string; fields: Array<[string, GoType]> }
  | { kind: 'slice'; name: string; elem: GoType }
  | { kind: 'map'; name: string; key: GoType; elem: GoType }
  /** A type with its own GobEncode: the value is a Buffer. */
  | { kind: 'encoder'; name: string };

/** An interface value: the name its concrete type is registered under, the type and the value. */
export class Iface {
  constructor(readonly name: string, readonly type: GoType, readonly value: unknown) {}
}

const BUILTIN: Record<string, number> = { bool: 1, int: 2, uint: 3, float: 4, bytes: 5, string: 6, interface: 8 };

function uint(v: number | bigint): Buffer {
  let x = BigInt(v);
  if (x < 0x80n) return Buffer.from([Number(x)]);
  const bytes: number[] = [];
  while (x > 0n) { bytes.unshift(Number(x & 0xffn)); x >>= 8n; }
  return Buffer.from([256 - bytes.length, ...bytes]);
}

function int(v: number): Buffer {
  return uint(v < 0 ? (BigInt(-v - 1) << 1n) | 1n : BigInt(v) << 1n);
}

class Buf {
  parts: Buffer[] = [];
  push(...b: Buffer[]): void { this.parts.push(...b); }
  take(): Buffer { const b = Buffer.concat(this.parts); this.parts = []; return b; }
}

function isZero(t: GoType, v: unknown): boolean {
  if (v === undefined || v === null) return true;
  switch (t.kind) {
    case 'bool': return v === false;
    case 'int': case 'uint': case 'float': return v === 0;
    case 'string': return v === '';
    case 'bytes': return (v as Buffer).length === 0;
    case 'slice': return (v as unknown[]).length === 0;
    case 'map': return (v as Map<unknown, unknown>).size === 0;
    default: return false;
  }
}

export class GobEncoder {
  private readonly out: Buffer[] = [];
  private readonly writers: Buf[] = [];
  private readonly ids = new Map<GoType, number>();
  private nextId = 65;
  private readonly sent = new Set<GoType>();

  /** Encodes one top-level value of type `t`; returns the stream so far. */
  encode(t: GoType, v: unknown): Buffer {
    const b = new Buf();
    this.sendType(b, t);
    b.push(int(this.idOf(t)));
    this.value(b, t, v, true);
    this.writeMessage(undefined, b);
    return Buffer.concat(this.out);
  }

  private writer(): Buf | undefined { return this.writers.at(-1); }

  private writeMessage(w: Buf | undefined, b: Buf): void {
    const msg = b.take();
    const framed = [uint(msg.length), msg];
    if (w) w.push(...framed);
    else this.out.push(...framed);
  }

  /** The id of `t`: built-in, or given when the type is first met. */
  private idOf(t: GoType): number {
    if (t.kind in BUILTIN) return BUILTIN[t.kind]!;
    let id = this.ids.get(t);
    if (id === undefined) { id = this.nextId++; this.ids.set(t, id); }
    return id;
  }

  /** Sends the definition of `t` (then of the types it uses) unless sent or built in: written
   * into `state` and flushed, with what `state` holds, as a message to the current writer. */
  private sendType(state: Buf, t: GoType): void {
    if (t.kind in BUILTIN || this.sent.has(t)) return;
    this.sent.add(t);
    const id = this.idOf(t);
    const common = (name: string): Buffer => Buffer.concat([uint(1), str(name), uint(1), int(id), uint(0)]);
    state.push(int(-id));
    switch (t.kind) {
      case 'slice':
        state.push(uint(2), uint(1), common(t.name), uint(1), int(this.idOf(t.elem)), uint(0), uint(0));
        break;
      case 'map':
        state.push(uint(4), uint(1), common(t.name), uint(1), int(this.idOf(t.key)), uint(1), int(this.idOf(t.elem)), uint(0), uint(0));
        break;
      case 'struct': {
        const fields = t.fields.map(([name, ft]) => Buffer.concat([uint(1), str(name), uint(1), int(this.idOf(ft)), uint(0)]));
        state.push(uint(3), uint(1), common(t.name), uint(1), uint(fields.length), ...fields, uint(0), uint(0));
        break;
      }
      case 'encoder':
        state.push(uint(5), uint(1), common(t.name), uint(0), uint(0));
        break;
      default:
        break;
    }
    this.writeMessage(this.writer(), state);
    // Then the types it refers to, as Go's sendActualType does.
    if (t.kind === 'slice') this.sendType(state, t.elem);
    if (t.kind === 'map') { this.sendType(state, t.key); this.sendType(state, t.elem); }
    if (t.kind === 'struct') for (const [, ft] of t.fields) this.sendType(state, ft);
  }

  private value(b: Buf, t: GoType, v: unknown, singleton: boolean): void {
    if (t.kind === 'struct') { this.struct(b, t, v as Record<string, unknown>); return; }
    if (singleton) b.push(uint(0));
    this.plain(b, t, v);
  }

  private plain(b: Buf, t: GoType, v: unknown): void {
    switch (t.kind) {
      case 'bool': b.push(uint(v ? 1 : 0)); return;
      case 'int': b.push(int(v as number)); return;
      case 'uint': b.push(uint(v as number)); return;
      case 'string': b.push(str(v as string)); return;
      case 'bytes': case 'encoder': b.push(uint((v as Buffer).length), v as Buffer); return;
      case 'interface': this.iface(b, v as Iface | null); return;
      case 'slice': {
        const a = v as unknown[];
        b.push(uint(a.length));
        for (const e of a) this.plain(b, t.elem, e);
        return;
      }
      case 'map': {
        const m = v as Map<unknown, unknown>;
        b.push(uint(m.size));
        for (const [k, e] of m) { this.plain(b, t.key, k); this.plain(b, t.elem, e); }
        return;
      }
      case 'struct': this.struct(b, t, v as Record<string, unknown>); return;
      case 'float': throw new Error('floats are not needed here');
    }
  }

  private struct(b: Buf, t: Extract<GoType, { kind: 'struct' }>, v: Record<string, unknown>): void {
    let last = -1;
    t.fields.forEach(([name, ft], i) => {
      const fv = v[name];
      if (isZero(ft, fv)) return;
      b.push(uint(i - last));
      last = i;
      this.plain(b, ft, fv);
    });
    b.push(uint(0));
  }

  private iface(b: Buf, v: Iface | null): void {
    if (v === null) { b.push(uint(0)); return; }
    b.push(str(v.name));
    this.sendType(b, v.type);
    b.push(int(this.idOf(v.type)));
    this.writers.push(b);
    const data = new Buf();
    this.value(data, v.type, v.value, true);
    this.writers.pop();
    this.writeMessage(b, data);
  }
}

function str(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([uint(b.length), b]);
}

// ---- go-cty and hcldec values, as the SDK's gob-keeping go-cty encodes them ----------------------

const CTY = 'github.com/zclconf/go-cty/cty';
const TYPE_ENC: GoType = { kind: 'encoder', name: 'cty.Type' };
const GOB_TYPE: GoType = { kind: 'struct', name: 'gobType', fields: [['Version', { kind: 'int' }], ['Impl', { kind: 'interface' }]] };
const PRIMITIVE: GoType = { kind: 'struct', name: 'primitiveType', fields: [['Kind', { kind: 'uint' }]] };
const ELEM_TYPE = (name: string): GoType => ({ kind: 'struct', name, fields: [['ElementTypeT', TYPE_ENC]] });
const LIST = ELEM_TYPE('typeList');
const MAP = ELEM_TYPE('typeMap');
const ATTR_TYPES: GoType = { kind: 'map', name: 'map[string]cty.Type', key: { kind: 'string' }, elem: TYPE_ENC };
const OBJECT: GoType = { kind: 'struct', name: 'typeObject', fields: [['AttrTypes', ATTR_TYPES]] };

/** A cty type as tests write it. */
export type TestCtyType = 'string' | 'number' | 'bool' | { list: TestCtyType } | { map: TestCtyType } | { object: Record<string, TestCtyType> };

/** The GobEncode bytes of a cty.Type. */
export function ctyTypeBytes(t: TestCtyType): Buffer {
  let impl: Iface;
  if (t === 'string' || t === 'number' || t === 'bool') impl = new Iface(`${CTY}.primitiveType`, PRIMITIVE, { Kind: { string: 0x53, number: 0x4e, bool: 0x42 }[t] });
  else if ('list' in t) impl = new Iface(`${CTY}.typeList`, LIST, { ElementTypeT: ctyTypeBytes(t.list) });
  else if ('map' in t) impl = new Iface(`${CTY}.typeMap`, MAP, { ElementTypeT: ctyTypeBytes(t.map) });
  else impl = new Iface(`${CTY}.typeObject`, OBJECT, { AttrTypes: new Map(Object.entries(t.object).map(([k, v]) => [k, ctyTypeBytes(v)])) });
  return new GobEncoder().encode(GOB_TYPE, { Impl: impl });
}

/** big.Float's GobEncode bytes for a float64 (precision 53, rounding mode ToNearestEven, exact). */
export function bigFloatBytes(x: number): Buffer {
  const head = Buffer.alloc(6);
  head[0] = 1;
  if (x === 0) { head[1] = (0 << 5) | (1 << 3); head.writeUInt32BE(53, 2); return head; }
  const neg = x < 0;
  let m = Math.abs(x);
  let exp = 0;
  while (m >= 1) { m /= 2; exp++; }
  while (m < 0.5) { m *= 2; exp--; }
  // m in [0.5, 1): its 53 bits, left-aligned in a 64-bit word.
  const word = BigInt(m * 2 ** 53) << 11n;
  head[1] = (0 << 5) | (1 << 3) | (1 << 1) | (neg ? 1 : 0);
  head.writeUInt32BE(53, 2);
  const tail = Buffer.alloc(12);
  tail.writeInt32BE(exp, 0);
  tail.writeBigUInt64BE(word, 4);
  return Buffer.concat([head, tail]);
}

const IFACE_LIST: GoType = { kind: 'slice', name: '[]interface {}', elem: { kind: 'interface' } };
const IFACE_MAP: GoType = { kind: 'map', name: 'map[string]interface {}', key: { kind: 'string' }, elem: { kind: 'interface' } };
const BIG_FLOAT: GoType = { kind: 'encoder', name: 'big.Float' };

/** cty's internal representation of `v` (plain data of type `t`) as an interface value. */
function ctyRaw(t: TestCtyType, v: unknown): Iface | null {
  if (v === null || v === undefined) return null;
  if (t === 'string') return new Iface('string', { kind: 'string' }, v);
  if (t === 'bool') return new Iface('bool', { kind: 'bool' }, v);
  if (t === 'number') return new Iface('math/big.Float', BIG_FLOAT, bigFloatBytes(v as number));
  if ('list' in t) return new Iface('[]interface {}', IFACE_LIST, (v as unknown[]).map((e) => ctyRaw(t.list, e)));
  if ('map' in t) return new Iface('map[string]interface {}', IFACE_MAP, new Map(Object.entries(v as Record<string, unknown>).map(([k, e]) => [k, ctyRaw(t.map, e)])));
  const o = v as Record<string, unknown>;
  return new Iface('map[string]interface {}', IFACE_MAP, new Map(Object.entries(t.object).map(([k, at]) => [k, ctyRaw(at, o[k])])));
}

const GOB_VALUE: GoType = { kind: 'struct', name: 'gobValue', fields: [['Version', { kind: 'int' }], ['Ty', TYPE_ENC], ['V', { kind: 'interface' }]] };
const CTY_VALUE: GoType = { kind: 'encoder', name: 'cty.Value' };

/** A Datasource Execute reply's `Value`: a gob stream of one cty.Value of type `t`. */
export function ctyValueGob(t: TestCtyType, v: unknown): Buffer {
  const inner = new GobEncoder().encode(GOB_VALUE, { Ty: ctyTypeBytes(t), V: ctyRaw(t, v) });
  return new GobEncoder().encode(CTY_VALUE, inner);
}

const HCLDEC = '*github.com/hashicorp/hcl/v2/hcldec';
const ATTR_SPEC: GoType = { kind: 'struct', name: 'AttrSpec', fields: [['Name', { kind: 'string' }], ['Type', TYPE_ENC], ['Required', { kind: 'bool' }]] };
const OBJECT_SPEC: GoType = { kind: 'map', name: 'ObjectSpec', key: { kind: 'string' }, elem: { kind: 'interface' } };

/** A gob `hcldec.ObjectSpec` of attributes (a ConfigSpec or OutputSpec reply). */
export function objectSpecGob(attrs: Record<string, { type: TestCtyType; required?: boolean }>): Buffer {
  const m = new Map(Object.entries(attrs).map(([name, a]) => [name, new Iface(`${HCLDEC}.AttrSpec`, ATTR_SPEC, { Name: name, Type: ctyTypeBytes(a.type), Required: a.required === true })]));
  return new GobEncoder().encode(OBJECT_SPEC, m);
}

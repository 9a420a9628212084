/**
 * A decoder for Go's `encoding/gob`, enough for what plugins send: ConfigSpec (an hcldec spec tree
 * with cty types inside), a remote command's exit status and datasource results.
 *
 * The stream is a sequence of messages, each an unsigned length then content. A message holds
 * either a type definition (a negative type id, then a `wireType`) or a value (a positive type id,
 * then the value). Type definitions may also appear in the middle of a value, before an interface
 * value's concrete type id — so, as Go's decoder does, values are read from the current message and
 * the next message is read whenever the current one runs out there.
 *
 * Encodings: unsigned integers are one byte below 128, else a negated byte count and big-endian
 * bytes; signed integers are zigzag-shifted into unsigned; floats are byte-reversed IEEE 754 bits;
 * strings and byte slices are a length and bytes; structs are (field-number delta, value) pairs
 * ending with delta 0; a non-struct value at top level or inside an interface is preceded by a 0
 * delta; an interface is the registered name of its concrete type (empty for nil), then its type id,
 * a byte count and the value. Types implementing GobEncoder travel as byte slices.
 *
 * Decoded values: structs become plain objects keyed by Go field names (fields holding their zero
 * value are absent, as gob omits them); maps become `Map`; slices and arrays arrays; byte slices
 * `Buffer`; integers numbers (bigint beyond 2^53); interfaces `GobInterface`; GobEncoder values
 * `GobEncoded`.
 */

export class GobError extends Error {}

export class GobInterface {
  constructor(readonly typeName: string, readonly value: unknown) {}
}

export class GobEncoded {
  constructor(readonly typeName: string, readonly bytes: Buffer) {}
}

type WireType =
  | { kind: 'struct'; name: string; fields: Array<{ name: string; id: number }> }
  | { kind: 'slice'; name: string; elem: number }
  | { kind: 'array'; name: string; elem: number; len: number }
  | { kind: 'map'; name: string; key: number; elem: number }
  | { kind: 'encoder'; name: string };

const T = { bool: 1, int: 2, uint: 3, float: 4, bytes: 5, string: 6, complex: 7, interface: 8 } as const;
const FIRST_USER_ID = 65;

/** Reads unsigned/signed gob integers from a buffer. */
class Cursor {
  constructor(public buf: Buffer, public pos = 0) {}
  get remaining(): number { return this.buf.length - this.pos; }

  uint(): bigint {
    if (this.remaining < 1) throw new GobError('gob: unexpected end of data');
    const b = this.buf[this.pos++]!;
    if (b < 0x80) return BigInt(b);
    const n = 256 - b;
    if (n > 8 || this.remaining < n) throw new GobError('gob: bad unsigned integer');
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(this.buf[this.pos++]!);
    return v;
  }

  int(): bigint {
    const u = this.uint();
    return u & 1n ? ~(u >> 1n) : u >> 1n;
  }

  bytes(n: number): Buffer {
    if (n < 0 || this.remaining < n) throw new GobError('gob: unexpected end of data');
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
}

function num(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function small(v: bigint, what: string): number {
  if (v < 0n || v > 0x7fffffffn) throw new GobError(`gob: bad ${what}`);
  return Number(v);
}

/** Decodes every value of a gob stream held in `data`. */
export class GobDecoder {
  private readonly input: Cursor;
  private msg = new Cursor(Buffer.alloc(0));
  private readonly types = new Map<number, WireType>();

  constructor(data: Buffer) {
    this.input = new Cursor(data);
  }

  /** The next top-level value, or undefined at the end of the stream. */
  next(): unknown {
    const id = this.typeSequence(false);
    if (id === undefined) return undefined;
    const v = this.value(id);
    if (this.msg.remaining > 0) throw new GobError('gob: extra data after a value');
    return v;
  }

  /** All values of the stream. */
  all(): unknown[] {
    const out: unknown[] = [];
    for (;;) {
      if (this.input.remaining === 0 && this.msg.remaining === 0) return out;
      const v = this.next();
      if (v === undefined && this.input.remaining === 0) return out;
      out.push(v);
    }
  }

  private recvMessage(): boolean {
    if (this.input.remaining === 0) return false;
    const n = small(this.input.uint(), 'message length');
    this.msg = new Cursor(this.input.bytes(n));
    return true;
  }

  /** Reads type definitions until a value's type id; undefined at the end of the stream. */
  private typeSequence(inInterface: boolean): number | undefined {
    for (;;) {
      if (this.msg.remaining === 0 && !this.recvMessage()) {
        if (inInterface) throw new GobError('gob: stream ended inside an interface value');
        return undefined;
      }
      const id = Number(this.msg.int());
      if (id >= 0) return id;
      this.types.set(-id, this.wireType());
      // Inside a value, the byte count of the next message follows in the same buffer.
      if (this.msg.remaining > 0) {
        if (!inInterface) throw new GobError('gob: extra data after a type definition');
        this.msg.uint();
      }
    }
  }

  /** Reads a struct as (delta, field) pairs, calling `read` with each field number. */
  private fields(read: (field: number) => void): void {
    let f = -1;
    for (;;) {
      const d = small(this.msg.uint(), 'field delta');
      if (d === 0) return;
      f += d;
      read(f);
    }
  }

  private commonType(): { name: string; id: number } {
    const c = { name: '', id: 0 };
    this.fields((f) => {
      if (f === 0) c.name = this.string();
      else if (f === 1) c.id = Number(this.msg.int());
      else throw new GobError('gob: bad CommonType');
    });
    return c;
  }

  private wireType(): WireType {
    let t: WireType | undefined;
    this.fields((f) => {
      switch (f) {
        case 0: { // ArrayT
          let name = '', elem = 0, len = 0;
          this.fields((g) => {
            if (g === 0) name = this.commonType().name;
            else if (g === 1) elem = Number(this.msg.int());
            else if (g === 2) len = Number(this.msg.int());
          });
          t = { kind: 'array', name, elem, len };
          break;
        }
        case 1: { // SliceT
          let name = '', elem = 0;
          this.fields((g) => {
            if (g === 0) name = this.commonType().name;
            else if (g === 1) elem = Number(this.msg.int());
          });
          t = { kind: 'slice', name, elem };
          break;
        }
        case 2: { // StructT
          let name = '';
          const fields: Array<{ name: string; id: number }> = [];
          this.fields((g) => {
            if (g === 0) name = this.commonType().name;
            else if (g === 1) {
              const n = small(this.msg.uint(), 'field count');
              for (let i = 0; i < n; i++) {
                const fd = { name: '', id: 0 };
                this.fields((h) => {
                  if (h === 0) fd.name = this.string();
                  else if (h === 1) fd.id = Number(this.msg.int());
                });
                fields.push(fd);
              }
            }
          });
          t = { kind: 'struct', name, fields };
          break;
        }
        case 3: { // MapT
          let name = '', key = 0, elem = 0;
          this.fields((g) => {
            if (g === 0) name = this.commonType().name;
            else if (g === 1) key = Number(this.msg.int());
            else if (g === 2) elem = Number(this.msg.int());
          });
          t = { kind: 'map', name, key, elem };
          break;
        }
        case 4: case 5: case 6: { // GobEncoderT, BinaryMarshalerT, TextMarshalerT
          let name = '';
          this.fields((g) => { if (g === 0) name = this.commonType().name; });
          t = { kind: 'encoder', name };
          break;
        }
        default:
          throw new GobError(`gob: unknown wire type field ${f}`);
      }
    });
    if (!t) throw new GobError('gob: empty type definition');
    return t;
  }

  private string(): string {
    return this.msg.bytes(small(this.msg.uint(), 'string length')).toString('utf8');
  }

  /** A value of type `id` at top level or inside an interface (non-structs carry a 0 delta). */
  private value(id: number): unknown {
    const t = this.types.get(id);
    if (t?.kind === 'struct') return this.typed(id);
    if (this.msg.uint() !== 0n) throw new GobError('gob: corrupted data: non-zero delta for a singleton');
    return this.typed(id);
  }

  private typed(id: number): unknown {
    switch (id) {
      case T.bool: return this.msg.uint() !== 0n;
      case T.int: return num(this.msg.int());
      case T.uint: return num(this.msg.uint());
      case T.float: return this.float();
      case T.bytes: return Buffer.from(this.msg.bytes(small(this.msg.uint(), 'length')));
      case T.string: return this.string();
      case T.complex: return [this.float(), this.float()];
      case T.interface: return this.iface();
      default: break;
    }
    const t = this.types.get(id);
    if (!t) throw new GobError(`gob: unknown type id ${id}${id < FIRST_USER_ID ? ' (reserved)' : ''}`);
    switch (t.kind) {
      case 'struct': {
        const o: Record<string, unknown> = {};
        this.fields((f) => {
          const fd = t.fields[f];
          if (!fd) throw new GobError(`gob: field ${f} out of range in ${t.name}`);
          o[fd.name] = this.typed(fd.id);
        });
        return o;
      }
      case 'slice': case 'array': {
        const n = small(this.msg.uint(), 'element count');
        const a: unknown[] = [];
        for (let i = 0; i < n; i++) a.push(this.typed(t.elem));
        return a;
      }
      case 'map': {
        const n = small(this.msg.uint(), 'map size');
        const m = new Map<unknown, unknown>();
        for (let i = 0; i < n; i++) {
          const k = this.typed(t.key);
          m.set(k, this.typed(t.elem));
        }
        return m;
      }
      case 'encoder':
        return new GobEncoded(t.name, Buffer.from(this.msg.bytes(small(this.msg.uint(), 'length'))));
    }
  }

  private float(): number {
    const u = this.msg.uint();
    // The float's bytes are reversed so that small integers encode compactly.
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(u);
    return b.readDoubleBE(0);
  }

  private iface(): unknown {
    const name = this.string();
    if (name === '') return null;
    const id = this.typeSequence(true);
    if (id === undefined) throw new GobError('gob: missing interface value');
    this.msg.uint(); // byte count of the value
    return new GobInterface(name, this.value(id));
  }
}

/** Decodes the first value of a gob stream. */
export function decodeGob(data: Buffer): unknown {
  return new GobDecoder(data).next();
}

// ---- encoding (the one value builder sends: a remote command's exit status) ----------------------

function encUint(v: number): Buffer {
  if (v < 0x80) return Buffer.from([v]);
  const bytes: number[] = [];
  let x = BigInt(v);
  while (x > 0n) { bytes.unshift(Number(x & 0xffn)); x >>= 8n; }
  return Buffer.from([256 - bytes.length, ...bytes]);
}

function encInt(v: number): Buffer {
  return encUint(v < 0 ? ((-v - 1) * 2) + 1 : v * 2);
}

function encString(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([encUint(b.length), b]);
}

function message(content: Buffer): Buffer {
  return Buffer.concat([encUint(content.length), content]);
}

/**
 * A complete gob stream holding one `CommandFinished{ExitStatus int}` (the struct a communicator
 * server sends on a command's response stream): the type definition, then the value.
 */
export function encodeCommandFinished(exitStatus: number): Buffer {
  const id = FIRST_USER_ID;
  const typeDef = Buffer.concat([
    encInt(-id),
    encUint(3), // wireType field 2: StructT
    encUint(1), encUint(1), encString('CommandFinished'), encUint(1), encInt(id), encUint(0), // CommonType
    encUint(1), encUint(1), // Field: one fieldType
    encUint(1), encString('ExitStatus'), encUint(1), encInt(T.int), encUint(0),
    encUint(0), // end structType
    encUint(0), // end wireType
  ]);
  const value = Buffer.concat([encInt(id), ...(exitStatus !== 0 ? [encUint(1), encInt(exitStatus)] : []), encUint(0)]);
  return Buffer.concat([message(typeDef), message(value)]);
}

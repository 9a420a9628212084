/**
 * go-cty msgpack values (a v2 data source's Execute result) decoded into builder's Value: the
 * bytes are written here by hand in go-cty's encoding (as observed: unknown = fixext1 type 0,
 * refined unknown = ext 0x0C, dynamic = [type JSON bytes, value], numbers as int, float64 or
 * decimal string); and the bytes a real go-cty writes (test/fixtures/plugins/cty-msgpack-peer.go,
 * built with Debian's golang-go and go-cty; skipped, with the reason, without them).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ExtData, encode } from '@msgpack/msgpack';
import { decodeCtyMsgpack } from '../../src/plugins/cty-msgpack.js';
import { ctyTypeFromJson } from '../../src/plugins/cty.js';
import type { CtyType } from '../../src/plugins/cty.js';
import { T, Value, typeEquals, valuesEqual, type Type } from '../../src/values/value.js';

const S: CtyType = { kind: 'string' };
const N: CtyType = { kind: 'number' };
const B: CtyType = { kind: 'bool' };
const UNKNOWN = new ExtData(0, new Uint8Array([0]));

/** A dynamic value: [type JSON as bin, value]. */
function dyn(type: unknown, value: unknown): unknown[] {
  return [Buffer.from(JSON.stringify(type)), value];
}

function bytes(v: unknown): Uint8Array {
  return encode(v, { useBigInt64: true });
}

function same(got: Value, want: Value, msg?: string): void {
  assert.ok(typeEquals(got.type, want.type), `${msg ?? ''} type ${JSON.stringify(got.type)} vs ${JSON.stringify(want.type)}`);
  assert.equal(got.unknown, want.unknown, `${msg ?? ''} unknown`);
  assert.equal(got.isNull, want.isNull, `${msg ?? ''} null`);
  if (!got.unknown && !got.isNull) assert.ok(valuesEqual(got, want), `${msg ?? ''} ${JSON.stringify(got.toJS())} vs ${JSON.stringify(want.toJS())}`);
}

describe('cty msgpack values', () => {
  it('primitives: strings, bools, numbers as int, float64, big int and decimal string', () => {
    same(decodeCtyMsgpack(bytes('héllo'), S), Value.string('héllo'));
    same(decodeCtyMsgpack(bytes(true), B), Value.bool(true));
    same(decodeCtyMsgpack(bytes(-7), N), Value.number(-7));
    same(decodeCtyMsgpack(bytes(0.5), N), Value.number('0.5'));
    same(decodeCtyMsgpack(bytes(2n ** 63n - 1n), N), Value.number('9223372036854775807'));
    same(decodeCtyMsgpack(bytes('0.1'), N), Value.number('0.1'));
    same(decodeCtyMsgpack(bytes('123456789012345678901234567890'), N), Value.number('123456789012345678901234567890'));
    assert.equal(decodeCtyMsgpack(bytes(Infinity), N).asNumber().isFinite(), false);
  });

  it('nulls of every type, and a dynamic null', () => {
    for (const t of [S, N, B, { kind: 'list', elem: S }, { kind: 'object', attrs: { a: S } }] as CtyType[]) {
      const v = decodeCtyMsgpack(bytes(null), t);
      assert.equal(v.isNull, true);
    }
    const d = decodeCtyMsgpack(bytes(null));
    assert.equal(d.isNull, true);
    assert.equal(d.type.kind, 'dynamic');
  });

  it('unknown values: plain, refined (ignored, or "is null" collapsing to null), dynamic, nested', () => {
    const u = decodeCtyMsgpack(bytes(UNKNOWN), S);
    assert.equal(u.unknown, true);
    assert.equal(u.type.kind, 'string');
    // Refinements map {1: false} (not null) and {2: "pre"} (string prefix): still unknown.
    const notNull = new ExtData(0x0c, new Uint8Array([0x82, 0x01, 0xc2, 0x02, 0xa3, 0x70, 0x72, 0x65]));
    same(decodeCtyMsgpack(bytes(notNull), S), Value.unknown(T.string));
    same(decodeCtyMsgpack(bytes(new ExtData(0x0c, new Uint8Array([0x81, 0x01, 0xc3]))), N), Value.null(T.number));
    assert.throws(() => decodeCtyMsgpack(bytes(new ExtData(5, new Uint8Array([1, 2]))), S), /unsupported extension type 5/);
    same(decodeCtyMsgpack(bytes(UNKNOWN)), Value.unknown(T.dynamic));
    const list = decodeCtyMsgpack(bytes(dyn(['list', 'string'], ['a', UNKNOWN])));
    assert.equal(list.elements()[1]!.unknown, true);
    assert.equal(list.isWhollyKnown, false);
  });

  it('lists, sets, maps, objects and tuples, empty ones included', () => {
    same(decodeCtyMsgpack(bytes(['a', 'b']), { kind: 'list', elem: S }), Value.list([Value.string('a'), Value.string('b')]));
    same(decodeCtyMsgpack(bytes([]), { kind: 'list', elem: N }), Value.list([], T.number));
    same(decodeCtyMsgpack(bytes([2, 1, 2]), { kind: 'set', elem: N }), Value.set([Value.number(1), Value.number(2)]));
    same(decodeCtyMsgpack(bytes({ b: 2, a: 1 }), { kind: 'map', elem: N }), Value.map({ a: Value.number(1), b: Value.number(2) }));
    same(decodeCtyMsgpack(bytes({}), { kind: 'map', elem: S }), Value.map({}, T.string));
    const ot: CtyType = { kind: 'object', attrs: { name: S, size: N, tags: { kind: 'list', elem: S } } };
    same(decodeCtyMsgpack(bytes({ size: 3, name: 'x', tags: null }), ot), Value.object({ name: Value.string('x'), size: Value.number(3), tags: Value.null(T.list(T.string)) }));
    same(decodeCtyMsgpack(bytes({}), ot), Value.object({}));
    assert.throws(() => decodeCtyMsgpack(bytes({ name: 'x' }), ot), /an object with 3 attributes is required \(1 given\)/);
    assert.throws(() => decodeCtyMsgpack(bytes({ name: 'x', size: 1, bogus: 2 }), ot), /at \.bogus: unsupported attribute/);
    const tt: CtyType = { kind: 'tuple', elems: [S, B] };
    same(decodeCtyMsgpack(bytes(['x', false]), tt), Value.tuple([Value.string('x'), Value.bool(false)]));
    same(decodeCtyMsgpack(bytes([]), tt), Value.tuple([]));
    assert.throws(() => decodeCtyMsgpack(bytes(['x']), tt), /a tuple of length 2 is required/);
  });

  it('dynamic values carry their type first, at any depth', () => {
    const v = decodeCtyMsgpack(bytes(dyn(['object', { id: 'string', n: 'number', l: ['list', 'dynamic'] }], { id: 'i-1', n: 5, l: [dyn('bool', true), dyn('string', 's')] })));
    assert.equal(v.type.kind, 'object');
    assert.deepEqual(v.toJS(), { id: 'i-1', n: 5, l: [true, 's'] });
    const map = decodeCtyMsgpack(bytes(dyn(['map', ['set', 'string']], { k: ['b', 'a'] })));
    assert.ok(typeEquals(map.type, T.map(T.set(T.string)) as Type));
    assert.deepEqual(map.toJS(), { k: ['a', 'b'] });
    assert.ok(typeEquals(decodeCtyMsgpack(bytes(dyn(['tuple', ['number', 'string']], [1, 'a']))).type, T.tuple([T.number, T.string])));
    assert.throws(() => decodeCtyMsgpack(bytes(['"string"'])), /exactly two elements/);
    assert.throws(() => decodeCtyMsgpack(bytes(dyn(['nope'], 1))), /bad dynamic type/);
  });

  it('names the path of a value of the wrong kind', () => {
    assert.throws(() => decodeCtyMsgpack(bytes({ a: [1, 'x'] }), { kind: 'object', attrs: { a: { kind: 'list', elem: N } } }), /at \.a\[1\]: number is required/);
    assert.throws(() => decodeCtyMsgpack(bytes({ k: 1 }), { kind: 'map', elem: S }), /at \["k"\]: string is required/);
    assert.throws(() => decodeCtyMsgpack(new Uint8Array([0xc1])), /not msgpack/);
  });

  it('reads cty JSON types, optional attributes included', () => {
    assert.deepEqual(ctyTypeFromJson(['object', { a: 'string' }, ['a']]), { kind: 'object', attrs: { a: { kind: 'string' } } });
    assert.deepEqual(ctyTypeFromJson(['list', ['map', 'dynamic']]), { kind: 'list', elem: { kind: 'map', elem: { kind: 'dynamic' } } });
  });
});

/** Why the go-cty peer cannot be built here, or undefined when it can. */
function goSkipReason(): string | undefined {
  if (spawnSync('go', ['version']).status !== 0) return 'go is not installed (Debian golang-go)';
  if (!existsSync('/usr/share/gocode/src/github.com/zclconf/go-cty/cty/msgpack')) return 'go-cty is not installed (Debian golang-github-zclconf-go-cty-dev)';
  return undefined;
}

describe('cty msgpack values from a real go-cty', () => {
  it("decodes what go-cty's msgpack.Marshal writes for the dynamic type", { skip: goSkipReason() }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'builder-cty-msgpack-'));
    try {
      copyFileSync(join(process.cwd(), 'test', 'fixtures', 'plugins', 'cty-msgpack-peer.go'), join(dir, 'main.go'));
      const env = { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: join(dir, 'cache'), GOFLAGS: '' };
      const built = spawnSync('go', ['build', '-o', join(dir, 'peer'), '.'], { cwd: dir, env, encoding: 'utf8' });
      assert.equal(built.status, 0, built.stderr);
      const out = spawnSync(join(dir, 'peer'), [], { encoding: 'utf8' });
      assert.equal(out.status, 0, out.stderr);
      const got = out.stdout.trim().split('\n').map((h) => decodeCtyMsgpack(Buffer.from(h, 'hex')));
      const want = [
        Value.string('héllo'),
        Value.number(-7),
        Value.number('0.1'),
        Value.number('0.5'),
        Value.unknown(T.string),
        Value.null(T.list(T.string)),
        undefined,
        Value.set([Value.number(1), Value.number(2)]),
        Value.tuple([Value.bool(true), Value.string('x')]),
        undefined,
      ];
      assert.equal(got.length, want.length);
      want.forEach((w, i) => { if (w) same(got[i]!, w, `value ${i}`); });
      const obj = got[6]!;
      assert.ok(typeEquals(obj.type, T.object({ id: T.string, n: T.number, tags: T.map(T.string) })));
      assert.equal(obj.entries().get('id')!.asString(), 'i-1');
      assert.equal(obj.entries().get('n')!.unknown, true);
      assert.deepEqual(obj.entries().get('tags')!.toJS(), { a: 'b' });
      const list = got[9]!;
      assert.equal(list.elements().length, 1);
      assert.equal(list.elements()[0]!.unknown, true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

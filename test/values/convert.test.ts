import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convert, unifyTypes, mismatchMessage } from '../../src/values/convert.js';
import { T, Value, typeEquals, typeExpression, valuesEqual, type Type } from '../../src/values/value.js';

const s = Value.string;
const n = Value.number;
const b = Value.bool;

function ok(v: Value, want: Type): Value {
  const r = convert(v, want);
  if ('error' in r) assert.fail(`unexpected conversion error: ${r.error}`);
  return r.value;
}
function err(v: Value, want: Type): string {
  const r = convert(v, want);
  if (!('error' in r)) assert.fail(`expected an error, got ${JSON.stringify(r.value.toJS())}`);
  return r.error;
}

test('primitive conversions follow cty', () => {
  const cases: [Value, Type, Value][] = [
    [n(42), T.string, s('42')],
    [n('0.1'), T.string, s('0.1')],
    [n('-1.5e3'), T.string, s('-1500')],
    [n('9007199254740993'), T.string, s('9007199254740993')],
    [b(true), T.string, s('true')],
    [b(false), T.string, s('false')],
    [s('12'), T.number, n(12)],
    [s('-0.5e2'), T.number, n(-50)],
    [s('true'), T.bool, b(true)],
    [s('0'), T.bool, b(false)],
    [s('1'), T.bool, b(true)],
  ];
  for (const [v, want, expected] of cases) {
    const got = ok(v, want);
    assert.ok(valuesEqual(got, expected), `${JSON.stringify(v.toJS())} -> ${typeExpression(want)} gave ${JSON.stringify(got.toJS())}`);
  }
});

test('primitive conversion failures use cty messages', () => {
  assert.equal(err(s('abc'), T.number), 'a number is required');
  assert.equal(err(s(' 1'), T.number), 'a number is required');
  assert.equal(err(s('0x10'), T.number), 'a number is required');
  assert.equal(err(s('yes'), T.bool), 'a bool is required');
  assert.equal(err(s('True'), T.bool), 'a bool is required; to convert from string, use lowercase "true"');
  assert.equal(err(n(1), T.bool), 'bool required');
  assert.equal(err(b(true), T.number), 'number required');
  assert.equal(err(Value.tuple([s('a')]), T.string), 'string required');
  assert.equal(err(s('a'), T.list(T.string)), 'list of string required');
  assert.equal(err(s('a'), T.map(T.dynamic)), 'map of any type required');
});

test('null and unknown convert to typed null and unknown; dynamic passes through', () => {
  const nul = ok(Value.null(), T.list(T.string));
  assert.ok(nul.isNull);
  assert.ok(typeEquals(nul.type, T.list(T.string)));
  const unk = ok(Value.unknown(), T.number);
  assert.ok(unk.unknown);
  assert.ok(typeEquals(unk.type, T.number));
  const t = Value.tuple([s('a'), n(1)]);
  assert.equal(ok(t, T.dynamic), t);
  // A null string does not convert to a list: the type-level check comes first.
  assert.equal(err(Value.null(T.string), T.list(T.string)), 'list of string required');
});

test('sensitive marks survive conversion', () => {
  const v = ok(n(5).markSensitive(), T.string);
  assert.equal(v.sensitive, true);
  assert.equal(v.raw, '5');
  const l = ok(Value.tuple([s('a').markSensitive(), s('b')]), T.list(T.string));
  assert.equal(l.sensitive, false);
  assert.equal(l.elements()[0]!.sensitive, true);
});

test('tuple to list and set unify element types', () => {
  const l = ok(Value.tuple([s('a'), n(1), b(true)]), T.list(T.dynamic));
  assert.ok(typeEquals(l.type, T.list(T.string)));
  assert.deepEqual(l.toJS(), ['a', '1', 'true']);
  const l2 = ok(Value.tuple([n(1), s('2')]), T.list(T.number));
  assert.deepEqual(l2.toJS(), [1, 2]);
  const st = ok(Value.tuple([s('b'), s('a'), s('b')]), T.set(T.string));
  assert.deepEqual(st.toJS(), ['a', 'b']);
  const empty = ok(Value.tuple([]), T.list(T.string));
  assert.ok(typeEquals(empty.type, T.list(T.string)));
  assert.equal(err(Value.tuple([s('a'), Value.tuple([])]), T.list(T.dynamic)), 'all list elements must have the same type');
  assert.equal(err(Value.tuple([s('a'), Value.tuple([])]), T.list(T.string)), 'element 1: string required');
  assert.equal(err(Value.tuple([s('a'), s('x')]), T.list(T.number)), '[0]: a number is required');
});

test('collections convert element-wise with paths in errors', () => {
  const l = Value.list([s('1'), s('2')]);
  assert.deepEqual(ok(l, T.list(T.number)).toJS(), [1, 2]);
  assert.deepEqual(ok(l, T.set(T.string)).toJS(), ['1', '2']);
  assert.equal(err(Value.list([s('1'), s('x')]), T.list(T.number)), '[1]: a number is required');
  assert.equal(err(l, T.map(T.string)), 'map of string required');
  assert.equal(err(Value.list([Value.tuple([])], T.emptyTuple), T.list(T.string)), 'incorrect list element type: string required');
  const m = Value.map({ a: s('1') });
  assert.equal(err(Value.map({ a: s('1'), b: s('z') }), T.map(T.number)), '["b"]: a number is required');
  assert.deepEqual(ok(m, T.map(T.number)).toJS(), { a: 1 });
});

test('object to map and map to object', () => {
  const o = Value.object({ a: s('x'), b: n(2) });
  const m = ok(o, T.map(T.dynamic));
  assert.ok(typeEquals(m.type, T.map(T.string)));
  assert.deepEqual(m.toJS(), { a: 'x', b: '2' });
  assert.equal(err(Value.object({ a: s('x'), b: Value.tuple([]) }), T.map(T.dynamic)), 'all map elements must have the same type');
  assert.equal(err(Value.object({ a: Value.tuple([]) }), T.map(T.string)), 'element "a": string required');
  const obj = ok(Value.map({ a: s('1'), extra: s('2') }), T.object({ a: T.number }));
  assert.deepEqual(obj.toJS(), { a: 1 });
  assert.equal(err(Value.map({ b: s('1') }), T.object({ a: T.string })), 'map has no element for required attribute "a"');
});

test('object to object: missing, extra, optional and default attributes', () => {
  const want = T.object({ name: T.string, size: T.number });
  const v = ok(Value.object({ name: s('x'), size: s('3'), extra: b(true) }), want);
  assert.deepEqual(v.toJS(), { name: 'x', size: 3 });
  assert.equal(err(Value.object({ name: s('x') }), want), 'attribute "size" is required');
  assert.equal(err(Value.object({}), want), 'attributes "name" and "size" are required');
  assert.equal(err(Value.object({}), T.object({ a: T.string, b: T.string, c: T.string })), 'attributes "a", "b", and "c" are required');
  assert.equal(err(Value.object({ name: s('x'), size: Value.tuple([]) }), want), 'attribute "size": number required');
  assert.equal(err(Value.object({ name: s('x'), size: s('big') }), want), '.size: a number is required');

  const opt: Type = { kind: 'object', attrs: new Map([['name', T.string], ['size', T.number], ['tags', T.list(T.string)]]), optional: new Set(['size', 'tags']), defaults: new Map([['size', n(10)]]) };
  const o = ok(Value.object({ name: s('x') }), opt);
  assert.deepEqual(o.toJS(), { name: 'x', size: 10, tags: null });
  assert.ok(typeEquals(o.entries().get('tags')!.type, T.list(T.string)));
  const withNull = ok(Value.object({ name: s('x'), size: Value.null() }), opt);
  assert.deepEqual(withNull.toJS(), { name: 'x', size: 10, tags: null });
  const nested = ok(Value.tuple([Value.object({ name: s('a') }), Value.object({ name: s('b'), size: n(3) })]), T.list(opt));
  assert.deepEqual(nested.toJS(), [{ name: 'a', size: 10, tags: null }, { name: 'b', size: 3, tags: null }]);
});

test('tuple to tuple converts element-wise and needs equal lengths', () => {
  assert.deepEqual(ok(Value.tuple([s('1'), n(2)]), T.tuple([T.number, T.string])).toJS(), [1, '2']);
  assert.equal(err(Value.tuple([s('1')]), T.tuple([T.number, T.string])), 'tuple required');
});

test('unifyTypes follows cty', () => {
  const u = (ts: Type[]): string => {
    const r = unifyTypes(ts);
    return r ? typeExpression(r) : 'none';
  };
  assert.equal(u([T.string, T.number]), 'string');
  assert.equal(u([T.number, T.bool]), 'none');
  assert.equal(u([T.number, T.dynamic]), 'number');
  assert.equal(u([T.list(T.string), T.list(T.number)]), 'list(string)');
  assert.equal(u([T.list(T.string), T.tuple([T.number])]), 'list(string)');
  assert.equal(u([T.tuple([T.string]), T.tuple([T.number, T.number])]), 'list(string)');
  assert.equal(u([T.tuple([T.string]), T.tuple([T.number])]), 'tuple([string])');
  assert.equal(u([T.object({ a: T.string }), T.object({ a: T.number })]), 'object({a=string})');
  assert.equal(u([T.object({ a: T.string }), T.object({ b: T.number })]), 'map(string)');
  assert.equal(u([T.object({ a: T.string }), T.tuple([])]), 'none');
  assert.equal(u([T.map(T.string), T.object({ a: T.bool })]), 'map(string)');
  assert.equal(u([T.list(T.string), T.dynamic]), 'any');
  assert.equal(u([]), 'none');
});

test('mismatchMessage describes nested collection problems', () => {
  assert.equal(mismatchMessage(T.list(T.tuple([])), T.list(T.string)), 'incorrect list element type: string required');
  assert.equal(mismatchMessage(T.map(T.bool), T.map(T.number)), 'incorrect map element type: number required');
  assert.equal(mismatchMessage(T.set(T.string), T.map(T.string)), 'map of string required');
});

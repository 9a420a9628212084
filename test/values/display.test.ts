import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayValue, valueToJSON } from '../../src/values/display.js';
import { T, Value } from '../../src/values/value.js';

const s = Value.string;
const n = Value.number;

test('displayValue prints what packer console prints', () => {
  const cases: [Value, string][] = [
    [s('abc'), 'abc'],
    [s('a\nb'), 'a\nb'],
    [n(42), '42'],
    [n('0.3'), '0.3'],
    [n('9007199254740993'), '9007199254740993'],
    [n('1e30'), '1e+30'],
    [n('1234567.5'), '1.2345675e+06'],
    [n('123456.5'), '123456.5'],
    [n('0.00001'), '1e-05'],
    [n('0.0001'), '0.0001'],
    [n('0.33333333333333333333333333'), '0.3333333333333333'],
    [n(Infinity), '+Inf'],
    [Value.bool(true), 'true'],
    [Value.null(), 'null'],
    [Value.tuple([]), '[]'],
    [Value.object({}), '{}'],
    [Value.tuple([n(1), s('a'), Value.bool(true)]), '[\n  1,\n  "a",\n  true,\n]'],
    [Value.object({ b: s('x'), a: n(1), c: Value.tuple([n(1), n(2)]) }), '{\n  "a" = 1\n  "b" = "x"\n  "c" = [\n    1,\n    2,\n  ]\n}'],
    [Value.object({ a: Value.null(), b: n(1) }), '{\n  "b" = 1\n}'],
    [Value.tuple([Value.null()]), '[\n  null,\n]'],
    [Value.tuple([s('q"uote'), s('é'), s('\u0001'), s('tab\there')]), '[\n  "q\\"uote",\n  "é",\n  "\\x01",\n  "tab\\there",\n]'],
    [Value.tuple([Value.object({})]), '[\n  {},\n]'],
    [Value.list([s('b'), s('a')], T.string), '[\n  "b",\n  "a",\n]'],
  ];
  for (const [v, want] of cases) assert.equal(displayValue(v), want, JSON.stringify(v.toJS()));
});

test('sensitive and unknown values', () => {
  assert.equal(displayValue(s('secret').markSensitive()), '<sensitive>');
  assert.equal(displayValue(Value.tuple([s('secret').markSensitive()])), '[\n  <sensitive>,\n]');
  assert.equal(displayValue(Value.object({ k: n(1).markSensitive() })), '{\n  "k" = <sensitive>\n}');
  assert.equal(displayValue(Value.unknown(T.string)), '<unknown>');
  assert.equal(displayValue(Value.tuple([n(1), Value.unknown()])), '<unknown>');
  assert.equal(displayValue(Value.unknown().markSensitive()), '<sensitive>');
});

test('valueToJSON is exact and masks secrets', () => {
  assert.equal(valueToJSON(Value.object({ a: n('9007199254740993'), b: s('x"y'), c: Value.tuple([Value.bool(false), Value.null()]) })), '{"a":9007199254740993,"b":"x\\"y","c":[false,null]}');
  assert.equal(valueToJSON(Value.tuple([s('pw').markSensitive(), Value.unknown()])), '["<sensitive>",null]');
  assert.equal(valueToJSON(n('0.1')), '0.1');
});

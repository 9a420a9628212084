import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonBody, JsonValue } from '../../src/hcl/ast.js';
import { parseJsonConfig } from '../../src/hcl/json.js';

/** Compact rendering of a JSON value (ranges left out). */
function show(v: JsonValue): string {
  switch (v.kind) {
    case 'string': return JSON.stringify(v.value);
    case 'number': return v.text;
    case 'bool': return String(v.value);
    case 'null': return 'null';
    case 'array': return `[${v.items.map(show).join(',')}]`;
    case 'object': return `{${v.props.map((p) => `${JSON.stringify(p.name)}:${show(p.value)}`).join(',')}}`;
  }
}

function root(src: string): string {
  const { file, diagnostics } = parseJsonConfig(src, 't.pkr.json');
  assert.deepEqual(diagnostics, []);
  return show((file.body as JsonBody).value);
}

const values: [string, string][] = [
  ['{}', '{}'],
  ['  {\n}\n', '{}'],
  ['{"a": 1, "b": -1.5e+3, "c": 0}', '{"a":1,"b":-1.5e+3,"c":0}'],
  ['{"a": true, "b": false, "c": null}', '{"a":true,"b":false,"c":null}'],
  ['{"a": [1, [2, []], {}]}', '{"a":[1,[2,[]],{}]}'],
  ['{"s": "\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00"}', '{"s":"\\"\\\\/\\b\\f\\n\\r\\t\u00e9\u{1F600}"}'],
  ['{"${x}": "${y}"}', '{"${x}":"${y}"}'],
  ['{"a": 1, "a": 2}', '{"a":1,"a":2}'],
  ['[{"a": 1}, {"b": 2}]', '[{"a":1},{"b":2}]'],
  ['{"n": 123456789012345678901234567890}', '{"n":123456789012345678901234567890}'],
];

for (const [src, want] of values) {
  test(`parseJsonConfig: ${JSON.stringify(src)}`, () => {
    assert.equal(root(src), want);
  });
}

test('parseJsonConfig: ranges of values and property names', () => {
  const src = '{\n  "a": {"b": [1, "x\u00e9"]}\n}';
  const body = parseJsonConfig(src, 'r.pkr.json').file.body as JsonBody;
  const s = (r: { start: { line: number; column: number; byte: number }; end: { line: number; column: number; byte: number } }): string =>
    `${r.start.line}:${r.start.column}(${r.start.byte})-${r.end.line}:${r.end.column}(${r.end.byte})`;
  assert.equal(s(body.range), '1:1(0)-3:2(27)');
  const obj = body.value;
  assert.equal(obj.kind, 'object');
  if (obj.kind !== 'object') return;
  assert.equal(s(obj.props[0].nameRange), '2:3(4)-2:6(7)');
  const inner = obj.props[0].value;
  assert.equal(s(inner.range), '2:8(9)-2:24(25)');
  if (inner.kind !== 'object') return;
  const arr = inner.props[0].value;
  assert.equal(arr.kind === 'array' ? arr.items.map((i) => s(i.range)).join(' ') : '', '2:15(16)-2:16(17) 2:18(19)-2:22(23)');
  assert.equal(s(inner.props[0].nameRange), '2:9(10)-2:12(13)');
});

const errors: [string, string, string][] = [
  ['', '1:1', 'Missing value: The JSON data ends prematurely.'],
  ['{', '1:2', 'Missing value: The JSON data ends prematurely.'],
  ['{"a": 1', '1:1', 'Unclosed object: No closing brace was found for this JSON object.'],
  ['[1', '1:1', 'Unclosed array: No closing bracket was found for this JSON array.'],
  ['{"a": 1,}', '1:8', 'Trailing comma in object: JSON does not permit a trailing comma after the final property in an object.'],
  ['{"a": [1,]}', '1:9', 'Trailing comma in array: JSON does not permit a trailing comma after the final value in an array.'],
  ['{"a" 1}', '1:6', "Missing property value colon: A colon must appear between an object property's name and its value."],
  ['{"a" = 1}', '1:6', 'Missing property value colon: JSON uses a colon as its name/value delimiter, not an equals sign.'],
  ['{"a"}', '1:5', 'Missing object value: A JSON object attribute must have a value, introduced by a colon.'],
  ['{a: 1}', '1:2', 'Invalid JSON keyword: "a" is not a valid JSON keyword.'],
  ['{1: 1}', '1:2', 'Invalid object property name: A JSON object property name must be a string.'],
  ['{"a": 1 "b": 2}', '1:9', 'Missing attribute separator comma: A comma must appear between each property definition in an object.'],
  ['{"a": 1]', '1:8', 'Mismatched braces: A JSON object must be closed with a brace, not a bracket.'],
  ['[1}', '1:3', 'Mismatched brackets: A JSON array must be closed with a bracket, not a brace.'],
  ['[1: 2]', '1:3', 'Invalid array value: A colon is not used to introduce values in a JSON array.'],
  ['{"a": tru}', '1:7', 'Invalid JSON keyword: "tru" is not a valid JSON keyword. Did you mean "true"?'],
  ['{"a": NaN}', '1:7', 'Invalid JSON keyword: The JavaScript identifier "NaN" cannot be used in JSON.'],
  ['{"a": 01}', '1:7', 'Invalid JSON number: There is a syntax error in the given JSON number.'],
  ['{"a": 1.}', '1:7', 'Invalid JSON number: There is a syntax error in the given JSON number.'],
  ['{"a": .5}', '1:7', 'Invalid JSON number: There is a syntax error in the given JSON number.'],
  ['\uFEFF{}', '1:1', 'Invalid start of value: A JSON value must start with a brace, a bracket, a number, a string, or a keyword.'],
  ['{"a": "x\ny"}', '1:9', 'Invalid JSON string: A JSON string cannot span lines; use the \\n escape sequence for a newline.'],
  ['{"a": "\\q"}', '1:8', 'Invalid JSON string: "\\q" is not a valid JSON escape sequence.'],
  ['{"a": "\\u12"}', '1:8', 'Invalid JSON string: The \\u escape sequence must be followed by four hexadecimal digits.'],
  ['{"a": "x', '1:7', 'Invalid JSON string: There is no closing quote mark for this string before the end of the file.'],
  ['{"a": \'x\'}', '1:7', 'Invalid start of value: A JSON value must start with a brace, a bracket, a number, a string, or a keyword.'],
  ['{"a": }', '1:7', 'Missing JSON value: A JSON value must start with a brace, a bracket, a number, a string, or a keyword.'],
  ['{} {}', '1:4', 'Extraneous data after value: Extra characters appear after the JSON value.'],
  ['{} // comment', '1:4', 'Extraneous data after value: Extra characters appear after the JSON value.'],
  ['"just a string"', '1:1', 'Root value must be object: The root value in a JSON-based configuration must be either a JSON object or a JSON array of objects.'],
  ['1', '1:1', 'Root value must be object: The root value in a JSON-based configuration must be either a JSON object or a JSON array of objects.'],
];

for (const [src, at, want] of errors) {
  test(`parseJsonConfig error: ${JSON.stringify(src)}`, () => {
    const { file, diagnostics } = parseJsonConfig(src, 'e.pkr.json');
    assert.deepEqual(diagnostics.map((d) => `${d.subject?.start.line}:${d.subject?.start.column} ${d.summary}: ${d.detail}`), [`${at} ${want}`]);
    const body = file.body as JsonBody;
    assert.equal(show(body.value), '{}', 'a file with errors has an empty body');
  });
}

test('parseJsonConfig: nesting deeper than the limit is one diagnostic', () => {
  const deep = 100_000;
  for (const src of [`${'['.repeat(deep)}${']'.repeat(deep)}`, `${'{"a":'.repeat(deep)}1${'}'.repeat(deep)}`]) {
    const { diagnostics } = parseJsonConfig(src, 'deep.pkr.json');
    assert.deepEqual(diagnostics.map((d) => d.summary), ['Nesting too deep']);
  }
});

test('parseJsonConfig: a large string value', () => {
  const big = 'é'.repeat(3_000_000);
  const body = parseJsonConfig(`{"a": "${big}", "b": 1}`, 'big.pkr.json').file.body as JsonBody;
  const v = body.value;
  assert.equal(v.kind === 'object' && v.props[0].value.kind === 'string' ? v.props[0].value.value.length : -1, big.length);
  assert.equal(v.kind === 'object' ? v.props[1].nameRange.start.column : -1, 3_000_000 + 11);
});

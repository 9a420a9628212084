import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExpression } from '../../src/hcl/parser.js';
import { parseJsonConfig } from '../../src/hcl/json.js';
import type { JsonExpression } from '../../src/hcl/ast.js';
import { parseTypeConstraint } from '../../src/hcl/typeexpr.js';
import { convert } from '../../src/values/convert.js';
import { Value, typeExpression } from '../../src/values/value.js';

function typeOf(src: string): { type: string; details: string[] } {
  const p = parseExpression(src, 'vars.pkr.hcl');
  assert.deepEqual(p.diagnostics, [], src);
  const r = parseTypeConstraint(p.expr);
  return { type: typeExpression(r.type), details: r.diagnostics.map((d) => `${d.summary}: ${d.detail}`) };
}

test('type constraint keywords and constructors', () => {
  const cases: [string, string][] = [
    ['string', 'string'],
    ['number', 'number'],
    ['bool', 'bool'],
    ['any', 'any'],
    ['list(string)', 'list(string)'],
    ['set(number)', 'set(number)'],
    ['map(any)', 'map(any)'],
    ['list(map(bool))', 'list(map(bool))'],
    ['tuple([string, number])', 'tuple([string, number])'],
    ['object({name = string, size = number})', 'object({name=string, size=number})'],
    ['object({tags = optional(list(string))})', 'object({tags=list(string)})'],
  ];
  for (const [src, want] of cases) assert.deepEqual(typeOf(src), { type: want, details: [] }, src);
});

test('bad type constraints give HCL messages', () => {
  const bad: [string, string][] = [
    ['list', 'Invalid type specification: The list type constructor requires one argument specifying the element type.'],
    ['object', 'Invalid type specification: The object type constructor requires one argument specifying the attribute types and values as a map.'],
    ['tuple', 'Invalid type specification: The tuple type constructor requires one argument specifying the element types as a list.'],
    ['strin', 'Invalid type specification: The keyword "strin" is not a valid type specification.'],
    ['"string"', 'Invalid type specification: A type specification is either a primitive type keyword (bool, number, string) or a complex type constructor call, like list(string).'],
    ['string(1)', 'Invalid type specification: Primitive type keyword "string" does not expect arguments.'],
    ['any(1)', 'Invalid type specification: Type constraint keyword "any" does not expect arguments.'],
    ['list(string, number)', 'Invalid type specification: The list type constructor requires one argument specifying the element type.'],
    ['tuple(string)', 'Invalid type specification: Tuple type constructor requires a list of element types.'],
    ['object([string])', 'Invalid type specification: Object type constructor requires a map whose keys are attribute names and whose values are the corresponding attribute types.'],
    ['object({"a b" = string})', 'Invalid type specification: Object constructor map keys must be attribute names.'],
    ['optional(string)', 'Invalid type specification: Keyword "optional" is valid only as a modifier for object type attributes.'],
    ['foo(string)', 'Invalid type specification: Keyword "foo" is not a valid type constructor.'],
    ['object({a = optional(string, 1, 2)})', 'Invalid type specification: Optional attribute modifier expects at most two arguments: the attribute type, and a default value.'],
    ['object({a = optional(number, "x")})', "Invalid default value for optional attribute: This default value is not compatible with the attribute's type constraint: a number is required."],
  ];
  for (const [src, detail] of bad) assert.deepEqual(typeOf(src).details, [detail], src);
});

test('optional attributes with defaults are applied by conversion', () => {
  const p = parseExpression('object({name = string, size = optional(number, 10), tags = optional(list(string))})', 'v.pkr.hcl');
  const t = parseTypeConstraint(p.expr).type;
  const r = convert(Value.object({ name: Value.string('x') }), t);
  assert.ok('value' in r);
  assert.deepEqual(r.value.toJS(), { name: 'x', size: 10, tags: null });
  const missing = convert(Value.object({}), t);
  assert.ok('error' in missing);
  assert.equal(missing.error, 'attribute "name" is required');
});

test('JSON syntax: the constraint is a string holding the expression', () => {
  const file = parseJsonConfig('{"type": "list(object({a = string}))", "bad": "list(", "num": 1}', 'v.pkr.json').file;
  assert.equal(file.body.kind, 'json');
  const props = file.body.kind === 'json' && file.body.value.kind === 'object' ? file.body.value.props : [];
  const expr = (i: number): JsonExpression => ({ kind: 'json', value: props[i]!.value, range: props[i]!.value.range });
  assert.equal(typeExpression(parseTypeConstraint(expr(0)).type), 'list(object({a=string}))');
  const bad = parseTypeConstraint(expr(1));
  assert.equal(bad.type.kind, 'dynamic');
  assert.ok(bad.diagnostics.length > 0);
  assert.equal(bad.diagnostics[0]!.subject!.start.line, 1);
  assert.equal(parseTypeConstraint(expr(2)).diagnostics[0]!.summary, 'Invalid type specification');
});

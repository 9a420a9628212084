import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, type EvalContext } from '../../src/hcl/eval.js';
import { parseJsonConfig } from '../../src/hcl/json.js';
import type { JsonExpression } from '../../src/hcl/ast.js';
import { valueToJSON } from '../../src/values/display.js';
import { T, Value } from '../../src/values/value.js';

const ctx: EvalContext = {
  variables: new Map([['var', Value.object({ name: Value.string('web'), n: Value.number(2), unk: Value.unknown(T.string) })]]),
  functions: new Map([['upper', { params: [{ name: 'str', type: T.string }], impl: ([a]) => Value.string(a!.asString().toUpperCase()) }]]),
  functionContext: { baseDir: '.', cwd: '.' },
};

/** The JSON value of attribute "x" of a one-attribute JSON document, as an expression. */
function jsonExpr(valueText: string): JsonExpression {
  const r = parseJsonConfig(`{"x": ${valueText}}`, 't.pkr.json');
  assert.deepEqual(r.diagnostics, []);
  const body = r.file.body;
  assert.ok(body.kind === 'json' && body.value.kind === 'object');
  const v = body.value.props[0]!.value;
  return { kind: 'json', value: v, range: v.range };
}

function run(valueText: string, c: EvalContext | null = ctx): { json: string; summaries: string[]; value: Value } {
  const r = evaluate(jsonExpr(valueText), c);
  return { json: valueToJSON(r.value), summaries: r.diagnostics.map((d) => d.summary), value: r.value };
}

test('JSON values evaluate per the HCL JSON spec', () => {
  const cases: [string, string][] = [
    ['"plain"', '"plain"'],
    ['"${var.name}-1"', '"web-1"'],
    ['"${upper(var.name)}"', '"WEB"'],
    ['"${var.n}"', '2'],
    ['"%{ if var.n > 1 }many%{ endif }"', '"many"'],
    ['12345678901234567890.5', '12345678901234567890.5'],
    ['true', 'true'],
    ['null', 'null'],
    ['[1, "${var.n + 1}", [true]]', '[1,3,[true]]'],
    ['{"a": 1, "${var.name}": "${var.n}"}', '{"a":1,"web":2}'],
    ['"$${not} interpolated"', '"${not} interpolated"'],
  ];
  for (const [src, want] of cases) {
    const r = run(src);
    assert.deepEqual(r.summaries, [], src);
    assert.equal(r.json, want, src);
  }
  assert.equal(run('[1, 2]').value.type.kind, 'tuple');
  assert.equal(run('{"a": 1}').value.type.kind, 'object');
});

test('JSON strings are literal when no context is given', () => {
  assert.equal(run('"${var.name}"', null).json, '"${var.name}"');
});

test('JSON errors', () => {
  assert.deepEqual(run('"${nope}"').summaries, ['Unknown variable']);
  assert.deepEqual(run('"${"').summaries.length > 0, true);
  assert.deepEqual(run('{"${null}": 1}').summaries, ['Invalid object key expression']);
  assert.deepEqual(run('{"a": 1, "${\\"a\\"}": 2}').summaries, ['Duplicate object attribute']);
  assert.ok(run('{"${var.unk}": 1}').value.unknown);
});

test('template errors in JSON strings point into the JSON file', () => {
  const r = evaluate(jsonExpr('"ab ${nope}"'), ctx);
  const subject = r.diagnostics[0]!.subject!;
  assert.equal(subject.filename, 't.pkr.json');
  assert.equal(subject.start.line, 1);
  assert.equal(subject.start.column, 13);
});

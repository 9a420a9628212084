import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, renderTemplate, type EvalContext } from '../../src/hcl/eval.js';
import { parseExpression } from '../../src/hcl/parser.js';
import { FunctionArgError, FunctionError, type FunctionDef, type FunctionTable } from '../../src/functions/types.js';
import { valueToJSON } from '../../src/values/display.js';
import { T, Value, typeExpression } from '../../src/values/value.js';

const s = Value.string;
const n = Value.number;

/** A few functions shaped like the real library's, so these tests do not depend on it. */
const functions: FunctionTable = new Map<string, FunctionDef>([
  ['upper', { params: [{ name: 'str', type: T.string }], returnType: T.string, impl: ([a]) => s(a!.asString().toUpperCase()) }],
  ['upfail', { params: [{ name: 'str', type: T.string }], impl: () => { throw new FunctionArgError(0, 'not today'); } }],
  ['boom', { params: [], impl: () => { throw new FunctionError('it broke'); } }],
  ['concat', { params: [], varParam: { name: 'seqs', type: T.dynamic }, impl: (args) => Value.tuple(args.flatMap((a) => [...a.elements()])) }],
  [
    'firstok',
    {
      params: [],
      varParam: { name: 'expressions', type: T.dynamic },
      impl: () => Value.null(),
      lazyImpl: (args) => {
        for (const a of args) {
          if (a.dependsOnUnknowns()) return Value.unknown();
          const r = a.evaluate();
          if (!r.diagnostics.some((d) => d.severity === 'error')) return r.value;
        }
        throw new FunctionError('no expression succeeded');
      },
    },
  ],
  [
    'typeof',
    {
      params: [{ name: 'type', type: T.dynamic }],
      impl: () => Value.null(),
      lazyImpl: ([a]) => {
        const t = a!.typeConstraint();
        if (t.diagnostics.length > 0) throw new FunctionError((t.diagnostics[0]!.detail ?? 'bad type').replace(/\.$/, ''));
        return s(typeExpression(t.type));
      },
    },
  ],
  ['render', { params: [{ name: 'tpl', type: T.string }], impl: ([tpl], ctx) => ctx.renderTemplate!(tpl!.asString(), 'inline.tpl', new Map([['name', s('world')]])) }],
]);

const variables = new Map<string, Value>([
  [
    'var',
    Value.object({
      str: s('hello'),
      num: n(3),
      list: Value.list([s('a'), s('b'), s('c')]),
      tup: Value.tuple([n(1), s('x'), Value.bool(true)]),
      map: Value.map({ k1: s('v1'), k2: s('v2') }),
      set: Value.set([s('y'), s('x')]),
      objs: Value.list([Value.object({ name: s('n1') }), Value.object({ name: s('n2') })]),
      secret: s('hunter2').markSensitive(),
      nul: Value.null(T.string),
      unk: Value.unknown(T.string),
      unkList: Value.unknown(T.list(T.string)),
    }),
  ],
  ['local', Value.object({ empty: Value.tuple([]) })],
]);

const ctx: EvalContext = { variables, functions, functionContext: { baseDir: '.', cwd: '.' } };

function run(src: string, c: EvalContext | null = ctx): { value: Value; summaries: string[]; details: string[] } {
  const p = parseExpression(src, 'test.pkr.hcl');
  assert.deepEqual(p.diagnostics.map((d) => d.summary), [], `parse errors in ${src}`);
  const r = evaluate(p.expr, c);
  return { value: r.value, summaries: r.diagnostics.map((d) => d.summary), details: r.diagnostics.map((d) => d.detail ?? '') };
}

function json(src: string): string {
  const r = run(src);
  assert.deepEqual(r.summaries, [], `${src}: ${r.details.join(' | ')}`);
  return valueToJSON(r.value);
}

test('literals, arithmetic and exact numbers', () => {
  const cases: [string, string][] = [
    ['1', '1'],
    ['1.5', '1.5'],
    ['1e3', '1000'],
    ['0.1 + 0.2', '0.3'],
    ['0.1 + 0.2 == 0.3', 'true'],
    ['9007199254740993', '9007199254740993'],
    ['9007199254740993 + 1', '9007199254740994'],
    ['2 * 3 + 4', '10'],
    ['2 * (3 + 4)', '14'],
    ['7 / 2', '3.5'],
    ['7 % 3', '1'],
    ['-7 % 3', '-1'],
    ['5 % 0', '5'],
    ['-(3)', '-3'],
    ['"3" + 4', '7'],
    ['"1.5" * "2"', '3'],
    ['1 / 0', '"+Inf"'],
    ['-1 / 0', '"-Inf"'],
    ['true', 'true'],
    ['null', 'null'],
    ['!true', 'false'],
    ['!"false"', 'true'],
    ['3 > 2', 'true'],
    ['3 <= 2', 'false'],
    ['"10" > 9', 'true'],
    ['true && false', 'false'],
    ['true || false', 'true'],
    ['1 == 1.0', 'true'],
    ['1 == "1"', 'false'],
    ['[1, "a"] == [1, "a"]', 'true'],
    ['{a = 1} == {a = 1}', 'true'],
    ['{a = 1} != {a = 2}', 'true'],
    ['null == null', 'true'],
    ['var.nul == null', 'true'],
    ['"a" != null', 'true'],
  ];
  for (const [src, want] of cases) assert.equal(json(src), want, src);
});

test('templates convert interpolations to strings and keep unicode', () => {
  const cases: [string, string][] = [
    ['"plain"', '"plain"'],
    ['"a${1 + 1}b"', '"a2b"'],
    ['"${true}-${1.5}"', '"true-1.5"'],
    ['"${var.str} wörld ☃"', '"hello wörld ☃"'],
    ['"%{ if var.num > 2 }big%{ else }small%{ endif }"', '"big"'],
    ['"%{ if false }x%{ endif }"', '""'],
    ['"%{ for i, v in var.list }${i}=${v};%{ endfor }"', '"0=a;1=b;2=c;"'],
    ['"%{ for k, v in var.map }${k}:${v} %{ endfor }"', '"k1:v1 k2:v2 "'],
    ['"${var.list}"', '["a","b","c"]'],
  ];
  for (const [src, want] of cases) assert.equal(json(src), want, src);
  const wrapped = run('"${var.num}"').value;
  assert.equal(wrapped.type.kind, 'number', 'a lone interpolation keeps its type');
});

test('template errors and unknown parts', () => {
  let r = run('"a${null}b"');
  assert.deepEqual(r.summaries, ['Invalid template interpolation value']);
  assert.equal(r.details[0], 'The expression result is null. Cannot include a null value in a string template.');
  r = run('"a${var.list}b"');
  assert.deepEqual(r.details, ['Cannot include the given value in a string template: string required.']);
  r = run('"a${var.unk}b"');
  assert.deepEqual(r.summaries, []);
  assert.ok(r.value.unknown);
  assert.equal(r.value.type.kind, 'string');
  r = run('"%{ if "maybe" }x%{ endif }"');
  assert.deepEqual(r.summaries, ['Incorrect condition type']);
});

test('traversals: attributes, indexes and their errors', () => {
  const cases: [string, string][] = [
    ['var.str', '"hello"'],
    ['var.list[1]', '"b"'],
    ['var.list["2"]', '"c"'],
    ['var.tup[1]', '"x"'],
    ['var.map.k1', '"v1"'],
    ['var.map["k2"]', '"v2"'],
    ['var["str"]', '"hello"'],
    ['var.objs[1].name', '"n2"'],
    ['var.list.0', '"a"'],
  ];
  for (const [src, want] of cases) assert.equal(json(src), want, src);

  const errors: [string, string, string][] = [
    ['nope', 'Unknown variable', 'There is no variable named "nope".'],
    ['vars.str', 'Unknown variable', 'There is no variable named "vars". Did you mean "var"?'],
    ['var.missing', 'Unsupported attribute', 'This object does not have an attribute named "missing".'],
    ['var.map.k3', 'Missing map element', 'This map does not have an element with the key "k3".'],
    ['var.str.x', 'Unsupported attribute', "Can't access attributes on a primitive-typed value (string)."],
    ['var.objs.name', 'Unsupported attribute', 'Can\'t access attributes on a list of objects. Did you mean to access attribute "name" for a specific element of the list, or across all elements of the list?'],
    ['var.nul.x', 'Attempt to get attribute from null value', 'This value is null, so it does not have any attributes.'],
    ['var.nul[0]', 'Attempt to index null value', 'This value is null, so it does not have any indices.'],
    ['var.list[3]', 'Invalid index', 'The given key does not identify an element in this collection value: the given index is greater than or equal to the length of the collection.'],
    ['var.list[-1]', 'Invalid index', 'The given key does not identify an element in this collection value: a negative number is not a valid index for a sequence.'],
    ['var.list[0.5]', 'Invalid index', 'The given key does not identify an element in this collection value: indexing a sequence requires a whole number, but the given index has a fractional part.'],
    ['var.list["x"]', 'Invalid index', 'The given key does not identify an element in this collection value: a number is required.'],
    ['local.empty[0]', 'Invalid index', 'The given key does not identify an element in this collection value: the collection has no elements.'],
    ['var.map["zz"]', 'Invalid index', 'The given key does not identify an element in this collection value.'],
    ['var[0]', 'Invalid index', 'The given key does not identify an element in this collection value. An object only supports looking up attributes by name, not by numeric index.'],
    ['var.set[0]', 'Invalid index', "Elements of a set are identified only by their value and don't have any separate index or key to select with, so it's only possible to perform operations across all elements of the set."],
    ['var.str[0]', 'Invalid index', 'This value does not have any indices.'],
    ['var.list[null]', 'Invalid index', "Can't use a null value as an indexing key."],
  ];
  for (const [src, summary, detail] of errors) {
    const r = run(src);
    assert.deepEqual([r.summaries, r.details], [[summary], [detail]], src);
    assert.ok(r.value.unknown, `${src} gives an unknown placeholder`);
  }
});

test('a nil context refuses variables and function calls', () => {
  assert.deepEqual(run('var.str', null).summaries, ['Variables not allowed']);
  assert.deepEqual(run('upper("a")', null).summaries, ['Function calls not allowed']);
  assert.equal(valueToJSON(run('[for x in [1, 2]: x * 2]', null).value), '[2,4]');
});

test('function calls, expansion and their errors', () => {
  assert.equal(json('upper("abc")'), '"ABC"');
  assert.equal(json('upper(42)'), '"42"');
  assert.equal(json('concat([1], [2, 3])'), '[1,2,3]');
  assert.equal(json('concat([[1], [2]]...)'), '[1,2]');
  assert.equal(json('render("hello $${name}!")'), '"hello world!"');

  let r = run('tostring(1)');
  assert.deepEqual([r.summaries, r.details], [['Call to unknown function'], ['There is no function named "tostring".']]);
  r = run('uper("a")');
  assert.deepEqual(r.details, ['There is no function named "uper". Did you mean "upper"?']);
  r = run('upper([1])');
  assert.deepEqual([r.summaries, r.details], [['Invalid function argument'], ['Invalid value for "str" parameter: string required.']]);
  r = run('upfail("x")');
  assert.deepEqual(r.details, ['Invalid value for "str" parameter: not today.']);
  r = run('boom()');
  assert.deepEqual([r.summaries, r.details], [['Error in function call'], ['Call to function "boom" failed: it broke.']]);
  r = run('upper()');
  assert.deepEqual(r.summaries, ['Not enough function arguments']);
  r = run('upper("a", "b")');
  assert.deepEqual(r.summaries, ['Too many function arguments']);
  r = run('concat("a"...)');
  assert.deepEqual([r.summaries, r.details], [['Invalid expanding argument value'], ['The expanding argument (indicated by ...) must be of a tuple, list, or set type.']]);
  r = run('upper(var.unk)');
  assert.ok(r.value.unknown);
  assert.equal(r.value.type.kind, 'string');
});

test('lazy functions get their arguments unevaluated', () => {
  assert.equal(json('firstok(var.nope, var.list[7], var.str)'), '"hello"');
  assert.ok(run('firstok(var.unk, "x")').value.unknown, 'an argument that depends on an unknown value decides nothing');
  assert.equal(json('firstok(var.nope, [for v in var.list: upper(v)])'), '["A","B","C"]');
  assert.equal(json('[for v in ["x"]: firstok(v.nope, v)]'), '["x"]');
  assert.equal(json('typeof(list(object({a = number})))'), '"list(object({a=number}))"');
  const r = run('typeof(lisst(string))');
  assert.deepEqual([r.summaries, r.details], [['Error in function call'], ['Call to function "typeof" failed: Keyword "lisst" is not a valid type constructor.']]);
  assert.deepEqual(run('firstok(var.nope)').details, ['Call to function "firstok" failed: no expression succeeded.']);
});

test('argument errors point at the argument', () => {
  const p = parseExpression('upper( [1] )', 'f.hcl');
  const r = evaluate(p.expr, ctx);
  assert.equal(r.diagnostics[0]!.subject!.start.column, 8);
  assert.equal(r.diagnostics[0]!.subject!.end.column, 11);
});

test('conditionals unify branches and check the condition', () => {
  assert.equal(json('true ? 1 : 2'), '1');
  assert.equal(json('false ? 1 : "x"'), '"x"');
  assert.equal(json('true ? 1 : "x"'), '"1"');
  assert.equal(json('true ? null : "x"'), 'null');
  assert.equal(typeExpression(run('true ? null : "x"').value.type), 'string');
  assert.equal(json('"true" ? "y" : "n"'), '"y"');
  let r = run('true ? [] : {}');
  assert.deepEqual([r.summaries, r.details], [['Inconsistent conditional result types'], ["The true and false result expressions must have consistent types. The 'true' value is tuple, but the 'false' value is object."]]);
  r = run('true ? {a = 1} : {b = 1}');
  assert.deepEqual(r.summaries, []);
  r = run('true ? {a = []} : {a = {}}');
  assert.equal(r.details[0], "The true and false result expressions must have consistent types. Type mismatch for object attribute \"a\": The 'true' value is tuple, but the 'false' value is object.");
  r = run('null ? 1 : 2');
  assert.deepEqual([r.summaries, r.details], [['Null condition'], ['The condition value is null. Conditions must either be true or false.']]);
  r = run('"x" ? 1 : 2');
  assert.deepEqual([r.summaries, r.details], [['Incorrect condition type'], ['The condition expression must be of type bool.']]);
  r = run('var.unk == "a" ? 1 : 2');
  assert.ok(r.value.unknown);
  assert.equal(r.value.type.kind, 'number');
});

test('operator errors', () => {
  const errors: [string, string, string][] = [
    ['1 + "a"', 'Invalid operand', 'Unsuitable value for right operand: a number is required.'],
    ['[] + 1', 'Invalid operand', 'Unsuitable value for left operand: number required.'],
    ['1 && true', 'Invalid operand', 'Unsuitable value for left operand: bool required.'],
    ['-"x"', 'Invalid operand', 'Unsuitable value for unary operand: a number is required.'],
    ['0 / 0', 'Operation failed', "Error during operation: can't divide zero by zero or infinity by infinity."],
    ['null + 1', 'Operation failed', 'Error during operation: argument must not be null.'],
  ];
  for (const [src, summary, detail] of errors) {
    const r = run(src);
    assert.deepEqual([r.summaries, r.details], [[summary], [detail]], src);
  }
  // Short-circuit: a decisive known operand wins over an unknown one.
  assert.equal(json('true || var.unk == "x"'), 'true');
  assert.equal(json('false && var.unk == "x"'), 'false');
  assert.ok(run('true && var.unk == "x"').value.unknown);
  assert.ok(run('var.unk == "x"').value.unknown);
  assert.ok(run('var.unk == null').value.unknown);
  assert.equal(json('var.unk == 1'), 'false');
});

test('tuple and object constructors', () => {
  assert.equal(json('[1, "a", [true]]'), '[1,"a",[true]]');
  assert.equal(json('{a = 1, "b c" = 2, (var.str) = 3}'), '{"a":1,"b c":2,"hello":3}');
  assert.equal(json('{null = 1, true = 2}'), '{"null":1,"true":2}');
  assert.equal(json('{1 = "x"}'), '{"1":"x"}');
  assert.equal(json('{a = 1, a = 2}'), '{"a":2}');
  let r = run('{(null) = 1}');
  assert.deepEqual([r.summaries, r.details], [['Null value as key'], ["Can't use a null value as a key."]]);
  r = run('{(var.list) = 1}');
  assert.deepEqual([r.summaries, r.details], [['Incorrect key type'], ["Can't use this value as a key: string required."]]);
  r = run('{var.str = 1}');
  assert.deepEqual(r.summaries, ['Ambiguous attribute key']);
  r = run('{(var.unk) = 1}');
  assert.ok(r.value.unknown);
});

test('for expressions over every collection kind', () => {
  const cases: [string, string][] = [
    ['[for v in var.list: upper(v)]', '["A","B","C"]'],
    ['[for i, v in var.list: "${i}${v}"]', '["0a","1b","2c"]'],
    ['[for v in var.tup: v]', '[1,"x",true]'],
    ['[for v in var.set: v]', '["x","y"]'],
    ['[for k, v in var.set: k]', '["x","y"]'],
    ['[for k, v in var.map: "${k}=${v}"]', '["k1=v1","k2=v2"]'],
    ['[for k, v in {b = 1, a = 2}: k]', '["a","b"]'],
    ['{for v in var.list: v => upper(v)}', '{"a":"A","b":"B","c":"C"}'],
    ['[for v in [1, 2, 3, 4]: v if v % 2 == 0]', '[2,4]'],
    ['{for v in ["a", "b", "a"]: v => v...}', '{"a":["a","a"],"b":["b"]}'],
    ['{for i, v in ["x", "y"]: v => i}', '{"x":0,"y":1}'],
  ];
  for (const [src, want] of cases) assert.equal(json(src), want, src);

  const errors: [string, string, string][] = [
    ['[for v in null: v]', 'Iteration over null value', "A null value cannot be used as the collection in a 'for' expression."],
    ['[for v in "abc": v]', 'Iteration over non-iterable value', "A value of type string cannot be used as the collection in a 'for' expression."],
    ['[for v in [1]: v if "x"]', "Invalid 'for' condition", "The 'if' clause value is invalid: a bool is required."],
    ['[for v in [1]: v if null]', 'Condition is null', "The value of the 'if' clause must not be null."],
    ['{for v in ["a", "a"]: v => v}', 'Duplicate object key', 'Two different items produced the key "a" in this \'for\' expression. If duplicates are expected, use the ellipsis (...) after the value expression to enable grouping by key.'],
    ['{for v in [null]: v => 1}', 'Invalid object key', "Key expression in 'for' expression must not produce a null value."],
    ['{for v in [[1]]: v => 1}', 'Invalid object key', 'The key expression produced an invalid result: string required.'],
  ];
  for (const [src, summary, detail] of errors) {
    const r = run(src);
    assert.deepEqual([r.summaries, r.details], [[summary], [detail]], src);
  }
  assert.ok(run('[for v in var.unkList: v]').value.unknown);
  // The iteration variables shadow outer names only inside the expression.
  assert.equal(json('[for var in [1]: var]'), '[1]');
});

test('splat expressions', () => {
  const cases: [string, string][] = [
    ['var.objs[*].name', '["n1","n2"]'],
    ['var.objs.*.name', '["n1","n2"]'],
    ['var.list[*]', '["a","b","c"]'],
    ['[{a = 1}, {a = 2}][*].a', '[1,2]'],
    ['var.str[*]', '["hello"]'],
    ['{a = 1}[*].a', '[1]'],
    ['null[*]', '[]'],
    ['var.set[*]', '["x","y"]'],
  ];
  for (const [src, want] of cases) assert.equal(json(src), want, src);
  assert.equal(run('var.objs[*].name').value.type.kind, 'list');
  assert.equal(run('var.tup[*]').value.type.kind, 'tuple');
  const r = run('var.nul[*]');
  assert.equal(valueToJSON(r.value), '[]');
  const u = run('var.unkList[*]');
  assert.ok(u.value.unknown);
  assert.equal(typeExpression(u.value.type), 'list(string)');
});

test('sensitive values stay sensitive through every operation', () => {
  const derived = [
    'var.secret',
    'upper(var.secret)',
    '"x${var.secret}y"',
    'var.secret == "hunter2"',
    'var.secret != ""',
    '[for c in [var.secret]: c][0]',
    '{a = var.secret}.a',
    'var.secret == "x" ? "a" : "b"',
    '"%{ if var.secret == "x" }a%{ endif }"',
  ];
  for (const src of derived) {
    const r = run(src);
    assert.deepEqual(r.summaries, [], src);
    assert.ok(r.value.containsSensitive(), `${src} should be sensitive`);
  }
  assert.ok(run('{(var.secret) = 1}').value.sensitive, 'a sensitive key marks the object');
  assert.ok(run('[var.secret][0]').value.sensitive);
  assert.equal(run('[var.secret]').value.sensitive, false, 'a tuple holding a secret is not itself marked');
});

test('renderTemplate reports template errors as function errors with the place', () => {
  const fctx = { baseDir: '.', cwd: '.' };
  assert.equal(renderTemplate('Hi ${name}', 't.tpl', new Map([['name', s('x')]]), functions, fctx).asString(), 'Hi x');
  assert.throws(
    () => renderTemplate('Hi ${nam}', 't.tpl', new Map([['name', s('x')]]), functions, fctx),
    (e: unknown) => e instanceof FunctionError && e.message === 't.tpl:1,6-9: Unknown variable; There is no variable named "nam". Did you mean "name"?',
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callFunction, callLazyFunction, functionCallProblem } from '../../src/functions/call.js';
import { packerFunctions } from '../../src/functions/index.js';
import { FunctionArgError, FunctionArityError, FunctionError, type FunctionDef } from '../../src/functions/types.js';
import { T, Value } from '../../src/values/value.js';

const ctx = { baseDir: '.', cwd: '.' };
let calls = 0;
const upper: FunctionDef = {
  params: [{ name: 'str', type: T.string }],
  returnType: T.string,
  impl: ([s]) => {
    calls++;
    return Value.string(s!.asString().toUpperCase());
  },
};
const joinAll: FunctionDef = {
  params: [{ name: 'sep', type: T.string }],
  varParam: { name: 'parts', type: T.string, allowNull: true },
  impl: ([sep, ...parts]) => Value.string(parts.map((p) => (p.isNull ? 'null' : p.asString())).join(sep!.asString())),
};

function problem(def: FunctionDef, args: Value[], name = 'f') {
  try {
    callFunction(def, args, ctx, name);
  } catch (e) {
    return functionCallProblem(name, def, e);
  }
  assert.fail('the call should have failed');
}

test('arguments are counted against the parameters, with HCL\'s messages', () => {
  assert.deepEqual(problem(upper, []), {
    summary: 'Not enough function arguments',
    detail: 'Function "f" expects 1 argument(s). Missing value for "str".',
  });
  assert.deepEqual(problem(upper, [Value.string('a'), Value.string('b')]), {
    summary: 'Too many function arguments',
    detail: 'Function "f" expects only 1 argument(s).',
  });
  assert.equal(callFunction(joinAll, [Value.string('-'), Value.string('a'), Value.number(1)], ctx).asString(), 'a-1');
});

test('arguments are converted to the parameter types, naming the parameter on failure', () => {
  assert.equal(callFunction(upper, [Value.number(12)], ctx).asString(), '12');
  assert.deepEqual(problem(upper, [Value.tuple([])]), {
    summary: 'Invalid function argument',
    detail: 'Invalid value for "str" parameter: string required.',
    argIndex: 0,
  });
  assert.equal(problem(joinAll, [Value.string('-'), Value.string('a'), Value.tuple([])])?.detail, 'Invalid value for "parts" parameter: string required.');
});

test('null is refused unless the parameter allows it', () => {
  assert.equal(problem(upper, [Value.null(T.string)])?.detail, 'Invalid value for "str" parameter: argument must not be null.');
  assert.equal(callFunction(joinAll, [Value.string('-'), Value.null(T.string)], ctx).asString(), 'null');
});

test('an unknown argument gives an unknown result of the return type without calling the function', () => {
  calls = 0;
  const r = callFunction(upper, [Value.unknown(T.string)], ctx);
  assert.equal(r.unknown, true);
  assert.equal(r.type.kind, 'string');
  assert.equal(calls, 0);
});

test('a sensitive argument is unmarked for the call and the result is marked sensitive', () => {
  const r = callFunction(upper, [Value.string('secret').markSensitive()], ctx);
  assert.equal(r.sensitive, true);
  assert.equal(r.unmark().asString(), 'SECRET');
  const nested = callFunction(packerFunctions.get('length')!, [Value.tuple([Value.string('a').markSensitive(), Value.string('b')])], ctx);
  assert.equal(nested.sensitive, true, 'a secret inside a collection marks the result too');
  assert.equal(callFunction(packerFunctions.get('upper')!, [Value.string('x')], ctx).sensitive, false);
});

test('errors from the function body become HCL\'s diagnostic text', () => {
  const failing: FunctionDef = { params: [], impl: () => { throw new FunctionError('it broke'); } };
  assert.deepEqual(problem(failing, [], 'broken'), { summary: 'Error in function call', detail: 'Call to function "broken" failed: it broke.' });
  const badArg: FunctionDef = { params: [{ name: 'x', type: T.dynamic }], impl: () => { throw new FunctionArgError(0, 'no good'); } };
  assert.deepEqual(problem(badArg, [Value.number(1)]), { summary: 'Invalid function argument', detail: 'Invalid value for "x" parameter: no good.', argIndex: 0 });
  assert.equal(functionCallProblem('f', upper, new TypeError('a bug')), undefined, 'a bug is not turned into a user error');
});

test('lazy functions take unevaluated arguments only', () => {
  const can = packerFunctions.get('can')!;
  assert.throws(() => callFunction(can, [Value.bool(true)], ctx, 'can'), FunctionError);
  assert.throws(() => callLazyFunction(upper, [], ctx, 'upper'), FunctionError);
  assert.throws(() => callLazyFunction(can, [], ctx, 'can'), FunctionArityError);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { T, Value } from '../../src/values/value.js';
import { check } from './check.js';
import { run, table, type Case } from './helpers.js';

const cases: Case[] = [
  ['can(1 + 1)', 'true'],
  ['can(1 + "a")', 'false'],
  ['can(regex("^ami-", "ami-123"))', 'true'],
  ['can(regex("^ami-", "img-123"))', 'false'],
  ['can({a = 1}.b)', 'false'],
  ['can()', { error: 'Not enough function arguments: Function "can" expects 1 argument(s). Missing value for "expression".' }],
  ['can(1, 2)', { error: 'Too many function arguments: Function "can" expects only 1 argument(s).' }],
  ['try({a = 1}.b, "fallback")', 'fallback'],
  ['try({a = 1}.a, "fallback")', '1'],
  ['try(tonumber("x"), 2)', '2'],
  ['try(1 + "a", {}.x)', { error: 'no expression succeeded:' }],
  ['try()', { error: 'at least one argument is required' }],
  ['convert([1, 2], list(string))', '[\n  "1",\n  "2",\n]'],
  ['convert("5", number) + 1', '6'],
  ['convert({a = 1}, map(string))', '{\n  "a" = "1"\n}'],
  ['convert(["a", "a"], set(string))', '[\n  "a",\n]'],
  ['convert({a = 1, b = "x"}, object({a = string}))', '{\n  "a" = "1"\n}'],
  ['convert(null, string)', 'null'],
  ['convert("abc", number)', { error: 'a number is required' }],
  ['convert([1], string)', { error: 'string required' }],
  ['convert(1, strung)', { error: 'strung' }],
  // convert reads a type constraint without defaults (HCL's TypeConstraint): optional(T) only.
  ['convert({a = 1}, object({a = number, b = optional(string)}))', '{\n  "a" = 1\n}'],
  ['convert({a = 1}, object({a = number, b = optional(string, "x")}))', { error: 'Optional attribute modifier expects only one argument: the attribute type.' }],
  ['tostring(1)', { error: 'Call to unknown function: There is no function named "tostring".' }],
  ['tolist(["a"])', { error: 'There is no function named "tolist".' }],
  ['sensitive("x")', { error: 'There is no function named "sensitive".' }],
];

test('can, try and convert', (t) => table(t, cases, check));

test('can and try are unknown while the expression depends on unknown values', () => {
  const vars = new Map([['var', Value.object({ id: Value.unknown(T.string), known: Value.string('k') })]]);
  assert.equal(run('can(var.id)', {}, vars).text, '<unknown>');
  assert.equal(run('try(var.id, "x")', {}, vars).text, '<unknown>');
  assert.equal(run('try(var.known, "x")', {}, vars).text, 'k');
  assert.equal(run('try(var.missing, "x")', {}, vars).text, 'x');
});

test('try with every expression failing lists each error with its place', () => {
  const r = run('try(1 + "a", {}.x)');
  assert.ok(r.error?.includes('- Invalid operand (at test.pkr.hcl:1,9-12)'), r.error);
  assert.ok(r.error?.includes('At least one expression must produce a successful result'), r.error);
});

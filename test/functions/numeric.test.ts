import { test } from 'node:test';
import { check } from './check.js';
import { table, type Case } from './helpers.js';

const cases: Case[] = [
  ['abs(-12.4)', '12.4'],
  ['abs(0)', '0'],
  ['ceil(5.1)', '6'],
  ['ceil(-5.1)', '-5'],
  ['floor(4.9)', '4'],
  ['floor(-4.1)', '-5'],
  ['log(50, 10)', '1.6989700043360185'],
  ['log(16, 2)', '4'],
  ['max(12, 54, 3)', '54'],
  ['max([12, 54, 3]...)', '54'],
  ['min(12, 54, 3)', '3'],
  ['max()', { error: 'must pass at least one number' }],
  ['max("a")', { error: 'Invalid value for "numbers" parameter: a number is required.' }],
  ['parseint("100", 10)', '100'],
  ['parseint("FF", 16)', '255'],
  ['parseint("-10", 16)', '-16'],
  ['parseint("1011111011101111", 2)', '48879'],
  ['parseint("aA", 62)', '656'],
  ['parseint("12345678901234567890", 10)', '1.2345678901234567e+19'],
  ['parseint("12345678901234567890", 10) == 12345678901234567890', 'true'],
  ['parseint("12", 2)', { error: 'cannot parse "12" as a base 2 integer' }],
  ['parseint("FF", 1)', { error: 'base must be a whole number between 2 and 62 inclusive' }],
  ['parseint(10, 10)', { error: 'first argument must be a string, not number' }],
  ['pow(3, 2)', '9'],
  ['pow(4, 0)', '1'],
  ['pow(3, 2.5)', '15.588457268119894'],
  ['signum(-13)', '-1'],
  ['signum(0)', '0'],
  ['signum(344)', '1'],
  ['sum([10, 13, 6, 4.5])', '33.5'],
  ['sum([0.1, 0.2])', '0.3'],
  ['sum(["1", 2])', '3'],
  ['sum([])', { error: 'cannot sum an empty list' }],
  ['sum(["a"])', { error: 'argument must be list, set, or tuple of number values' }],
  ['sum(5)', { error: 'cannot sum noniterable' }],
  ['abs(9007199254740993)', '9007199254740993'],
];

test('numeric functions', (t) => table(t, cases, check));

/**
 * Regular expressions run in linear time with RE2 syntax and Go's iteration and replacement rules
 * (issue 15: a backtracking engine took exponential time on common validation patterns).
 */
import { test } from 'node:test';
import { check } from './check.js';
import type { Case } from './helpers.js';

const hostile = 'a'.repeat(5000);

const cases: Case[] = [
  // Exponential for a backtracking engine (hours at 40 characters); linear here, so these finish.
  [`regex("^(a+)+$", "${hostile}!")`, { error: 'pattern did not match any part of the given string' }],
  [`length(regexall("^([a-zA-Z0-9]+\\\\s?)*$", "${'x'.repeat(4000)} !"))`, '0'],
  [`regex_replace("${hostile}!", "^(a|aa)+$", "x")`, `${hostile}!`],
  // Go's FindAll: no empty match right after a match (no extra one at the end).
  ['regexall("a*", "baaa")', '[\n  "",\n  "aaa",\n]'],
  ['regexall("a*", "abaabaccadaaae")', '[\n  "a",\n  "aa",\n  "a",\n  "",\n  "a",\n  "aaa",\n  "",\n]'],
  ['regexall("", "abc")', '[\n  "",\n  "",\n  "",\n  "",\n]'],
  ['regexall("x*", "😀😀")', '[\n  "",\n  "",\n  "",\n]'],
  // Go's ReplaceAllString: no replacement for an empty match right after a match.
  ['regex_replace("baaa", "a*", "X")', 'XbX'],
  ['regex_replace("😀", "", "-")', '-😀-'],
  // Go's templates: $1x names the group "1x" (empty); ${1}x is group 1 then x.
  ['regex_replace("abc", "(b)", "$1x")', 'ac'],
  ['regex_replace("abc", "(b)", "$${1}x")', 'abxc'],
  // RE2 syntax.
  ['regex("(?U)a+", "aaa")', 'a'],
  ['regex("\\\\Qa.b\\\\E", "xa.by")', 'a.b'],
  ['regex("(?i)s+", "x\u017fSs")', '\u017fSs'], // simple case folding, as Go's
  ['regex("a(?=b)", "ab")', { error: 'invalid or unsupported Perl syntax' }],
  ['regex("(a)\\\\1", "aa")', { error: 'invalid escape sequence' }],
];

for (const [src, want] of cases) {
  test(src.length > 120 ? `${src.slice(0, 117)}…` : src, () => check(src, want));
}

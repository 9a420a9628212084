/**
 * Differential tests: the same expressions through `packer console` (Packer 1.6.6) and through
 * builder's function library must print the same text, or fail with the same summary and detail.
 * Only functions whose semantics Packer 1.6.6 shares with current Packer are compared: not `index`
 * (changed since), nor functions 1.6.6 lacks (`regex`, `regexall`, `sum`, …), nor two bugs of
 * 1.6.6's cty that current cty fixed (`range` with a zero step loops until its limit; a quoted
 * literal at the very end of a `formatdate` layout is dropped).
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { packerSkipReason, runPacker } from '../helpers/packer.js';
import { run } from './helpers.js';

const template = fileURLToPath(new URL('../../../test/fixtures/functions/console', import.meta.url));

const LONG = 'aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq rrrr ssss tttt uuuu';

const EXPRESSIONS = [
  // numeric
  'abs(-12.4)', 'ceil(5.1)', 'floor(-4.1)', 'log(50, 10)', 'log(16, 2)', 'pow(3, 2.5)', 'pow(2, -3)', 'pow(1.1, 7)',
  'max(12, 54, 3)', 'min(1.5, -2)', 'parseint("FF", 16)', 'parseint("-101", 2)', 'parseint("12", 2)', 'signum(-3)', '0.1 + 0.2',
  // string
  'format("%5.2f|%-8d|%08.3f|%+d|% d", 3.14159, 42, -3.14159, 5, 5)', 'format("%e|%E|%g|%G|%.3g", 1234.5678, 0.000123, 1e21, 1e-7, 1234.5)',
  'format("%v|%v|%v|%#v", 1234567, 100000, 0.1, "x")', 'format("%b|%o|%#o|%x|%#X", 5, 8, 8, 255, 255)', 'format("%q|%t|%s", "a<b", true, 12)',
  'format("%.1f|%.2f|%.0f|%.0f|%.2f", 0.05, 2.675, 2.5, 3.5, 1.005)', 'format("%[2]s %[1]s %s", "a", "b")', 'format("%5s|%.2s|%-6s|", "héllo", "héllo", "ab")',
  'format("%d", 1.5)', 'format("%")', 'format("%y", 1)', 'format("%s %s", "a")', 'format("%v", {a = [1, "b"]})',
  'formatlist("%s-%s", ["a", "b"], "x")', 'formatlist("%s %s", ["a"], ["b", "c"])',
  'chomp("hello\\r\\n\\n")', 'indent(2, "a\\nb\\n")', 'join(", ", ["a", "b"], ["c"])', 'lower("ÀB")', 'upper("straße")', 'title("hello-world foo_bar")',
  'replace("1 + 2 + 3", "+", "-")', 'split(",", "a,,b")', 'strrev("héllo")', 'substr("héllo wörld", 1, 4)', 'substr("hello", -3, -1)', 'substr("abc", -10, 2)',
  'trim("?!hello?!", "!?")', 'trimprefix("helloworld", "hello")', 'trimsuffix("helloworld", "world")', 'trimspace("  x \\n")', 'length("👍🏽x")',
  // collection
  'chunklist([1, 2, 3, 4, 5], 2)', 'coalesce("", "b")', 'coalescelist([], ["c"])', 'compact(["a", "", "b"])', 'concat([1], ["a"])',
  'contains(["a", "b"], "b")', 'distinct([1, 2, 1])', 'element(["a", "b", "c"], 4)', 'flatten([["a"], [], [["b"]]])', 'keys({b = 1, a = 2})',
  'values({b = 1, a = 2})', 'length({a = 1, b = 2})', 'lookup({a = "x"}, "b", "d")', 'merge({a = 1}, {b = "x"})', 'range(1, 4, 0.5)', 'range(3, 1)',
  'reverse([1, 2, 3])', 'setintersection(["a", "b"], ["b"])', 'setunion(["b"], ["a"])', 'setproduct(["a", "b"], [1])', 'slice([1, 2, 3], 1, 2)',
  'sort(["b", "B", "a"])', 'zipmap(["a", "b"], [1, 2])', 'element([], 0)',
  'jsondecode("{")', 'jsondecode("nope")', 'jsondecode("1 2")', 'csvdecode("a,b\\n1,2,3")', 'csvdecode("a,b\\n1,x\\"y")', 'csvdecode("a,b\\n\\"1,2")',
  'base64decode("/w==")', 'yamldecode("- a\\n- 0x1F\\n- 1e3\\n- .inf\\n- ~\\n- True\\n- 2001-12-14")', 'cidrhost("10.0.0.0/30", -5)', 'substr("abc", 1.5, 1)',
  'pathexpand("~bob/x")', 'uuidv5("nope", "x")', 'parseint(10, 10)', 'slice(["a", "b"], 2, 1)', 'coalesce([1], "a")',
  'format("x", 1)', 'format("%[2]s", 1, 2, 3)', 'formatlist("%s", ["a"], "extra")', 'yamlencode(1)', 'yamlencode(null)', 'yamlencode("a\\nb\\n\\n")',
  'yamlencode({a = "a\\n\\n", b = 1})', 'coalesce()',
  'sort([null])', 'chunklist([1], -1)', 'concat("a")', 'keys("a")', 'merge("a")', 'flatten("a")', 'setproduct(["a"])', 'replace("hello", "/l+/", "L")',
  // encoding
  'base64encode("héllo")', 'base64decode("SGVsbG8=")', 'csvdecode("a,b\\n1,2\\n")', 'jsondecode("{\\"a\\": [1.50, true, null]}")',
  'jsonencode({b = 1, a = [true, null, "x<&>"], c = 1e20, d = 0.1, e = "tab\\t"})', 'urlencode("Hello World!/☃")',
  'yamldecode("a: 1\\nb: [x, 2.5]\\nc: {d: true}")', `yamlencode({x = {y = "${LONG}"}, z = ["${LONG}  two"], r = [["${LONG}"]]})`, `yamlencode("${LONG}")`,
  'yamlencode(["  lead\\nx", "trail \\nx", "é☃", "a\\u0001b", "yes", "1.5", {"a b" = 1.5}])', 'yamlencode({a = "b", c = [1, {d = "e", f = "g"}], h = "l1\\nl2", e = [], n = null})',
  // date and time
  'formatdate("EEE, DD MMM YYYY hh:mm:ss ZZZ", "2018-01-02T23:12:01Z")', 'formatdate("Z ZZZ ZZZZ ZZZZZ H:m:s AA aa", "2018-01-02T03:12:01+05:30")',
  'formatdate("\'T\'YY MMMM M D EEEE \'o\'\'clock\' YY", "2006-01-02T15:04:05Z")', 'formatdate("A", "2018-01-02T23:12:01Z")',
  'formatdate("YYYY", "2018-13-01T00:00:00Z")', 'formatdate("YYYY", "2018-01-02")', 'timeadd("2017-11-22T00:00:00+01:00", "-1.5h")', 'timeadd("2017-11-22T00:00:00Z", "1d")',
  // crypto, ip, uuid
  'md5("hello")', 'sha1("héllo")', 'sha256("hello")', 'sha512("")', 'cidrhost("10.12.112.0/20", -1)', 'cidrhost("fd00:fd12:3456:7890:00a2::/72", 34)',
  'cidrnetmask("172.16.0.0/12")', 'cidrsubnet("10.1.2.0/24", 4, 15)', 'cidrsubnet("fd00:fd12:3456:7890::/56", 16, 162)', 'cidrsubnet("10.1.2.0/24", 4, 16)',
  'cidrsubnets("10.1.0.0/16", 4, 4, 8, 4)', 'cidrsubnets("10.0.0.0/30", 1, 1, 1)', 'uuidv5("dns", "www.terraform.io")',
  // yamldecode as go-cty-yaml (YAML 1.1 booleans, tags, anchors, keys) and RFC 3339 edge cases (issue 13)
  'yamldecode("[x, y]")', 'yamldecode("[y, Y, yes, Yes, YES, n, N, no, on, On, ON, off, Off, OFF, true, True, TRUE, false, FALSE, nO, yES]")',
  'yamldecode("a: &x [*x]")', 'yamldecode("&a [*a]")', 'yamldecode("!foo bar")', 'yamldecode("!!str 1")', 'yamldecode("!!int \\"3\\"")',
  'yamldecode("!!binary aGVsbG8=")', 'yamldecode("!!timestamp 2001-12-14")', 'yamldecode("!!float 1")', 'yamldecode("!!bool yes")',
  'yamldecode("!<tag:yaml.org,2002:str> 5")', 'yamldecode("!!map {a: 1}")', 'yamldecode("!!seq [1]")', 'yamldecode("!!set {a}")',
  'yamldecode("!!omap [{a: 1}]")', 'yamldecode("! 5")', 'yamldecode("{y: 1, on: 2}")', 'yamldecode("0o17")', 'yamldecode("0x1F")', 'yamldecode("1_000")',
  'yamldecode("a: &b {c: *b}")', 'yamldecode("[\\"true\\", \'1\', \\"y\\", \\"2001-12-14\\"]")', 'yamldecode("{a: &x {b: 1}, c: {<<: *x, d: 2}}")',
  'yamldecode("{[1]: 2}")', 'yamldecode("{~: 2}")', 'yamldecode("{1: 2, 1.50: 3}")', 'yamldecode("*nope")', 'yamldecode("[&a 1, *a, &a 2, *a]")',
  'yamldecode("!!int 0x1F")', 'yamldecode("!!int 0b101")', 'yamldecode("!!str yes")', 'yamldecode("!!bool 1")', 'yamldecode("!!foo 1")',
  'yamldecode("!!binary zz")', 'yamldecode("2001-12-14 21:59:43.10")', 'yamldecode("2001-12-14t21:59:43.10-05:00")', 'yamldecode("2001-12-14T21:59:43+00:00")',
  'yamldecode("2001-2-4T1:2:3Z")', 'yamldecode("2001-02-30")', 'yamldecode("0b101")', 'yamldecode("+12")', 'yamldecode("-.inf")', 'yamldecode(".5")',
  'yamldecode("1e3")', 'yamldecode("a:")', 'yamldecode("[1, \\"\\", \'\', ]")', 'yamldecode("!foo [1]")', 'yamldecode("!!str [1]")',
  'yamldecode("- !!null x")', 'yamldecode("012")', 'yamldecode("1:2")', 'yamldecode("!!int 012")', 'yamldecode("!!int 1.5")', 'yamldecode("|\\n  yes\\n")',
  'yamldecode("[.nan]")', 'yamldecode("{true: 1, yes: 2}")', 'formatdate("YYYY hh:mm ZZZZZ", "2020-01-02T03:04:05,000Z")',
  'formatdate("YYYY hh:mm ZZZZZ", "2020-01-02T03:04:05+24:00")', 'formatdate("YYYY hh:mm ZZZZZ", "2020-01-02T03:04:05+00:60")',
  'formatdate("hh:mm", "2020-01-02T3:04:05Z")', 'formatdate("hh:mm", "2020-01-02T03:04:05+0100")',
  // conversion and call errors
  'can(1 + "a")', 'try({}.x, "d")', 'upper(1, 2)', 'upper()', 'upper([1])', 'tostring(1)',
];

interface Outcome {
  text?: string;
  error?: string;
}

/** Packer prints a value, or an error as "Error: SUMMARY", the place, then the detail (wrapped). */
function packerOutcome(stdout: string, stderr: string): Outcome {
  const m = /Error: (.*)\n[\s\S]*?\(source code not available\)\n\n([\s\S]*)/.exec(stdout + stderr);
  if (m) return { error: `${m[1]}: ${m[2]!.replace(/\s+/g, ' ').trim()}` };
  return { text: stdout.replace(/\n$/, '') };
}

function builderOutcome(src: string): Outcome {
  const r = run(src);
  return r.error !== undefined ? { error: r.error.replace(/\s+/g, ' ').trim() } : { text: r.text };
}

async function pool<T, R>(items: readonly T[], size: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await f(items[i]!);
      }
    }),
  );
  return out;
}

test('functions print what packer console (1.6.6) prints', { skip: packerSkipReason() }, async (t) => {
  const results = await pool(EXPRESSIONS, 6, (src) => runPacker('console', ['--config-type=hcl2'], template, { input: `${src}\n` }));
  for (let i = 0; i < EXPRESSIONS.length; i++) {
    const src = EXPRESSIONS[i]!;
    await t.test(src, () => {
      assert.deepEqual(builderOutcome(src), packerOutcome(results[i]!.stdout, results[i]!.stderr));
    });
  }
});

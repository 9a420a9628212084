import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { test } from 'node:test';
import { check } from './check.js';
import { run, table, type Case } from './helpers.js';

const cases: Case[] = [
  ['base64encode("Hello World")', 'SGVsbG8gV29ybGQ='],
  ['base64encode("héllo")', 'aMOpbGxv'],
  ['base64decode("SGVsbG8gV29ybGQ=")', 'Hello World'],
  ['base64decode("SGVsbG8gV29ybGQ")', { error: "failed to decode base64 data 'SGVsbG8gV29ybGQ'" }],
  ['base64decode("/w==")', { error: 'the result of decoding the the provided string is not valid UTF-8' }],
  ['csvdecode("a,b,c\\n1,2,3\\n4,5,6")', '[\n  {\n    "a" = "1"\n    "b" = "2"\n    "c" = "3"\n  },\n  {\n    "a" = "4"\n    "b" = "5"\n    "c" = "6"\n  },\n]'],
  ['csvdecode("a,b\\n\\"x, y\\",\\"say \\"\\"hi\\"\\"\\"\\n")[0].b', 'say "hi"'],
  ['length(csvdecode("a,b\\n"))', '0'],
  ['csvdecode("")', { error: 'missing header line' }],
  ['csvdecode("a,a\\n1,2")', { error: 'duplicate column name "a"' }],
  ['csvdecode("a,b\\n1,2,3")', { error: 'Call to function "csvdecode" failed: record on line 2: wrong number of fields.' }],
  ['csvdecode("a,b\\n1,x\\"y")', { error: 'parse error on line 2, column 4: bare " in non-quoted-field' }],
  ['csvdecode("a,b\\n\\"1,2")', { error: 'parse error on line 2, column 5: extraneous or missing " in quoted-field' }],
  ['csvdecode("a\\n\\"x\\ny\\"\\n")[0].a', 'x\ny'],
  ['jsondecode("{\\"hello\\": \\"world\\"}")', '{\n  "hello" = "world"\n}'],
  ['jsondecode("true")', 'true'],
  ['jsondecode("[1, \\"a\\", null]")[1]', 'a'],
  ['jsondecode("0.1") + jsondecode("0.2") == 0.3', 'true'],
  ['jsondecode("9007199254740993") == 9007199254740993', 'true'],
  ['jsondecode("{")', { error: 'Call to function "jsondecode" failed: EOF.' }],
  ['jsondecode("nope")', { error: "invalid character 'o' in literal null (expecting 'u')" }],
  ['jsondecode("1 2")', { error: 'extraneous data after JSON object' }],
  ['jsondecode("[1,]")', { error: "invalid character ']' looking for beginning of value" }],
  ['jsonencode({"hello" = "world"})', '{"hello":"world"}'],
  ['jsonencode({b = 1, a = [true, null, "x<"], c = 1e20, d = 0.1})', '{"a":[true,null,"x\\u003c"],"b":1,"c":100000000000000000000,"d":0.1}'],
  ['jsonencode("tab\\there & \\"quotes\\"")', '"tab\\there \\u0026 \\"quotes\\""'],
  ['jsonencode(null)', 'null'],
  ['textencodebase64("Hello World", "UTF-16LE")', 'SABlAGwAbABvACAAVwBvAHIAbABkAA=='],
  ['textencodebase64("Hé", "ISO-8859-1")', 'SOk='],
  ['textencodebase64("Hello", "utf-8")', 'SGVsbG8='],
  ['textencodebase64("€", "ascii")', { error: 'the given string contains characters that cannot be represented in US-ASCII' }],
  ['textencodebase64("a", "EBCDIC-nope")', { error: '"EBCDIC-nope" is not a supported IANA encoding name or alias' }],
  ['textdecodebase64("SABlAGwAbABvACAAVwBvAHIAbABkAA==", "UTF-16LE")', 'Hello World'],
  ['textdecodebase64("SOk=", "latin1")', 'Hé'],
  ['textdecodebase64("gKQ=", "windows-1252")', '€¤'],
  ['textdecodebase64("gqCCog==", "Shift_JIS")', 'あい'],
  ['textdecodebase64("/w==", "UTF-8")', { error: 'the given string contains symbols that are not defined for UTF-8' }],
  ['textdecodebase64("SGVsbG8=!", "UTF-8")', { error: 'the given value is has an invalid base64 symbol at offset 8' }],
  ['urlencode("Hello World!")', 'Hello+World%21'],
  ['urlencode("☃")', '%E2%98%83'],
  ['urlencode("a-b_c.d~e/f?g=h")', 'a-b_c.d~e%2Ff%3Fg%3Dh'],
  ['yamldecode("hello: world")', '{\n  "hello" = "world"\n}'],
  ['yamldecode("true")', 'true'],
  ['yamldecode("{a: &a [1, 2], b: *a}").b[1]', '2'],
  ['yamldecode("a: 1.50\\nb: 0x1F\\nc: ~\\nd: 2001-12-14\\ne: \\"2001-12-14\\"")', '{\n  "a" = 1.5\n  "b" = "0x1F"\n  "d" = "2001-12-14T00:00:00Z"\n  "e" = "2001-12-14"\n}'],
  ['yamldecode("")', 'null'],
  ['yamldecode("a: [1")', { error: 'Call to function "yamldecode" failed: on line 1, column' }],
  ['yamldecode("a: 1\\n---\\nb: 2")', { error: 'on line 1, column 1: unexpected extra content after value' }],
  // go-cty-yaml's resolve table: YAML 1.1 booleans, in values and keys; quoted text stays text.
  ['yamldecode("[x, y]")', '[\n  "x",\n  true,\n]'],
  ['yamldecode("[Y, yes, on, ON, n, NO, off, nO]")', '[\n  true,\n  true,\n  true,\n  true,\n  false,\n  false,\n  false,\n  "nO",\n]'],
  ['yamldecode("[\\"y\\", \'on\', 1_000, 0b101, 012]")', '[\n  "y",\n  "on",\n  1000,\n  5,\n  12,\n]'],
  ['yamldecode("{y: 1, on: 2}")', '{\n  "true" = 2\n}'],
  ['yamldecode("[2001-12-14 21:59:43.10, 2001-2-4t1:2:3+00:00]")', '[\n  "2001-12-14T21:59:43Z",\n  "2001-02-04T01:02:03Z",\n]'],
  // Tags: the standard ones only.
  ['yamldecode("[!!str 1, !!int 0x1F, !!bool yes, !!binary aGk=, !!timestamp 2001-12-14]")', '[\n  "1",\n  31,\n  true,\n  "aGk=",\n  "2001-12-14T00:00:00Z",\n]'],
  ['yamldecode("!foo bar")', { error: 'unsupported tag "!foo"' }],
  ['yamldecode("!!set {a}")', { error: "can't interpret mapping as tag:yaml.org,2002:set" }],
  ['yamldecode("!!binary zz")', { error: 'cannot parse "zz" as tag:yaml.org,2002:binary: not valid base64' }],
  // Anchors: a cty value is finite, so an alias inside its own anchor is an error, not a crash.
  ['yamldecode("&a [*a]")', { error: 'cannot refer to anchor "a" from inside its own definition' }],
  ['yamldecode("a: &b {c: {d: *b}}")', { error: 'cannot refer to anchor "b" from inside its own definition' }],
  ['yamldecode("*nope")', { error: 'reference to undefined anchor "nope"' }],
  ['length(yamldecode("- &a [1, 2]\\n- &b [*a, *a, *a]\\n- &c [*b, *b, *b]\\n- [*c, *c, *c]")[3])', '3'],
  // Keys must be scalars that are not null.
  ['yamldecode("{[1]: 2}")', { error: 'only strings are allowed as mapping keys' }],
  ['yamldecode("{~: 2}")', { error: 'mapping key cannot be null' }],
  ['yamlencode({a = "b", c = "d"})', '"a": "b"\n"c": "d"\n'],
  ['yamlencode({foo = [1, 2, 3], bar = "baz"})', '"bar": "baz"\n"foo":\n- 1\n- 2\n- 3\n'],
  ['yamlencode({foo = [1, {a = "b", c = "d"}, 3], bar = "baz"})', '"bar": "baz"\n"foo":\n- 1\n- "a": "b"\n  "c": "d"\n- 3\n'],
  ['yamlencode({a = {b = {c = 1}}, e = [], f = {}})', '"a":\n  "b":\n    "c": 1\n"e": []\n"f": {}\n'],
  ['yamlencode({h = "l1\\nl2", t = "end\\n"})', '"h": |-\n  l1\n  l2\n"t": |\n  end\n'],
  ['yamlencode([[1, 2], null, true])', '- - 1\n  - 2\n- null\n- true\n'],
  ['yamlencode("tab\\t\\"q\\"")', '"tab\\t\\"q\\""\n'],
  ['yamlencode(1)', '1\n...\n'],
  ['yamlencode(null)', 'null\n...\n'],
  ['yamlencode("a\\nb\\n\\n")', '|+\n  a\n  b\n\n'],
  ['yamlencode({a = "a\\n\\n", b = 1})', '"a": |+\n  a\n\n"b": 1\n'],
  [
    'yamlencode({x = ["aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq  rrrr"]})',
    '"x":\n- "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp\n  qqqq  rrrr"\n',
  ],
];

test('encoding functions', (t) => table(t, cases, check));

test('base64gzip compresses with gzip and encodes the result in base64', () => {
  const r = run('base64gzip("hello hello hello")');
  assert.equal(r.error, undefined);
  const bytes = Buffer.from(r.text!, 'base64');
  assert.equal(bytes[0], 0x1f);
  assert.equal(bytes[1], 0x8b);
  assert.equal(gunzipSync(bytes).toString('utf8'), 'hello hello hello');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { check } from './check.js';
import { run, table, type Case } from './helpers.js';

const cases: Case[] = [
  ['uuidv5("dns", "www.terraform.io")', 'a5008fae-b28c-5ba5-96cd-82b4c53552d6'],
  ['uuidv5("url", "https://www.terraform.io/")', '9db6f67c-dd95-5ea0-aa5b-e70e5c5f7cf5'],
  ['uuidv5("oid", "1.3.6.1.4")', 'af9d40a5-7a36-5c07-b23a-851cd99fbfa5'],
  ['uuidv5("x500", "CN=Example,C=GB")', '84e09961-4aa4-57f8-95b7-03edb1073253'],
  ['uuidv5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.terraform.io")', 'a5008fae-b28c-5ba5-96cd-82b4c53552d6'],
  ['uuidv5("743ac3c0-3bf7-4a5b-9e6c-59360447c757", "LIBS:diskfont.library")', 'ede1a974-df7e-5f17-84b9-76208818b2c8'],
  ['uuidv5("nope", "x")', { error: "uuidv5() doesn't support namespace nope (invalid UUID length: 4)" }],
  ['uuidv5("zzzzzzzz-3bf7-4a5b-9e6c-59360447c757", "x")', { error: 'invalid UUID format' }],
];

test('uuidv5', (t) => table(t, cases, check));

test('uuidv4 gives a new random version 4 UUID on each call', () => {
  const a = run('uuidv4()').text!;
  const b = run('uuidv4()').text!;
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(a, b);
});

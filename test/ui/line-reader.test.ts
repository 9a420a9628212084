import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { LineReader } from '../../src/ui/line-reader.js';
import { cleanOutputLine } from '../../src/sdk/process.js';

test('answers are read one line at a time, in order; the end of input answers undefined', async () => {
  const input = new PassThrough();
  const r = new LineReader(input);
  const first = r.readLine();
  const second = r.readLine();
  input.write('yes\nr');
  input.write('etry\n');
  assert.equal(await first, 'yes');
  assert.equal(await second, 'retry');
  input.end();
  assert.equal(await r.readLine(), undefined);
  r.close();
});

test('output lines are cleaned as Packer cleans them', () => {
  assert.equal(cleanOutputLine('progress 10%\rprogress 100%  '), 'progress 100%');
  assert.equal(cleanOutputLine('a\r'), 'a');
  assert.equal(cleanOutputLine('   '), '');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from '../../src/cli/flags.js';

// Go's time.ParseDuration units, both micro signs included (U+00B5 and U+03BC).
test('parseDuration reads Go durations in milliseconds', () => {
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('2us'), 0.002);
  assert.equal(parseDuration('2\u00b5s'), 0.002);
  assert.equal(parseDuration('2\u03bcs'), 0.002);
  assert.equal(parseDuration('0'), 0);
});

test('parseDuration refuses what Go refuses', () => {
  for (const bad of ['10', '', 's', '1x', '1m 30s', '1.s2']) assert.equal(parseDuration(bad), undefined, bad);
});

/**
 * Diagnostic output grows linearly with the number of errors (issue 15): a template written on one
 * line (a minified JSON template) with N unsupported arguments printed that whole line under every
 * error, N × L characters. The test compares output sizes (never times) for N and 10 × N errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInProcess } from '../cli/run.js';
import { tempDir } from '../state/helpers/fixtures.js';

/** `validate` of a one-line JSON template with `n` unsupported arguments in one source. */
async function validateOutput(t: Parameters<typeof tempDir>[0], n: number): Promise<{ code: number; size: number; stderr: string }> {
  const dir = tempDir(t);
  const args = Array.from({ length: n }, (_, i) => `"bogus_argument_${i}": "value ${i}"`).join(',');
  const template = `{"source":{"null":{"x":{"communicator":"none",${args}}}},"build":{"sources":["source.null.x"]}}`;
  writeFileSync(join(dir, 'one-line.pkr.json'), template);
  const r = await runInProcess(['validate', 'one-line.pkr.json'], { cwd: dir, env: {} });
  return { code: r.code, size: r.stdout.length + r.stderr.length, stderr: r.stderr };
}

test('2,000 errors on one long line: the output is 10 times that of 200, not 100 times', async (t) => {
  const small = await validateOutput(t, 200);
  const big = await validateOutput(t, 2000);
  assert.equal(small.code, 1);
  assert.equal(big.code, 1);
  assert.equal(big.stderr.match(/Error: Extraneous JSON object property/g)?.length, 2000, big.stderr.slice(0, 2000));
  const ratio = big.size / small.size;
  assert.ok(ratio < 15, `output grew ${ratio.toFixed(1)}× for 10× the errors (${small.size} → ${big.size} characters)`);
  // Each error still shows where it is: the argument's name, under a caret.
  assert.match(big.stderr, /"bogus_argument_1999"/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FINDINGS_DIR, loadOptional, runTargets } from '../../scripts/fuzz.js';

// Replays every input the fuzzer saved (`npm run fuzz`) through every target: lexer, parsers,
// and, when built, the evaluator and `fmt`. None may throw anything but diagnostics.
const files = readdirSync(FINDINGS_DIR).filter((f) => f.endsWith('.pkr.hcl') || f.endsWith('.pkr.json')).sort();

test('fuzz findings are kept as regression inputs', () => {
  assert.ok(files.length > 0, `no inputs under ${FINDINGS_DIR}`);
});

for (const name of files) {
  test(`fuzz regression: ${name}`, async () => {
    const optional = await loadOptional();
    const text = readFileSync(join(FINDINGS_DIR, name), 'utf8');
    const failures: string[] = [];
    runTargets({ text, json: name.endsWith('.json'), how: name }, optional, (target, err) => {
      failures.push(`${target}: ${err instanceof Error ? err.stack : String(err)}`);
    });
    assert.deepEqual(failures, []);
  });
}

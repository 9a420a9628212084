/**
 * Every template of the corpus (test/template/corpus.ts) validated in-process: valid ones print
 * "The configuration is valid." and exit 0; invalid ones exit 1 and report each expected error
 * summary as a diagnostic ("Error: SUMMARY"), with no internal error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { corpus, caseArgs, caseName, FIXTURES } from './corpus.js';
import { runInProcess } from '../cli/run.js';

test('the corpus has at least 40 templates', () => {
  assert.ok(new Set(corpus.map((c) => c.path)).size >= 40);
});

for (const c of corpus) {
  test(`validate ${caseName(c)}`, async () => {
    const r = await runInProcess(['validate', ...caseArgs(c), c.path], { cwd: FIXTURES, env: { HOME: '/home/tester', ...c.env } });
    assert.doesNotMatch(r.stderr, /Internal error/);
    if (c.expect === 'valid') {
      if (c.warnings) {
        for (const summary of c.warnings) assert.ok(r.stderr.includes(`Warning: ${summary}`), `expected "${summary}" in:\n${r.stderr}`);
        assert.doesNotMatch(r.stderr, /^Error: /m);
      } else assert.equal(r.stderr, '');
      assert.equal(r.stdout, 'The configuration is valid.\n');
      assert.equal(r.code, 0);
    } else {
      assert.equal(r.code, 1, `expected failure; stderr:\n${r.stderr}`);
      assert.equal(r.stdout, '');
      for (const summary of c.expect.errors) assert.ok(r.stderr.includes(summary), `expected "${summary}" in:\n${r.stderr}`);
      const count = (r.stderr.match(/^Error: /gm) ?? []).length;
      assert.ok(count >= c.expect.errors.length, r.stderr);
    }
  });
}

/**
 * `builder state show BUILD` and the planner answer "where would it resume" from the same code:
 * over every fixture state (test/fixtures/stateful/states), the line `state show` prints is the
 * planner's answer on the record with the template unchanged — and that answer is the one the run
 * follows (a failed second post-processor of a chain re-runs the chain from its first member).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeState, encodeState } from '../../src/state/format.js';
import { inputsFromRecord, recordedPlan, recordedPlanText } from '../../src/plan/recorded.js';
import { planBuild } from '../../src/plan/plan.js';
import { repoRoot } from '../build/cli.js';
import { runInProcess } from '../cli/run.js';
import { tempDir } from '../state/helpers/fixtures.js';

const FIXTURES = join(repoRoot, 'test/fixtures/stateful/states');

/** What a new run does for each fixture build: action and first step to run. */
const EXPECTED: Record<string, [string, string | undefined]> = {
  'web.null.a': ['resume', 'provisioner 2 (shell-local)'],
  'db.null.b': ['fresh', 'provisioner 1 (shell-local)'],
  'chain.null.a': ['resume', 'post-processor 1 (tar)'],
  'killed.null.b': ['resume', 'provisioner 3 (three)'],
  'done.null.c': ['up-to-date', undefined],
  'image.docker.d': ['restart-from-snapshot', 'provisioner 2 (shell)'],
};

test('state show says what the planner plans, for every build of every fixture state', async (t) => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 2);
  const seen = new Set<string>();
  for (const file of files) {
    const state = decodeState(readFileSync(join(FIXTURES, file)), { file, requireChecksum: false });
    const dir = tempDir(t);
    const path = join(dir, 'state.json');
    writeFileSync(path, encodeState(state));
    for (const [key, record] of Object.entries(state.builds)) {
      seen.add(key.slice(key.lastIndexOf('/') + 1));
      const plan = planBuild(inputsFromRecord(key, record), record, { force: false, artifactPresent: () => true });
      assert.deepEqual(recordedPlan(key, record), plan);
      const r = await runInProcess(['state', 'show', `-state=${path}`, key], { cwd: dir, env: {} });
      assert.equal(r.code, 0, r.stderr);
      const line = r.stdout.split('\n').find((l) => l.startsWith('  A new run'));
      assert.equal(line, `  ${recordedPlanText(plan)}`, `${file} ${key}`);
      const expected = EXPECTED[key.slice(key.lastIndexOf('/') + 1)];
      assert.ok(expected, `an expectation for ${key}`);
      assert.deepEqual([plan.action, plan.steps.find((s) => s.action === 'run')?.label], expected, `${file} ${key}: ${plan.reason}`);
    }
  }
  assert.deepEqual([...seen].sort(), Object.keys(EXPECTED).sort());
});

test('a record without chain lengths (an older state) takes each post-processor as a chain of its own', () => {
  const state = decodeState(readFileSync(join(FIXTURES, 'v3-chains.json')), { file: 'x', requireChecksum: false });
  const record = state.builds['t.pkr.hcl/chain.null.a']!;
  record.post_processor_chains = [];
  assert.equal(inputsFromRecord('chain.null.a', record).postProcessorChains.length, 2);
  assert.equal(recordedPlan('chain.null.a', record).steps.find((s) => s.action === 'run')?.label, 'post-processor 2 (compress)');
});

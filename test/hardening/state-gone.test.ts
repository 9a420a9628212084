/**
 * The state folder deleted while a build runs (issue 15): the run noticed nothing, recorded
 * nothing and exited 0. It now ends with one clear error naming the state, and a non-zero status.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectExit, inWorkdir } from '../stateful/semantics-helpers.js';
import { nullShellLocal } from '../helpers/templates.js';

test('the state folder deleted during a build: the run says so and exits non-zero', async () => {
  await inWorkdir(async (w) => {
    await w.write('t.pkr.hcl', nullShellLocal(['rm -rf .packer.d'], ['echo after']));
    const r = await w.build('t.pkr.hcl');
    assert.notEqual(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout + r.stderr, /was removed while this run was using it/);
    assert.doesNotMatch(r.stdout + r.stderr, /Internal error|\n {4}at /);
  });
});

test('a state that exists when the build ends (not deleted) still exits 0', async () => {
  await inWorkdir(async (w) => {
    await w.write('t.pkr.hcl', 'source "null" "a" { communicator = "none" }\nbuild { sources = ["source.null.a"] }\n');
    expectExit(await w.build('t.pkr.hcl'), 0);
  });
});

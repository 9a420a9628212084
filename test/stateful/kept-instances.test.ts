/** What `builder state rm` does with a kept instance, by the builder that made it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keptInstanceFate } from '../../src/stateful/kept-instances.js';
import { newBuild } from '../../src/state/types.js';

test('null: nothing to destroy (the host outlives the build); docker: destroy from the record; a builder that cannot: leave it', () => {
  const build = (type: string) => newBuild(`x.${type}.a`, type);
  assert.equal(keptInstanceFate(build('null')), 'nothing-to-destroy');
  assert.equal(keptInstanceFate(build('file')), 'leave');
  assert.equal(keptInstanceFate(build('docker')), 'destroy');
  assert.equal(keptInstanceFate(build('vmware-iso')), 'leave');
});

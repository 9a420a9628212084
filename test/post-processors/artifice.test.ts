import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileArtifact } from '../../src/builders/file.js';
import { artificePostProcessor } from '../../src/post-processors/artifice.js';
import { inTempDir, prepared, ctxWith } from './helpers.js';
import { testUi } from '../build/helpers.js';

test('artifice: replaces the files, says what it discards', async () => {
  await inTempDir(async (dir) => {
    assert.deepEqual(artificePostProcessor.prepare({}).errors, ['No files specified in artifice configuration']);
    const t = testUi('file.b (artifice)');
    const r = await artificePostProcessor.run(prepared(artificePostProcessor, { files: ['x', 'y'] }), fileArtifact('f.txt', dir), { ...ctxWith(dir), ui: t.ui });
    assert.deepEqual([r.artifact.files, r.artifact.description, r.keep, r.forceOverride], [['x', 'y'], 'Created artifact from files: x, y', true, false]);
    assert.deepEqual(t.out.lines, ['==> file.b (artifice): Discarding files from artifact: f.txt', '==> file.b (artifice): Using these artifact files: x, y']);
  });
});

/** Helpers for post-processor tests. */
import assert from 'node:assert/strict';
import type { PostProcessorDef, StepContext } from '../../src/sdk/component.js';
import { inTempDir, stepContext, testUi } from '../build/helpers.js';

export { inTempDir };

/** The prepared configuration; fails the test when `prepare` reports errors. */
export function prepared<C>(def: PostProcessorDef<C>, raw: Record<string, unknown>): C {
  const r = def.prepare(raw);
  assert.deepEqual(r.errors, []);
  return r.config!;
}

/** A context for build "b" of a file source in `dir`. */
export function ctxWith(dir: string, over: Partial<StepContext> = {}): StepContext {
  return { ...stepContext(dir, testUi('file.b')), builderType: 'file', ...over, env: { ...process.env, PACKER_BUILD_NAME: 'b', ...over.env } };
}

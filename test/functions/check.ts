/** The assertion used by every function table test. */
import assert from 'node:assert/strict';
import type { FunctionCallContext } from '../../src/functions/types.js';
import { run, type Case } from './helpers.js';

export function check(src: string, want: Case[1], fctx: Partial<FunctionCallContext> = {}): void {
  const r = run(src, fctx);
  if (typeof want === 'string') {
    assert.equal(r.error, undefined, `${src} failed: ${r.error}`);
    assert.equal(r.text, want);
  } else {
    assert.ok(r.error !== undefined, `${src} should fail but gave ${r.text}`);
    assert.ok(r.error.includes(want.error), `${src}: error ${JSON.stringify(r.error)} does not include ${JSON.stringify(want.error)}`);
  }
}

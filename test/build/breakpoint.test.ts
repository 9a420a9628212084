import { test } from 'node:test';
import assert from 'node:assert/strict';
import { breakpointProvisioner } from '../../src/provisioners/breakpoint.js';
import { inTempDir, stepContext, testUi } from './helpers.js';

test('breakpoint: disabled says so; without a terminal it says so and continues; with one it waits for Enter', async () => {
  await inTempDir(async (dir) => {
    const t = testUi();
    await breakpointProvisioner.run(breakpointProvisioner.prepare({ disable: true, note: 'look' }).config!, stepContext(dir, t));
    await breakpointProvisioner.run(breakpointProvisioner.prepare({ disable: true }).config!, stepContext(dir, t));
    await breakpointProvisioner.run(breakpointProvisioner.prepare({ note: 'look' }).config!, stepContext(dir, t));
    assert.deepEqual(t.out.lines, [
      '==> null.a: Breakpoint provisioner with note "look" disabled; continuing...',
      '==> null.a: Breakpoint provisioner disabled; continuing...',
      '==> null.a: Pausing at breakpoint provisioner with note "look".',
      '==> null.a: No terminal to wait on; continuing without pausing.',
    ]);
    const t2 = testUi();
    const asked: string[] = [];
    t2.ui.ask = async (q) => (asked.push(q), '');
    await breakpointProvisioner.run(breakpointProvisioner.prepare({}).config!, stepContext(dir, t2));
    assert.deepEqual(asked, ['Press enter to continue.']);
    assert.deepEqual(t2.out.lines, ['==> null.a: Pausing at breakpoint provisioner.']);
  });
});

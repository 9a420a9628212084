/**
 * A low-entropy sensitive value cannot be recovered from the state (issue 15): it was recorded as
 * HMAC-SHA256 keyed by the lineage, which the state holds, so trying all 10,000 four-digit PINs
 * found it at once. Now it is scrypt salted by the lineage and the state's secret key, kept in
 * `<state>.key` (0600) beside the state, never in it. Change detection still works: a changed
 * sensitive variable still marks the build changed, an unchanged one keeps it up to date.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson, secretDigest } from '../../src/state/sensitive.js';
import type { StateFile } from '../../src/state/types.js';
import { expectExit, inWorkdir } from '../stateful/semantics-helpers.js';
import { nullShellLocal } from '../helpers/templates.js';

const template = `
variable "pin" {
  type      = string
  sensitive = true
}
` + nullShellLocal(['echo pin is ${var.pin}']);

test('the recorded hash of a 4-digit sensitive value cannot be matched by trying every PIN with what the state holds', async () => {
  await inWorkdir(async (w) => {
    await w.write('t.pkr.hcl', template);
    expectExit(await w.build('-var', 'pin=4821', 't.pkr.hcl'), 0);
    const path = join(w.dir, '.packer.d', 'builder-state.json');
    const stateText = readFileSync(path, 'utf8') + readFileSync(`${path}.journal`, 'utf8');
    const state = await w.state();
    const recorded = Object.values(state.templates).map((t) => t.variables.pin).find((v) => typeof v === 'string') as string | undefined;
    assert.ok(recorded && recorded.startsWith('sensitive:'), `the variable is recorded as a hash: ${recorded}`);
    assert.ok(!stateText.includes('4821'), 'the PIN is not in the state');
    // The attack: every PIN, keyed by what the state holds (its lineage), as HMAC (before) or scrypt.
    const lineage = (state as StateFile).lineage;
    for (let pin = 0; pin < 10_000; pin++) {
      const value = canonicalJson(String(pin).padStart(4, '0'));
      const hmac = createHmac('sha256', lineage).update(value).digest('hex');
      assert.ok(!recorded.includes(hmac) && !stateText.includes(hmac), `PIN ${pin} recovered by HMAC`);
    }
    // scrypt is too slow to try all here; the right one, without the key, does not match either.
    assert.ok(!recorded.includes(secretDigest(canonicalJson('4821'), lineage)), 'recovered by scrypt keyed by the lineage alone');
    // The key: beside the state, only its owner may read it.
    assert.equal(statSync(`${path}.key`).mode & 0o077, 0, 'the key file is private (0600)');
  });
});

test('change detection still works: the same sensitive value is up to date, a changed one rebuilds', async () => {
  await inWorkdir(async (w) => {
    await w.write('t.pkr.hcl', template);
    expectExit(await w.build('-var', 'pin=4821', 't.pkr.hcl'), 0);
    const same = await w.build('-var', 'pin=4821', 't.pkr.hcl');
    expectExit(same, 0);
    assert.doesNotMatch(same.stdout, /pin is/, 'an unchanged secret: nothing runs again');
    const changed = await w.build('-var', 'pin=4822', 't.pkr.hcl');
    expectExit(changed, 0);
    assert.match(changed.stdout, /pin is <sensitive>/, 'a changed secret: the step runs again');
  });
});

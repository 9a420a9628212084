/**
 * shell-local under attack (issue 15): environment_vars values must not be on any command line
 * (readable by every user for the whole step), script paths must not be interpreted by the shell,
 * and inline scripts live in a 0700 folder that a killed run's successor removes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readlinkSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shellLocalProvisioner } from '../../src/provisioners/shell-local.js';
import { deadPid } from '../state/helpers/processes.js';
import { inTempDir, stepContext, testUi } from '../build/helpers.js';

function prepare(raw: Record<string, unknown>) {
  const r = shellLocalProvisioner.prepare(raw);
  assert.deepEqual(r.errors, []);
  return r.config!;
}

// The pattern is written so that it does not match itself on grep's own command line.
const SCAN = "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' ' | grep -c 'hunter2-s3cr[e]t' || true";

// First in this file: the folder is made, and leftovers looked for, once per process.
test("inline scripts live in a 0700 folder of the run; a killed run's folder is removed by the next", async () => {
  await inTempDir(async (dir) => {
    const ns = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? '0';
    const left = join(tmpdir(), `builder-scripts-${ns}-${await deadPid()}-abcdef`);
    mkdirSync(left, { mode: 0o700 });
    writeFileSync(join(left, 'packer-shell123'), 'echo secret\n');
    const old = new Date(Date.now() - 3600_000);
    utimesSync(left, old, old);
    const t = testUi();
    await shellLocalProvisioner.run(prepare({ inline: ['echo "$0"'] }), stepContext(dir, t));
    const path = t.out.lines[1]!.replace('    null.a: ', '');
    assert.match(path, /\/builder-scripts-\d+-\d+-\w+\/packer-shell\d+$/);
    assert.equal(statSync(join(path, '..')).mode & 0o777, 0o700);
    assert.equal(existsSync(path), false, 'the script is removed after its step');
    assert.equal(existsSync(left), false, 'the leftover of a killed run is removed');
  });
});

test('environment_vars values are on no command line during the step, yet the script sees them', async () => {
  await inTempDir(async (dir) => {
    const t = testUi();
    const cfg = prepare({ inline: ['echo "got=$PW"', SCAN], environment_vars: ['PW=hunter2-s3cret'] });
    await shellLocalProvisioner.run(cfg, stepContext(dir, t));
    const out = t.out.lines.slice(1);
    assert.deepEqual(out, ['    null.a: got=hunter2-s3cret', '    null.a: 0']);
  });
});

test('a user-set execute_command keeps Packer semantics: {{.Vars}} is pasted as Packer pastes it', async () => {
  await inTempDir(async (dir) => {
    const t = testUi();
    const cfg = prepare({ inline: ['echo "$0 $PW"'], environment_vars: ['PW=x'], execute_command: ['/bin/sh', '-c', 'echo "{{.Vars}}"'] });
    await shellLocalProvisioner.run(cfg, stepContext(dir, t));
    assert.deepEqual(t.out.lines.slice(1), ["    null.a: PACKER_BUILDER_TYPE='null' PACKER_BUILD_NAME='a' PW='x'"]);
  });
});

test('a script in a folder named $(…) runs as a file; the shell runs nothing from its name', async () => {
  await inTempDir(async (dir) => {
    const folder = join(dir, '$(touch PWNED)`touch PWNED2`');
    mkdirSync(folder);
    const script = join(folder, "it's.sh");
    writeFileSync(script, '#!/bin/sh\necho ran\n', { mode: 0o755 });
    const t = testUi();
    const cfg = prepare({ script });
    await shellLocalProvisioner.run(cfg, stepContext(dir, t));
    assert.deepEqual(t.out.lines.slice(1), ['    null.a: ran']);
    assert.equal(existsSync(join(dir, 'PWNED')), false);
    assert.equal(existsSync(join(dir, 'PWNED2')), false);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { shellLocalProvisioner } from '../../src/provisioners/shell-local.js';
import { shellLocalPostProcessor } from '../../src/post-processors/shell-local.js';
import { flattenEnvVars } from '../../src/sdk/shell-local.js';
import { nullArtifact } from '../../src/builders/null.js';
import { alive, inTempDir, stepContext, testUi } from '../build/helpers.js';

function prepare(raw: Record<string, unknown>) {
  const r = shellLocalProvisioner.prepare(raw);
  assert.deepEqual(r.errors, []);
  return r.config!;
}

test('prepare refuses what Packer refuses, with its messages', () => {
  assert.deepEqual(shellLocalProvisioner.prepare({}).errors, ['Command, Inline, Script and Scripts options cannot all be empty.']);
  assert.match(shellLocalProvisioner.prepare({ inline: ['a'], script: 'x.sh' }).errors[0]!, /You may only specify one of the following options: Command, Inline, Script or Scripts/);
  assert.deepEqual(shellLocalProvisioner.prepare({ inline: ['a'], environment_vars: ['=x', 'NOEQ'] }).errors, [
    "Environment variable not in format 'key=value': =x",
    "Environment variable not in format 'key=value': NOEQ",
  ]);
  assert.match(shellLocalProvisioner.prepare({ inline: ['a'], only_on: ['plan9'] }).errors[0]!, /Invalid OS specified in only_on: 'plan9'/);
  assert.match(shellLocalProvisioner.prepare({ inline: ['a'], execute_command: ['{{.Nope}}'] }).errors[0]!, /can't evaluate field Nope/);
  const c = prepare({ command: 'echo hi' });
  assert.deepEqual(c.inline, ['echo hi']);
  assert.deepEqual(c.executeCommand, ['/bin/sh', '-c', '{{.Vars}} {{.Script}}']);
  assert.equal(c.inlineShebang, '/bin/sh -e');
});

test('flattened variables: sorted, quoted with env_var_format, single quotes escaped', () => {
  const v = flattenEnvVars({ environmentVars: ['B=it\'s', 'A=1'], env: { C: 'x=y' }, envVarFormat: "%s='%s' " }, { buildName: 'a', builderType: 'null' });
  assert.equal(v.flat, `A='1' B='it'"'"'s' C='x=y' PACKER_BUILDER_TYPE='null' PACKER_BUILD_NAME='a' `);
  assert.equal(v.map.B, "it's");
});

test('inline commands run with the variables; stdout is output, stderr is an error line', async () => {
  await inTempDir(async (dir) => {
    const t = testUi();
    const cfg = prepare({
      inline: ['echo "X=$X"', 'echo "name=$PACKER_BUILD_NAME type=$PACKER_BUILDER_TYPE uuid=$PACKER_RUN_UUID"', 'echo oops >&2', "printf 'a\\r\\nb  \\n\\nc'"],
      environment_vars: ["X=it's, fine"],
    });
    await shellLocalProvisioner.run(cfg, stepContext(dir, t));
    const lines = t.out.lines;
    assert.match(lines[0]!, /^==> null\.a: Running local shell script: \/.*packer-shell\d+$/);
    assert.deepEqual(lines.slice(1).filter((l) => !l.includes('oops')), [
      "    null.a: X=it's, fine",
      '    null.a: name=a type=null uuid=11111111-2222-3333-4444-555555555555',
      '    null.a: a',
      '    null.a: b',
      '    null.a:',
      '    null.a: c',
    ]);
    assert.ok(lines.includes('==> null.a: oops'));
  });
});

test('exit codes: a code not in valid_exit_codes fails with Packer\'s message; listed codes pass', async () => {
  await inTempDir(async (dir) => {
    const t = testUi();
    await assert.rejects(shellLocalProvisioner.run(prepare({ inline: ['exit 3'] }), stepContext(dir, t)), {
      message: 'Script exited with non-zero exit status: 3.Allowed exit codes are: [0]',
    });
    await shellLocalProvisioner.run(prepare({ inline: ['exit 2'], valid_exit_codes: [0, 2] }), stepContext(dir, t));
    await assert.rejects(shellLocalProvisioner.run(prepare({ inline: ['false', 'echo not reached'] }), stepContext(dir, t)), /status: 1/);
    assert.ok(!t.out.text.includes('not reached'), 'the default shebang stops at the first failing command (-e)');
  });
});

test('scripts, execute_command, inline_shebang and only_on', async () => {
  await inTempDir(async (dir) => {
    const t = testUi();
    await writeFile(join(dir, 'one.sh'), 'echo "one $1 $V"\n');
    await writeFile(join(dir, 'two.sh'), 'echo two\n');
    await shellLocalProvisioner.run(
      prepare({ scripts: ['one.sh', 'two.sh'], environment_vars: ['V=v'], execute_command: ['/bin/sh', '-c', '{{.Vars}} sh {{.Script}} arg'] }),
      stepContext(dir, t),
    );
    assert.deepEqual(t.out.lines, [
      '==> null.a: Running local shell script: one.sh',
      '    null.a: one arg v',
      '==> null.a: Running local shell script: two.sh',
      '    null.a: two',
    ]);
    await assert.rejects(shellLocalProvisioner.run(prepare({ script: 'missing.sh' }), stepContext(dir, t)), /Bad script 'missing.sh'/);
    const t2 = testUi();
    await shellLocalProvisioner.run(prepare({ inline: ['false', 'echo went on'], inline_shebang: '/bin/sh' }), stepContext(dir, t2));
    assert.match(t2.out.text, /went on/);
    const t3 = testUi();
    await shellLocalProvisioner.run(prepare({ inline: ['echo never'], only_on: ['windows'] }), stepContext(dir, t3));
    assert.deepEqual(t3.out.lines, ['==> null.a: Skipping shell-local due to runtime OS']);
  });
});

test('cancelling kills the whole process tree of the step', async () => {
  await inTempDir(async (dir) => {
    const t = testUi();
    const ac = new AbortController();
    const run = shellLocalProvisioner.run(prepare({ inline: ['sleep 60 & echo $! > child.pid', 'echo started', 'wait'] }), stepContext(dir, t, ac.signal));
    let pid = 0;
    for (let i = 0; i < 200 && pid === 0; i++) {
      await delay(20);
      pid = Number((await readFile(join(dir, 'child.pid'), 'utf8').catch(() => '')).trim()) || 0;
    }
    assert.ok(pid > 0 && alive(pid));
    ac.abort();
    await assert.rejects(run);
    for (let i = 0; i < 100 && alive(pid); i++) await delay(20);
    assert.equal(alive(pid), false, 'the background child was killed with its group');
  });
});

test('the shell-local post-processor runs like the provisioner and keeps its input', async () => {
  await inTempDir(async (dir) => {
    const t = testUi();
    const cfg = shellLocalPostProcessor.prepare({ inline: ['echo pp $PACKER_BUILD_NAME'] }).config!;
    const r = await shellLocalPostProcessor.run(cfg, nullArtifact, stepContext(dir, t));
    assert.equal(r.artifact, nullArtifact);
    assert.equal(r.keep, true);
    assert.equal(r.forceOverride, true);
    assert.equal(t.out.lines[1], '    null.a: pp a');
  });
});

/**
 * The debug log (src/log.ts, issue 13), as Packer users rely on it: PACKER_LOG=1 or BUILDER_LOG=1
 * turn it on, PACKER_LOG_PATH sends it to a file; each line has Go's log timestamp, a level and a
 * component; it records the command, the steps (checkpoints), the processes started with their
 * argv, and the state's locks and writes; a sensitive variable's value never appears in it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInProcess, runProcess } from '../cli/run.js';
import { PassThrough } from 'node:stream';
import { closeLog, configureLog, formatArgv, logRequested, logTimestamp } from '../../src/log.js';
import { PluginComponent } from '../../src/plugins/component.js';
import { packerBinary, packerSkipReason } from '../helpers/packer.js';
import { hideVarValues } from '../../src/cli/main.js';

const SECRET = 'hunter2-0xC0FFEE';

const TEMPLATE = `
variable "password" {
  type      = string
  sensitive = true
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline          = ["echo using \${var.password}"]
    execute_command = ["/bin/sh", "-c", "echo \${var.password} && sh {{.Script}}"]
  }
}
`;

function folder(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'builder-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'log.pkr.hcl'), TEMPLATE);
  return dir;
}

const LINE = /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} \[(TRACE|DEBUG|INFO|WARN|ERROR)\] [\w .-]+: /;

test('PACKER_LOG=1 with PACKER_LOG_PATH: timestamped lines naming components, processes with argv, steps, locks and writes; no secret', async (t) => {
  const dir = folder(t);
  const logPath = join(dir, 'packer.log');
  const r = await runInProcess(['build', '-var', `password=${SECRET}`, 'log.pkr.hcl'], { cwd: dir, env: { PATH: process.env.PATH, PACKER_LOG: '1', PACKER_LOG_PATH: logPath } });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.stdout.includes(SECRET) && !r.stderr.includes(SECRET));
  assert.equal(r.stderr, '', 'with a path the log goes to the file only');
  const text = readFileSync(logPath, 'utf8');
  assert.ok(!text.includes(SECRET), 'the sensitive value is not in the log');
  const lines = text.trimEnd().split('\n');
  for (const l of lines) assert.match(l, LINE);
  assert.match(text, /\[INFO\] builder: builder version: \S+ \[node v\d+/);
  assert.match(text, /\[INFO\] builder: command: builder build -var "?password=…"? log\.pkr\.hcl/);
  assert.match(text, /\[DEBUG\] state: took the build lock \S+ of build "[^"]*null\.a" of .*builder-state\.json for "build"/);
  assert.match(text, /\[DEBUG\] state: writing .*builder-state\.json at serial \d+: /);
  assert.match(text, /\[DEBUG\] runner: running step 'StepConnect' \(connect, attempt 1\)/);
  assert.match(text, /\[DEBUG\] runner: provisioner\.0 complete; checkpoint/);
  assert.match(text, /\[DEBUG\] shell-local: starting local command: \/bin\/sh -c "echo <sensitive> && sh \/\S+" \(in /);
  assert.match(text, /\[DEBUG\] shell-local: local command exited with status 0: /);
  assert.match(text, /\[DEBUG\] state: released the build lock /);
  assert.match(text, /\[INFO\] builder: build exited with status 0$/m);
});

test('BUILDER_LOG=1 without a path logs to stderr; unset or "0" logs nothing (a real process)', async (t) => {
  const dir = folder(t);
  const on = await runProcess(['build', '-var', `password=${SECRET}`, 'log.pkr.hcl'], { cwd: dir, env: { BUILDER_LOG: '1' } });
  assert.equal(on.code, 0, on.stderr);
  assert.match(on.stderr, /\[INFO\] builder: command: /);
  assert.ok(!on.stderr.includes(SECRET));
  for (const env of [{}, { PACKER_LOG: '0' }, { BUILDER_LOG: '' }]) {
    const off = await runProcess(['build', '-var', `password=${SECRET}`, 'log.pkr.hcl'], { cwd: dir, env });
    assert.equal(off.code, 0, off.stderr);
    assert.equal(off.stderr, '', `nothing on stderr with ${JSON.stringify(env)}`);
  }
  assert.equal(existsSync(join(dir, 'packer.log')), false);
});

test('a log path that cannot be written is said once, and the log goes to stderr', async (t) => {
  const dir = folder(t);
  const r = await runInProcess(['validate', '-var', 'password=x', 'log.pkr.hcl'], { cwd: dir, env: { PACKER_LOG: '1', PACKER_LOG_PATH: join(dir, 'no', 'such', 'folder', 'x.log') } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^builder: cannot write the log to PACKER_LOG_PATH=.*x\.log \(.*ENOENT.*\); logging to stderr instead\.\n/);
  assert.match(r.stderr, /\[INFO\] builder: validate exited with status 0/);
});

test('log helpers: Go timestamps, argv quoting, -var values hidden, the switch', () => {
  assert.equal(logTimestamp(new Date(2026, 0, 2, 3, 4, 5)), '2026/01/02 03:04:05');
  assert.equal(formatArgv(['/bin/sh', '-c', 'echo a b', 'x=1']), '/bin/sh -c "echo a b" x=1');
  assert.deepEqual(hideVarValues(['build', '-var', 'a=1', '-var=b=2', '--var', 'c=3', '-var-file=f', 'T']), ['build', '-var', 'a=…', '-var=b=…', '--var', 'c=…', '-var-file=f', 'T']);
  assert.equal(logRequested({ PACKER_LOG: '1' }), true);
  assert.equal(logRequested({ BUILDER_LOG: 'true' }), true);
  assert.equal(logRequested({ PACKER_LOG: '0', BUILDER_LOG: '' }), false);
  assert.equal(logRequested({}), false);
});

test("a plugin's stderr and its start go to the log, as Packer's `packer-KIND-TYPE plugin:` lines (Packer 1.6.6's shell-local)", async (t) => {
  const skip = packerSkipReason();
  if (skip) {
    t.skip(skip);
    return;
  }
  const dir = folder(t);
  const out = new PassThrough();
  let text = '';
  out.setEncoding('utf8').on('data', (c: string) => (text += c));
  configureLog({ PACKER_LOG: '1' }, out);
  try {
    const c = await PluginComponent.load(
      { kind: 'provisioner', type: 'shell-local', command: packerBinary()!, args: ['plugin', 'packer-provisioner-shell-local'], origin: 'packer 1.6.6' },
      { socketDir: dir, env: { ...process.env, CHECKPOINT_DISABLE: '1', PACKER_LOG: '1' } },
    );
    await c.shutdown();
  } finally {
    closeLog();
  }
  assert.match(text, /\[INFO\] plugin: starting plugin: \S*packer plugin packer-provisioner-shell-local \(pid \d+\)/);
  assert.match(text, /\[DEBUG\] packer-provisioner-shell-local plugin: /, text);
});

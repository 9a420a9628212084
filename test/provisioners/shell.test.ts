/**
 * The remote `shell` provisioner: configuration, and runs against a real sshd.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { UserError } from '../../src/errors.js';
import { noneCommunicator } from '../../src/communicators/none.js';
import { sshCommunicator } from '../../src/communicators/ssh.js';
import type { Communicator } from '../../src/sdk/component.js';
import { prepareShell, shellProvisioner, toUnixLineEndings, type ShellConfig } from '../../src/provisioners/shell.js';
import { startSshd, sshdSkipReason, type Sshd } from '../helpers/sshd.js';
import { testContext } from '../communicators/context.js';

function prepared(raw: Record<string, unknown>): ShellConfig {
  const r = prepareShell(raw);
  assert.deepEqual(r.errors, []);
  return r.config!;
}

test('defaults are Packer\'s', () => {
  const c = prepared({ inline: ['true'] });
  assert.equal(c.executeCommand, 'chmod +x {{.Path}}; {{.Vars}} {{.Path}}');
  assert.equal(c.envVarFormat, "%s='%s' ");
  assert.equal(c.inlineShebang, '/bin/sh -e');
  assert.equal(c.remoteFolder, '/tmp');
  assert.equal(c.remoteFile, undefined);
  assert.equal(c.startRetryTimeoutMs, 300_000);
  assert.deepEqual(c.validExitCodes, [0]);
  const f = prepared({ inline: ['true'], use_env_var_file: true });
  assert.equal(f.executeCommand, 'chmod +x {{.Path}}; . {{.EnvVarFile}} && {{.Path}}');
  assert.equal(f.envVarFormat, "export %s='%s'\n");
});

test('configuration errors use Packer wording', () => {
  assert.deepEqual(prepareShell({}).errors, ['Either a script file or inline script must be specified.']);
  assert.deepEqual(prepareShell({ inline: [] }).errors, ['Either a script file or inline script must be specified.']);
  assert.deepEqual(prepareShell({ script: '/nonexistent.sh', scripts: ['/nonexistent.sh'] }).errors, [
    'Only one of script or scripts can be specified.',
    "Bad script '/nonexistent.sh': stat /nonexistent.sh: no such file or directory",
  ]);
  assert.deepEqual(prepareShell({ inline: ['x'], environment_vars: ['=v', 'novalue', 'A B=1'], env: { 'x;y': '1' } }).errors, [
    "Environment variable not in format 'key=value': =v",
    "Environment variable not in format 'key=value': novalue",
    'Environment variable name is not a valid shell variable name: A B',
    'Environment variable name is not a valid shell variable name: x;y',
  ]);
  assert.deepEqual(prepareShell({ inline: ['x'], execute_command: '{{.Nope}}' }).errors, [
    'Error processing command: template: root:1:3: executing "root" at <.Nope>: can\'t evaluate field Nope',
  ]);
});

test('line endings become "\\n" as Packer\'s UnixReader makes them', () => {
  assert.equal(toUnixLineEndings(Buffer.from('a\r\nb\nc')).toString(), 'a\nb\nc\n');
  assert.equal(toUnixLineEndings(Buffer.from('')).toString(), '');
});

test('inputFiles lists the scripts, absolute', () => {
  assert.deepEqual(shellProvisioner.inputFiles({ ...prepared({ inline: ['x'] }), scripts: ['a.sh'] }), [join(process.cwd(), 'a.sh')]);
});

test('with communicator "none" the upload fails at once with Packer\'s message', async () => {
  const { comm } = await noneCommunicator.connect();
  const ctx = testContext();
  await assert.rejects(shellProvisioner.run(prepared({ inline: ['true'] }), { ...ctx, comm }), {
    message: "Upload is not implemented when communicator = 'none'",
  });
});

describe('shell provisioner over ssh', { skip: sshdSkipReason() }, () => {
  let sshd: Sshd;
  let comm: Communicator;
  let work: string;

  before(async () => {
    const started = await startSshd();
    if ('skip' in started) throw new Error(started.skip);
    sshd = started;
    work = await mkdtemp(join(tmpdir(), 'shell-prov-'));
    // sftp: uploads need no remote shell, which keeps this file quick (scp is tested elsewhere).
    const c = sshCommunicator.prepare({
      ssh_host: sshd.host,
      ssh_port: sshd.port,
      ssh_username: sshd.user,
      ssh_private_key_file: sshd.keyPath,
      ssh_file_transfer_method: 'sftp',
    });
    comm = (await sshCommunicator.connect(c.config!, testContext())).comm;
  });
  after(async () => {
    await comm?.close();
    await sshd?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  // Kill this session's sshd process (the nearest sshd ancestor), which drops the connection.
  const dropSession = [
    'p=$$',
    'while [ "$p" -gt 1 ]; do',
    '  if [ "$(cat /proc/$p/comm)" = sshd ]; then kill -9 "$p"; break; fi',
    "  p=$(awk '{print $4}' /proc/$p/stat)",
    'done',
    'sleep 10',
  ];

  async function provision(raw: Record<string, unknown>) {
    const ctx = testContext({ cwd: work });
    await shellProvisioner.run(prepared(raw), { ...ctx, comm });
    return ctx.ui.lines;
  }

  test('inline commands: output lines as step output, stderr as errors, the remote script removed', async () => {
    const remote = join(work, 'inline.sh');
    const lines = await provision({ inline: ['echo hello', 'echo oops >&2', 'printf "a\\rb\\n"', 'echo "$PACKER_BUILD_NAME/$PACKER_BUILDER_TYPE"'], remote_path: remote });
    assert.match(lines[0]!, /^==> Provisioning with shell script: .*\/packer-shell\d+$/);
    // stdout and stderr are separate streams: their relative order is not defined.
    assert.deepEqual(lines.filter((l) => l.startsWith('    ')), ['    hello', '    b', '    test/null']);
    assert.deepEqual(lines.slice(1).filter((l) => l.startsWith('==> ')), ['==> oops']);
    assert.equal(existsSync(remote), false);
  });

  test('a script file with CRLF line endings runs; skip_clean keeps it', async () => {
    await writeFile(join(work, 'crlf.sh'), '#!/bin/sh\r\necho "crlf ok"\r\n');
    const remote = join(work, 'kept.sh');
    const lines = await provision({ script: join(work, 'crlf.sh'), remote_path: remote, skip_clean: true });
    assert.deepEqual(lines, [`==> Provisioning with shell script: ${join(work, 'crlf.sh')}`, '    crlf ok']);
    assert.equal(existsSync(remote), true);
  });

  test('relative scripts resolve against the working folder and keep their name in the output', async () => {
    await writeFile(join(work, 'one.sh'), 'echo one\n');
    await writeFile(join(work, 'two.sh'), 'echo two\n');
    // Packer checks scripts against the folder it was started in: so does prepare.
    const cwd = process.cwd();
    process.chdir(work);
    let lines: string[];
    try {
      lines = await provision({ scripts: ['one.sh', 'two.sh'], remote_folder: work, remote_file: 'rel.sh' });
    } finally {
      process.chdir(cwd);
    }
    assert.deepEqual(lines, ['==> Provisioning with shell script: one.sh', '    one', '==> Provisioning with shell script: two.sh', '    two']);
  });

  test('exit codes: a disallowed one fails with Packer\'s message; valid_exit_codes allows others', async () => {
    await assert.rejects(provision({ inline: ['exit 3'] }), (err: unknown) => {
      assert.ok(err instanceof UserError);
      assert.equal(err.message, 'Script exited with non-zero exit status: 3.Allowed exit codes are: [0]');
      return true;
    });
    await assert.rejects(provision({ inline: ['exit 4'], valid_exit_codes: [0, 3] }), {
      message: 'Script exited with non-zero exit status: 4.Allowed exit codes are: [0 3]',
    });
    await provision({ inline: ['exit 3'], valid_exit_codes: [0, 3] });
  });

  test('environment values reach the script exactly, however hostile', async () => {
    const marker = join(work, 'pwned');
    const hostile = `it's "q" $(touch ${marker}) \`touch ${marker}\` ; touch ${marker} \\ '"'"' $HOME`;
    const lines = await provision({
      environment_vars: [`HOSTILE=${hostile}`, 'EMPTY=', 'EQ=a=b'],
      env: { FROM_MAP: "x'y", EQ: 'overridden' },
      inline: ['printf "%s\\n" "$HOSTILE" "[$EMPTY]" "$EQ" "$FROM_MAP"'],
    });
    assert.deepEqual(lines.slice(1), [`    ${hostile}`, '    []', '    overridden', "    x'y"]);
    assert.equal(existsSync(marker), false);
  });

  test('execute_command placeholders and use_env_var_file', async () => {
    const custom = await provision({ inline: ['echo "$1 $V"'], environment_vars: ['V=v1'], execute_command: '{{ .Vars }} sh {{ .Path }} arg' });
    assert.deepEqual(custom.slice(1), ['    arg v1']);
    const viaFile = await provision({ inline: ['echo "$V"'], environment_vars: ["V=from 'file'"], use_env_var_file: true, remote_folder: work });
    assert.deepEqual(viaFile.slice(1), ["    from 'file'"]);
    // Every script can source the variables file, not only the first.
    await writeFile(join(work, 'v1.sh'), 'echo "one: $V"\n');
    await writeFile(join(work, 'v2.sh'), 'echo "two: $V"\n');
    const twoScripts = await provision({ scripts: [join(work, 'v1.sh'), join(work, 'v2.sh')], environment_vars: ['V=x'], use_env_var_file: true, remote_folder: work });
    assert.deepEqual(twoScripts.filter((l) => l.startsWith('    ')), ['    one: x', '    two: x']);
    assert.deepEqual((await readdir(work)).filter((n) => n.startsWith('varfile_')), []);
  });

  test('a dropped connection fails the step unless expect_disconnect; then the clean-up reconnects', async () => {
    await assert.rejects(provision({ inline: dropSession }), /^UserError: Script disconnected unexpectedly\. If you expected your script to disconnect/);
    const remote = join(work, 'dropped.sh');
    await provision({ inline: dropSession, expect_disconnect: true, remote_path: remote });
    assert.equal(existsSync(remote), false);
    assert.deepEqual(await provision({ inline: ['echo still here'] }).then((l) => l.slice(1)), ['    still here']);
  });

  test('expect_disconnect across a "reboot": the clean-up retries until SSH is back (start_retry_timeout)', async () => {
    const marker = join(work, 'rebooting');
    const remote = join(work, 'reboot.sh');
    const run = provision({
      inline: [`touch ${marker}`, 'sleep 0.5', ...dropSession],
      expect_disconnect: true,
      start_retry_timeout: '30s',
      remote_path: remote,
    });
    while (!existsSync(marker)) await new Promise((r) => setTimeout(r, 50));
    // Down before the session drops, so the first clean-up attempt is refused and retried.
    await sshd.pause();
    await new Promise((r) => setTimeout(r, 1000));
    await sshd.resume();
    await run;
    assert.equal(existsSync(remote), false);
  });

  test('pause_after pauses, saying so', async () => {
    const lines = await provision({ inline: ['true'], pause_after: '10ms' });
    assert.equal(lines.at(-1), '==> Pausing 10ms after this provisioner...');
  });

  test('cancelling during pause_after stops at once with the reason', async () => {
    const ac = new AbortController();
    const ctx = testContext({ cwd: work, signal: ac.signal });
    const pending = shellProvisioner.run(prepared({ inline: ['true'], pause_after: '1h' }), { ...ctx, comm });
    while (ctx.ui.lines.at(-1) !== '==> Pausing 1h0m0s after this provisioner...') await new Promise((r) => setTimeout(r, 20));
    ac.abort(new Error('interrupted by test'));
    await assert.rejects(pending, { message: 'interrupted by test' });
  });

  test('ssh_pty: the script runs on a terminal', async () => {
    const c = sshCommunicator.prepare({ ssh_host: sshd.host, ssh_port: sshd.port, ssh_username: sshd.user, ssh_private_key_file: sshd.keyPath, ssh_pty: true });
    const ptyComm = (await sshCommunicator.connect(c.config!, testContext())).comm;
    try {
      const ctx = testContext({ cwd: work });
      await shellProvisioner.run(prepared({ inline: ['tty >/dev/null && echo on a tty'] }), { ...ctx, comm: ptyComm });
      assert.deepEqual(ctx.ui.lines.slice(1), ['    on a tty']);
    } finally {
      await ptyComm.close();
    }
  });
});

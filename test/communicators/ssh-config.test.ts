import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { communicators } from '../../src/communicators/registry.js';
import { expandUser, prepareSshConfig } from '../../src/communicators/ssh-config.js';

test('defaults follow Packer: port 22, 5m timeout, 10 handshake attempts, 5s keep-alive, scp', () => {
  const r = prepareSshConfig({ ssh_host: 'h', ssh_username: 'u', ssh_password: 'p' });
  assert.deepEqual(r.errors, []);
  const c = r.config!;
  assert.equal(c.port, 22);
  assert.equal(c.timeoutMs, 300_000);
  assert.equal(c.handshakeAttempts, 10);
  assert.equal(c.keepAliveMs, 5000);
  assert.equal(c.fileTransferMethod, 'scp');
  assert.equal(c.pty, false);
  assert.equal(c.pauseBeforeConnectingMs, 0);
  assert.equal(c.bastion, undefined);
});

test('setting only ssh_timeout leaves handshake attempts unlimited, as in Packer', () => {
  const c = prepareSshConfig({ ssh_host: 'h', ssh_username: 'u', ssh_timeout: '90s' }).config!;
  assert.equal(c.timeoutMs, 90_000);
  assert.equal(c.handshakeAttempts, 0);
  const d = prepareSshConfig({ ssh_host: 'h', ssh_username: 'u', ssh_handshake_attempts: 3 }).config!;
  assert.equal(d.timeoutMs, 0);
  assert.equal(d.handshakeAttempts, 3);
});

test('durations are Go durations; a malformed one is an error naming the attribute', () => {
  const c = prepareSshConfig({ ssh_username: 'u', ssh_keep_alive_interval: '-1s', pause_before_connecting: '1m30s' }).config!;
  assert.equal(c.keepAliveMs, -1000);
  assert.equal(c.pauseBeforeConnectingMs, 90_000);
  const bad = prepareSshConfig({ ssh_username: 'u', ssh_timeout: 'soon' });
  assert.equal(bad.config, undefined);
  assert.match(bad.errors.join('\n'), /ssh_timeout/);
});

test('errors use Packer wording', () => {
  const r = prepareSshConfig({ ssh_file_transfer_method: 'rsync', ssh_private_key_file: '/nonexistent/key', ssh_bastion_host: 'b' });
  assert.equal(r.config, undefined);
  assert.deepEqual(r.errors, [
    "ssh_file_transfer_method ('rsync') is invalid, valid methods: sftp, scp",
    'An ssh_username must be specified\n  Note: some builders used to default ssh_username to "root".',
    'ssh_private_key_file is invalid: stat /nonexistent/key: no such file or directory',
  ]);
  assert.deepEqual(prepareSshConfig({ ssh_username: 'u', ssh_bastion_host: 'b' }).errors, [
    'ssh_bastion_password, ssh_bastion_private_key_file or ssh_bastion_agent_auth must be specified',
  ]);
});

test('ssh_host_key_policy is "ignore" by default (as in Packer) and must be a known policy', () => {
  const c = prepareSshConfig({ ssh_username: 'u' }).config!;
  assert.equal(c.hostKeyPolicy, 'ignore');
  assert.equal(c.knownHostsFile, join(homedir(), '.ssh/known_hosts'));
  assert.deepEqual(prepareSshConfig({ ssh_username: 'u', ssh_host_key_policy: 'tofu' }).errors, [
    "ssh_host_key_policy ('tofu') is invalid, valid policies: ignore (the default, as in Packer: host keys are not checked), strict (host keys must be in ssh_known_hosts_file)",
  ]);
});

test('a key file that is not a key is refused at prepare time', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ssh-config-'));
  try {
    const path = join(dir, 'id');
    await writeFile(path, 'not a key\n');
    const r = prepareSshConfig({ ssh_username: 'u', ssh_private_key_file: path });
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0]!, /^ssh_private_key_file is invalid: /);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the bastion defaults to port 22 and to the main private key', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ssh-config-'));
  try {
    const { execFileSync } = await import('node:child_process');
    const key = join(dir, 'id');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const c = prepareSshConfig({ ssh_username: 'u', ssh_private_key_file: key, ssh_bastion_host: 'b', ssh_bastion_username: 'bu' }).config!;
    assert.deepEqual(c.bastion, { host: 'b', port: 22, username: 'bu', password: undefined, privateKeyFile: key, agentAuth: false });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('~ in key paths is the home directory', () => {
  assert.equal(expandUser('~/.ssh/id'), join(homedir(), '.ssh/id'));
  assert.equal(expandUser('~'), homedir());
  assert.equal(expandUser('/abs/~x'), '/abs/~x');
});

test('the registry has none and ssh', () => {
  assert.deepEqual([...communicators.keys()].sort(), ['none', 'ssh']);
});

/**
 * The ssh communicator against a real sshd (test/helpers/sshd.ts) on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { UserError } from '../../src/errors.js';
import { noneCommunicator } from '../../src/communicators/none.js';
import { sshCommunicator } from '../../src/communicators/ssh.js';
import type { Communicator } from '../../src/sdk/component.js';
import { freePort, startSshd, sshdSkipReason, type Sshd } from '../helpers/sshd.js';
import { testContext } from './context.js';

const skip = sshdSkipReason();

async function connect(raw: Record<string, unknown>, ctx = testContext()) {
  const prepared = sshCommunicator.prepare(raw);
  assert.deepEqual(prepared.errors, []);
  const { comm, info } = await sshCommunicator.connect(prepared.config!, ctx);
  return { comm, info, ctx };
}

async function run(comm: Communicator, command: string) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const result = await comm.start({ command, onStdout: (l) => stdout.push(l), onStderr: (l) => stderr.push(l) }, new AbortController().signal);
  return { ...result, stdout, stderr };
}

describe('ssh communicator', { skip }, () => {
  let sshd: Sshd;
  let work: string;
  let keyAuth: Record<string, unknown>;

  before(async () => {
    const started = await startSshd({ passwordUser: true });
    if ('skip' in started) throw new Error(started.skip);
    sshd = started;
    work = await mkdtemp(join(tmpdir(), 'ssh-comm-'));
    keyAuth = { ssh_host: sshd.host, ssh_port: sshd.port, ssh_username: sshd.user, ssh_private_key_file: sshd.keyPath };
  });
  after(async () => {
    await sshd?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('key auth: runs commands with their exit status and output line by line', async () => {
    const { comm, info, ctx } = await connect(keyAuth);
    try {
      assert.deepEqual(ctx.ui.lines, [
        '==> Using ssh communicator to connect: 127.0.0.1',
        '==> Waiting for SSH to become available...',
        '==> Connected to SSH!',
      ]);
      assert.equal(info.type, 'ssh');
      assert.equal(info.port, sshd.port);
      assert.match(info.sshPrivateKey ?? '', /BEGIN OPENSSH PRIVATE KEY/);
      assert.equal(info.sshPublicKey, (await readFile(`${sshd.keyPath}.pub`, 'utf8')).split(' ').slice(0, 2).join(' '));
      const r = await run(comm, 'echo one; echo two >&2; printf "no newline"; exit 3');
      assert.deepEqual(r, { exitStatus: 3, disconnected: false, stdout: ['one', 'no newline'], stderr: ['two'] });
      const killed = await run(comm, 'kill -9 $$');
      assert.equal(killed.exitStatus, 128 + 9);
    } finally {
      await comm.close();
    }
  });

  test('password auth', async (t) => {
    if (sshd.passwordUser === undefined) return t.skip(sshd.passwordSkip);
    const { comm } = await connect({ ssh_host: sshd.host, ssh_port: sshd.port, ssh_username: sshd.passwordUser, ssh_password: sshd.password });
    try {
      assert.deepEqual((await run(comm, 'id -un')).stdout, [sshd.passwordUser]);
    } finally {
      await comm.close();
    }
  });

  test('a wrong key fails with the handshake error once the attempts are used up', async () => {
    const ctx = testContext();
    await assert.rejects(
      connect({ ...keyAuth, ssh_private_key_file: sshd.wrongKeyPath, ssh_handshake_attempts: 1 }, ctx),
      (err: unknown) => {
        assert.ok(err instanceof UserError);
        assert.match(err.message, /ssh: handshake failed: ssh: unable to authenticate, attempted methods \[none publickey\], no supported methods remain$/);
        return true;
      },
    );
    assert.match(ctx.ui.lines.at(-1)!, /^==> Error waiting for SSH: An authentication error occurred/);
  });

  test('a wrong password is refused the same way', async (t) => {
    if (sshd.passwordUser === undefined) return t.skip(sshd.passwordSkip);
    await assert.rejects(
      connect({ ssh_host: sshd.host, ssh_port: sshd.port, ssh_username: sshd.passwordUser, ssh_password: 'wrong', ssh_handshake_attempts: 1 }),
      /attempted methods \[keyboard-interactive none password\]|attempted methods \[none password\]/,
    );
  });

  test('a refused port is retried until ssh_timeout, then fails naming the timeout and the cause', async () => {
    const port = await freePort();
    const ctx = testContext();
    await assert.rejects(connect({ ...keyAuth, ssh_port: port, ssh_timeout: '1s' }, ctx), (err: unknown) => {
      assert.ok(err instanceof UserError);
      assert.equal(
        err.message,
        `Timeout waiting for SSH. Could not connect to 127.0.0.1:${port} within ssh_timeout (1s). Last error: dial tcp 127.0.0.1:${port}: connect: connection refused`,
      );
      return true;
    });
    assert.equal(ctx.ui.lines.at(-1), `==> Timeout waiting for SSH. Could not connect to 127.0.0.1:${port} within ssh_timeout (1s). Last error: dial tcp 127.0.0.1:${port}: connect: connection refused`);
  });

  test('cancelling stops waiting for SSH', async () => {
    const port = await freePort();
    const ac = new AbortController();
    const ctx = testContext({ signal: ac.signal });
    const pending = connect({ ...keyAuth, ssh_port: port }, ctx);
    setTimeout(() => ac.abort(new Error('interrupted')), 50);
    await assert.rejects(pending, /interrupted/);
  });

  test('pause_before_connecting connects, pauses and connects again', async () => {
    const { comm, ctx } = await connect({ ...keyAuth, pause_before_connecting: '10ms' });
    await comm.close();
    assert.deepEqual(ctx.ui.lines, [
      '==> Using ssh communicator to connect: 127.0.0.1',
      '==> Waiting for SSH to become available...',
      '==> Connected to SSH!',
      '==> Pausing 10ms before connecting...',
      '==> Waiting for SSH to become available...',
      '==> Connected to SSH!',
    ]);
  });

  test('ssh_pty runs commands on a terminal', async () => {
    const plain = await connect(keyAuth);
    const withPty = await connect({ ...keyAuth, ssh_pty: true });
    try {
      assert.equal((await run(plain.comm, 'tty')).exitStatus, 1);
      const r = await run(withPty.comm, 'tty');
      assert.equal(r.exitStatus, 0);
      assert.match(r.stdout[0]!, /^\/dev\/pts\/\d+\r?$/);
    } finally {
      await plain.comm.close();
      await withPty.comm.close();
    }
  });

  test('a dropped connection is reported as a disconnect, and the next command reconnects', async () => {
    const { comm } = await connect(keyAuth);
    try {
      // The shell's parent is this session's sshd process: killing it drops the connection.
      const r = await run(comm, 'echo before; kill -9 $PPID; sleep 5');
      assert.equal(r.disconnected, true);
      assert.equal(r.exitStatus, undefined);
      assert.deepEqual((await run(comm, 'echo after')).stdout, ['after']);
    } finally {
      await comm.close();
    }
  });

  test('cancelling a command kills its remote process tree and rejects', async (t) => {
    // sshd refuses "signal" requests for root sessions (they run without privilege separation).
    if (sshd.passwordUser === undefined) return t.skip(`needs a non-root login: ${sshd.passwordSkip}`);
    const { comm } = await connect({ ssh_host: sshd.host, ssh_port: sshd.port, ssh_username: sshd.passwordUser, ssh_password: sshd.password });
    try {
      const ac = new AbortController();
      const pending = comm.start({ command: 'sh -c "sleep 30.123; echo never"; echo never' }, ac.signal);
      setTimeout(() => ac.abort(new Error('cancelled by test')), 300);
      await assert.rejects(pending, /cancelled by test/);
      // sshd delivers the signal to the command's process group: the whole remote tree ends.
      let alive = true;
      for (let i = 0; i < 50 && alive; i++) {
        alive = (await run(comm, "pgrep -f 'sleep 30[.]123'")).exitStatus === 0;
        if (alive) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(alive, false);
    } finally {
      await comm.close();
    }
  });

  test('ssh_agent_auth logs in with the agent; the agent is forwarded unless disabled', async (t) => {
    if (!existsSync('/usr/bin/ssh-agent') || !existsSync('/usr/bin/ssh-add')) return t.skip('ssh-agent not installed');
    const sock = join(work, 'agent.sock');
    const agent = spawn('/usr/bin/ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    const saved = process.env.SSH_AUTH_SOCK;
    try {
      while (!existsSync(sock)) await new Promise((r) => setTimeout(r, 20));
      execFileSync('/usr/bin/ssh-add', ['-q', sshd.keyPath], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
      process.env.SSH_AUTH_SOCK = sock;
      const base = { ssh_host: sshd.host, ssh_port: sshd.port, ssh_username: sshd.user, ssh_agent_auth: true };
      const forwarded = await connect(base);
      const notForwarded = await connect({ ...base, ssh_disable_agent_forwarding: true });
      try {
        assert.match((await run(forwarded.comm, 'echo "[$SSH_AUTH_SOCK]"')).stdout[0]!, /^\[\/.+\]$/);
        assert.deepEqual((await run(notForwarded.comm, 'echo "[$SSH_AUTH_SOCK]"')).stdout, ['[]']);
      } finally {
        await forwarded.comm.close();
        await notForwarded.comm.close();
      }
      // The bastion can log in with the agent too (here the server is its own bastion).
      const hop = await connect({ ...base, ssh_bastion_host: sshd.host, ssh_bastion_port: sshd.port, ssh_bastion_username: sshd.user, ssh_bastion_agent_auth: true });
      try {
        assert.deepEqual((await run(hop.comm, 'echo hop')).stdout, ['hop']);
      } finally {
        await hop.comm.close();
      }
      delete process.env.SSH_AUTH_SOCK;
      await assert.rejects(connect({ ...base, ssh_timeout: '1s' }), /SSH_AUTH_SOCK is not set/);
    } finally {
      if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
      else process.env.SSH_AUTH_SOCK = saved;
      agent.kill();
    }
  });

  test('ssh_host_key_policy = "strict" checks the host key against ssh_known_hosts_file', async () => {
    const hostKey = (await readFile(join(sshd.dir, 'host_ed25519.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
    const otherKey = (await readFile(`${sshd.wrongKeyPath}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
    const name = `[127.0.0.1]:${sshd.port}`;
    const file = join(work, 'known_hosts');
    const strict = { ...keyAuth, ssh_host_key_policy: 'strict', ssh_known_hosts_file: file };

    await writeFile(file, `# comment\nother.example ${otherKey}\n${name} ${hostKey}\n`);
    await (await connect(strict)).comm.close();
    execFileSync('/usr/bin/ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
    assert.doesNotMatch(await readFile(file, 'utf8'), /127\.0\.0\.1/);
    await (await connect(strict)).comm.close();

    await writeFile(file, '');
    const ctx = testContext();
    await assert.rejects(connect(strict, ctx), {
      message: `ssh: handshake failed: ssh: host key refused: ${name} is not a known host in ${file}; add its key with: ssh-keyscan -p ${sshd.port} 127.0.0.1 >> ${file}`,
    });
    assert.match(ctx.ui.lines.at(-1)!, /^==> Error waiting for SSH: ssh: handshake failed: ssh: host key refused: /);
    await writeFile(file, `${name} ${otherKey}\n`);
    await assert.rejects(connect(strict), /does not match the one in .*someone may be intercepting the connection/);
  });

  for (const method of ['scp', 'sftp'] as const) {
    test(`${method}: upload and download of files and directories, with Packer's trailing-slash rule`, async () => {
      const base = join(work, method);
      const local = join(base, 'local');
      const remote = join(base, 'remote');
      await mkdir(join(local, 'tree', 'sub'), { recursive: true });
      await mkdir(remote, { recursive: true });
      await writeFile(join(local, 'tree', 'a.txt'), 'A\n');
      await writeFile(join(local, 'tree', 'sub', 'b.txt'), 'B\n', { mode: 0o640 });
      const { comm } = await connect({ ...keyAuth, ssh_file_transfer_method: method });
      const signal = new AbortController().signal;
      try {
        // A file, with its mode, to a path with a space and a quote in it.
        const odd = join(remote, "it's a file.txt");
        await comm.upload(odd, Buffer.from('content\n'), 0o600, signal);
        assert.equal(await readFile(odd, 'utf8'), 'content\n');
        assert.equal((await stat(odd)).mode & 0o777, 0o600);

        // "tree" creates remote/with/tree; "tree/" copies the contents.
        await mkdir(join(remote, 'with'));
        await mkdir(join(remote, 'without'));
        await comm.uploadDir(join(remote, 'with'), join(local, 'tree'), [], signal);
        await comm.uploadDir(join(remote, 'without'), `${join(local, 'tree')}/`, [], signal);
        assert.equal(await readFile(join(remote, 'with', 'tree', 'sub', 'b.txt'), 'utf8'), 'B\n');
        assert.equal((await stat(join(remote, 'with', 'tree', 'sub', 'b.txt'))).mode & 0o777, 0o640);
        assert.deepEqual((await readdir(join(remote, 'without'))).sort(), ['a.txt', 'sub']);

        // Downloads.
        const got = join(base, 'got.txt');
        await comm.download(odd, got, signal);
        assert.equal(await readFile(got, 'utf8'), 'content\n');
        await comm.downloadDir(`${join(remote, 'with', 'tree')}/`, join(base, 'down'), signal);
        assert.equal(await readFile(join(base, 'down', 'tree', 'sub', 'b.txt'), 'utf8'), 'B\n');
        await comm.downloadDir(join(remote, 'with', 'tree', '*.txt'), join(base, 'glob'), signal);
        assert.deepEqual(await readdir(join(base, 'glob')), ['a.txt']);

        // A missing remote file is an error that names it.
        await assert.rejects(comm.download(join(remote, 'missing'), join(base, 'x'), signal), /missing/);
      } finally {
        await comm.close();
      }
    });
  }

  test('a bastion hop: the connection to the target goes through the bastion', async () => {
    const target = await startSshd({ extraConfig: ['LogLevel DEBUG1'] });
    const bastion = await startSshd({ extraConfig: ['LogLevel DEBUG1'] });
    if ('skip' in target || 'skip' in bastion) throw new Error('sshd vanished');
    try {
      const { comm } = await connect({
        ssh_host: target.host,
        ssh_port: target.port,
        ssh_username: target.user,
        ssh_private_key_file: target.keyPath,
        ssh_bastion_host: bastion.host,
        ssh_bastion_port: bastion.port,
        ssh_bastion_username: bastion.user,
        ssh_bastion_private_key_file: bastion.keyPath,
      });
      try {
        assert.deepEqual((await run(comm, 'echo through')).stdout, ['through']);
      } finally {
        await comm.close();
      }
      const log = await readFile(bastion.logPath, 'utf8');
      assert.match(log, new RegExp(`direct_tcpip: originator .* target 127\\.0\\.0\\.1 port ${target.port}`));
    } finally {
      await target.stop();
      await bastion.stop();
    }
  });

  test('a bastion that refuses the login is reported as such', async () => {
    const port = await freePort();
    await assert.rejects(
      connect({ ...keyAuth, ssh_port: port, ssh_timeout: '1s', ssh_bastion_host: sshd.host, ssh_bastion_port: sshd.port, ssh_bastion_username: sshd.user, ssh_bastion_private_key_file: sshd.wrongKeyPath }),
      /Timeout waiting for SSH\..*Last error: Error connecting to bastion 127\.0\.0\.1:\d+: ssh: handshake failed: ssh: unable to authenticate/,
    );
  });
});

test('none communicator: commands do nothing, file transfers say they cannot', async () => {
  const { comm, info } = await noneCommunicator.connect();
  assert.equal(info.type, 'none');
  assert.deepEqual(await comm.start({ command: 'anything' }, new AbortController().signal), { exitStatus: 0, disconnected: false });
  await assert.rejects(comm.upload('/x', Buffer.from(''), undefined, new AbortController().signal), {
    message: "Upload is not implemented when communicator = 'none'",
  });
});

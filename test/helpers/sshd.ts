/**
 * A throwaway OpenSSH server for tests: `/usr/sbin/sshd -D` on 127.0.0.1 at a free high port, with
 * its own host key, client key, authorized_keys, config and log in a temp dir (absolute paths,
 * `UsePAM no`, `StrictModes no`, `Subsystem sftp internal-sftp`), logging in as the current user
 * with the client key.
 *
 * Usage:
 *   const sshd = await startSshd();           // or { passwordUser: true }
 *   if ('skip' in sshd) return t.skip(sshd.skip);
 *   try { … sshd.host, sshd.port, sshd.user, sshd.keyPath … } finally { await sshd.stop(); }
 *
 * With `passwordUser`, and only when running as root, a user with a random password is created
 * (`useradd` + `chpasswd`) for this server and removed by `stop()`; otherwise `passwordSkip` says why
 * there is none.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

const SSHD = '/usr/sbin/sshd';
const SSH_KEYGEN = '/usr/bin/ssh-keygen';

export interface Sshd {
  host: string;
  port: number;
  /** The user logging in with `keyPath` (the current user). */
  user: string;
  /** Private key (ed25519, no passphrase) authorized for `user`. */
  keyPath: string;
  /** A second private key that is not authorized anywhere. */
  wrongKeyPath: string;
  /** A user with a password (only with `passwordUser` and when running as root). */
  passwordUser?: string;
  password?: string;
  /** Why there is no password user, when one was asked for. */
  passwordSkip?: string;
  /** The server's temp dir (config, keys, log). */
  dir: string;
  logPath: string;
  /** Stops listening (new connections are refused; open sessions go on), as while a machine reboots. */
  pause(): Promise<void>;
  /** Listens again on the same port. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** Servers still running and test users still present, removed when the test process exits
 * without calling `stop()`. */
const running = new Set<ChildProcess>();
const users = new Set<string>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGTERM');
  for (const user of users) spawnSync('/usr/sbin/userdel', ['-r', '-f', user], { stdio: 'ignore' });
});

export interface SshdOptions {
  passwordUser?: boolean;
  /** Extra sshd_config lines; they take precedence over the defaults. */
  extraConfig?: string[];
}

/** Why sshd tests cannot run here, or undefined when they can. */
export function sshdSkipReason(): string | undefined {
  if (!existsSync(SSHD)) return `${SSHD} not installed (apt-get install openssh-server)`;
  if (!existsSync(SSH_KEYGEN)) return `${SSH_KEYGEN} not installed (apt-get install openssh-client)`;
  return undefined;
}

function run(file: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, (err, stdout, stderr) => (err ? reject(new Error(`${file} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout)));
    if (input !== undefined) child.stdin?.end(input);
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function createPasswordUser(name: string): Promise<string> {
  const password = randomBytes(12).toString('base64url');
  // useradd may find /etc/passwd locked by a parallel test; try again briefly.
  for (let attempt = 0; ; attempt++) {
    try {
      await run('/usr/sbin/useradd', ['-m', '-s', '/bin/sh', name]);
      break;
    } catch (err) {
      if (attempt >= 20) throw err;
      await sleep(100);
    }
  }
  for (let attempt = 0; ; attempt++) {
    try {
      await run('/usr/sbin/chpasswd', [], `${name}:${password}\n`);
      return password;
    } catch (err) {
      if (attempt >= 20) throw err;
      await sleep(100);
    }
  }
}

async function removeUser(name: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      await run('/usr/sbin/userdel', ['-r', '-f', name]);
      return;
    } catch {
      await sleep(100);
    }
  }
}

export async function startSshd(options: SshdOptions = {}): Promise<Sshd | { skip: string }> {
  const reason = sshdSkipReason();
  if (reason !== undefined) return { skip: reason };
  const dir = await mkdtemp(join(tmpdir(), 'builder-sshd-'));
  // Readable by the password user, whose authorized_keys lookup runs as that user.
  await chmod(dir, 0o755);
  const hostKey = join(dir, 'host_ed25519');
  const keyPath = join(dir, 'client_ed25519');
  const wrongKeyPath = join(dir, 'wrong_ed25519');
  const authorizedKeys = join(dir, 'authorized_keys');
  const pidFile = join(dir, 'sshd.pid');
  const logPath = join(dir, 'sshd.log');
  const configPath = join(dir, 'sshd_config');
  await Promise.all([
    run(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]),
    run(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-f', keyPath]),
    run(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-f', wrongKeyPath]),
  ]);
  await writeFile(authorizedKeys, await readFile(`${keyPath}.pub`), { mode: 0o644 });
  await mkdir('/run/sshd', { recursive: true }).catch(() => undefined);

  let passwordUser: string | undefined;
  let password: string | undefined;
  let passwordSkip: string | undefined;
  const port = await freePort();
  if (options.passwordUser) {
    if (process.getuid?.() !== 0) passwordSkip = 'password login needs a test user, which only root can create';
    else {
      passwordUser = `bsshd${port}`;
      users.add(passwordUser);
      password = await createPasswordUser(passwordUser);
    }
  }

  // sshd keeps the first value it reads for an option: extra lines come first to override ours.
  const config = [
    ...(options.extraConfig ?? []),
    'ListenAddress 127.0.0.1',
    `Port ${port}`,
    `HostKey ${hostKey}`,
    `PidFile ${pidFile}`,
    `AuthorizedKeysFile ${authorizedKeys}`,
    'UsePAM no',
    'StrictModes no',
    'PermitRootLogin yes',
    'PubkeyAuthentication yes',
    'PasswordAuthentication yes',
    'KbdInteractiveAuthentication no',
    'AllowTcpForwarding yes',
    'AllowAgentForwarding yes',
    'MaxAuthTries 20',
    'MaxStartups 100',
    'LogLevel VERBOSE',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
  await writeFile(configPath, config);

  // The listening sshd; `pause()` stops it (new connections are refused, open sessions live on,
  // as while a machine reboots) and `resume()` starts it again on the same port.
  let child: ChildProcess | undefined;
  const halt = async (): Promise<void> => {
    const current = child;
    child = undefined;
    if (current === undefined || current.exitCode !== null || current.signalCode !== null) return;
    const done = new Promise((resolve) => current.once('exit', resolve));
    current.kill('SIGTERM');
    await done;
  };
  const cleanup = async (): Promise<void> => {
    await halt();
    if (passwordUser !== undefined) {
      await removeUser(passwordUser);
      users.delete(passwordUser);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const launch = async (): Promise<void> => {
    const started = spawn(SSHD, ['-D', '-f', configPath, '-E', logPath], { stdio: 'ignore' });
    child = started;
    running.add(started);
    started.once('exit', () => running.delete(started));
    for (let i = 0; !(await canConnect(port)); i++) {
      if (started.exitCode !== null || i > 100) {
        const log = await readFile(logPath, 'utf8').catch(() => '');
        throw new Error(`sshd did not start on port ${port}: ${log}`);
      }
      await sleep(20);
    }
  };
  try {
    await launch();
  } catch (err) {
    await cleanup();
    throw err;
  }
  return {
    host: '127.0.0.1',
    port,
    user: userInfo().username,
    keyPath,
    wrongKeyPath,
    passwordUser,
    password,
    passwordSkip,
    dir,
    logPath,
    pause: halt,
    resume: launch,
    stop: cleanup,
  };
}

/**
 * Opening connections for the `ssh` communicator (Packer's StepConnect + StepConnectSSH): waits for
 * SSH to become available, retrying refused or unreachable connections until ssh_timeout and
 * failed logins up to ssh_handshake_attempts; then, with pause_before_connecting, disconnects,
 * pauses and connects again. Imported by ssh.ts only when a connection is opened, because it loads
 * `ssh2` (about 60 ms); validation needs only ssh-config.ts.
 *
 * Output, as Packer 1.6.6 prints it: "Using ssh communicator to connect: HOST", "Waiting for SSH to become
 * available...", "Connected to SSH!", "Pausing 10s before connecting...".
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import ssh2 from 'ssh2';
import { UserError } from '../errors.js';
import type { Communicator, ConnectionInfo, StepContext } from '../sdk/component.js';
import { goDuration } from '../ui/go-duration.js';
import { pause } from './sleep.js';
import { SshCommunicator } from './ssh-communicator.js';
import type { SshConfig } from './ssh-config.js';
import { DialError, dialSsh, type SshConnection } from './ssh-dial.js';
import { knownHostsCheck } from './known-hosts.js';
import { log } from '../log.js';

/** Packer's pauses: between connection attempts, and after a refused login. */
const RETRY_PAUSE_MS = 5000;
const AUTH_RETRY_PAUSE_MS = 2000;
const HANDSHAKE_TIMEOUT_MS = 60_000;

function dialer(config: SshConfig): (signal: AbortSignal) => Promise<SshConnection> {
  return (signal) =>
    dialSsh({
      target: { host: config.host, port: config.port, username: config.username, password: config.password, privateKeyFile: config.privateKeyFile, agentAuth: config.agentAuth },
      bastion: config.bastion,
      keepAliveMs: config.keepAliveMs,
      agentForwarding: !config.disableAgentForwarding,
      handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
      ciphers: config.ciphers,
      keyExchangeAlgorithms: config.keyExchangeAlgorithms,
      hostKeyCheck: config.hostKeyPolicy === 'strict' ? (host, port) => knownHostsCheck(config.knownHostsFile, host, port) : undefined,
      signal,
    });
}

function authErrorMessage(original: string): string {
  return (
    'An authentication error occurred when trying to connect via SSH. This can happen if your ' +
    'username/password are wrong. You may want to double-check your credentials as part of your ' +
    `debugging process. original error: ${original}`
  );
}

/** Retries `dial` until it succeeds, the handshake attempts run out, or ssh_timeout passes. */
async function waitForSsh(config: SshConfig, ctx: StepContext): Promise<SshConnection> {
  const dial = dialer(config);
  const loop = new AbortController();
  const onOuterAbort = (): void => loop.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onOuterAbort, { once: true });
  let timedOut = false;
  const timer =
    config.timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          loop.abort(new Error('ssh_timeout'));
        }, config.timeoutMs)
      : undefined;
  let lastError: string | undefined;
  let authFailures = 0;
  try {
    for (let first = true; ; first = false) {
      if (!first) await sleep(RETRY_PAUSE_MS, undefined, { signal: loop.signal });
      try {
        if (log.on) log.debug('ssh', `dialing ${config.username}@${config.host}:${config.port}`);
        const conn = await dial(loop.signal);
        if (log.on) log.info('ssh', `handshake complete with ${config.host}:${config.port}`);
        return conn;
      } catch (err) {
        if (loop.signal.aborted) throw err;
        if (!(err instanceof DialError)) throw err;
        if (log.on) log.debug('ssh', `${err.kind} error connecting to ${config.host}:${config.port}: ${err.message}`);
        lastError = err.message;
        if (err.kind === 'hostkey') throw new UserError('SSH_HOST_KEY', err.message);
        if (err.kind === 'auth') {
          authFailures++;
          lastError = authErrorMessage(err.message);
          if (config.handshakeAttempts > 0 && authFailures >= config.handshakeAttempts) {
            throw new UserError('SSH_AUTH', lastError);
          }
          await sleep(AUTH_RETRY_PAUSE_MS, undefined, { signal: loop.signal });
        }
      }
    }
  } catch (err) {
    if (timedOut) {
      const last = lastError === undefined ? '' : ` Last error: ${lastError}`;
      throw new UserError(
        'SSH_TIMEOUT',
        `Timeout waiting for SSH. Could not connect to ${config.host}:${config.port} within ssh_timeout (${goDuration(config.timeoutMs)}).${last}`,
      );
    }
    ctx.signal.throwIfAborted();
    throw err;
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onOuterAbort);
  }
}

async function connectOnce(config: SshConfig, ctx: StepContext): Promise<SshConnection> {
  ctx.ui.say('Waiting for SSH to become available...');
  try {
    const conn = await waitForSsh(config, ctx);
    ctx.ui.say('Connected to SSH!');
    return conn;
  } catch (err) {
    if (err instanceof UserError) {
      ctx.ui.error(err.code === 'SSH_TIMEOUT' ? err.message : `Error waiting for SSH: ${err.message}`);
    }
    throw err;
  }
}

/** The key pair as templates see it (`build.SSHPrivateKey`, `build.SSHPublicKey`). */
function keyInfo(path: string | undefined): Pick<ConnectionInfo, 'sshPrivateKey' | 'sshPublicKey'> {
  if (path === undefined) return {};
  const text = readFileSync(path, 'utf8');
  const parsed = ssh2.utils.parseKey(text);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key === undefined || key instanceof Error) return { sshPrivateKey: text };
  return { sshPrivateKey: text, sshPublicKey: `${key.type} ${key.getPublicSSH().toString('base64')}` };
}

/** Connects as the `ssh` communicator's `connect` does (see ssh.ts). */
export async function connectSsh(config: SshConfig, ctx: StepContext): Promise<{ comm: Communicator; info: ConnectionInfo }> {
  if (config.host === '') {
    throw new UserError('SSH_NO_HOST', 'ssh_host must be set: the ssh communicator does not know which machine to connect to.');
  }
  ctx.ui.say(`Using ssh communicator to connect: ${config.host}`);
  let conn = await connectOnce(config, ctx);
  if (config.pauseBeforeConnectingMs > 0) {
    conn.close();
    ctx.ui.say(`Pausing ${goDuration(config.pauseBeforeConnectingMs)} before connecting...`);
    await pause(config.pauseBeforeConnectingMs, ctx.signal);
    conn = await connectOnce(config, ctx);
  }
  const comm = new SshCommunicator(conn, { pty: config.pty, fileTransferMethod: config.fileTransferMethod, redial: dialer(config) });
  const info: ConnectionInfo = {
    type: 'ssh',
    host: config.host,
    port: config.port,
    user: config.username,
    password: config.password,
    ...keyInfo(config.privateKeyFile),
  };
  return { comm, info };
}

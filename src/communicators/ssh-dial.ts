/**
 * One attempt to open an SSH connection: TCP (directly, or through a bastion host's forwarded
 * channel), then the SSH handshake and authentication. Failures are `DialError`s whose `kind` says
 * whether retrying can help: `tcp` (refused, unreachable), `auth` (credentials refused — counted
 * against ssh_handshake_attempts), `handshake` (anything else in the SSH layer), `hostkey` (the
 * host key was refused by the known-hosts check; retrying cannot help).
 *
 * Authentication follows Packer's order: agent (ssh_agent_auth), private key, then password and
 * keyboard-interactive answered with the password. Host keys are accepted without checking, as
 * Packer does, unless `hostKeyCheck` is given.
 */
import { readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Client, type AnyAuthMethod, type AuthenticationType, type ConnectConfig } from 'ssh2';

export type DialErrorKind = 'tcp' | 'auth' | 'handshake' | 'hostkey';

export class DialError extends Error {
  constructor(
    readonly kind: DialErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'DialError';
  }
}

/** Who to log in as and how. */
export interface SshCredentials {
  username: string;
  password?: string;
  privateKeyFile?: string;
  agentAuth: boolean;
}

export interface DialTarget extends SshCredentials {
  host: string;
  port: number;
}

export interface DialOptions {
  target: DialTarget;
  bastion?: DialTarget;
  /** ssh2 keep-alive interval in ms; 0 disables. */
  keepAliveMs: number;
  /** Forward the local agent (SSH_AUTH_SOCK) to the remote side. */
  agentForwarding: boolean;
  handshakeTimeoutMs: number;
  ciphers?: string[];
  keyExchangeAlgorithms?: string[];
  /** Returns the check of the key `host:port` presents (undefined: accept every key). */
  hostKeyCheck?: (host: string, port: number) => (key: Buffer) => string | undefined;
  signal: AbortSignal;
}

/** An open connection; `closed` turns true when it drops. */
export interface SshConnection {
  readonly client: Client;
  readonly closed: boolean;
  close(): void;
}

/** Go-style description of a socket error ("connect: connection refused"). */
function describeSocketError(address: string, err: NodeJS.ErrnoException): string {
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'connect: connection refused',
    EHOSTUNREACH: 'connect: no route to host',
    ENETUNREACH: 'connect: network is unreachable',
    ETIMEDOUT: 'i/o timeout',
    ECONNRESET: 'connection reset by peer',
    ENOTFOUND: 'no such host',
    EAI_AGAIN: 'temporary failure in name resolution',
  };
  const reason = (err.code !== undefined ? reasons[err.code] : undefined) ?? err.message;
  return `dial tcp ${address}: ${reason}`;
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function tcpConnect(host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<Socket> {
  const address = joinHostPort(host, port);
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port });
    const fail = (err: Error): void => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onError = (err: NodeJS.ErrnoException): void => fail(new DialError('tcp', describeSocketError(address, err)));
    const onAbort = (): void => fail(new DialError('tcp', `dial tcp ${address}: operation was canceled`));
    const timer = setTimeout(() => fail(new DialError('tcp', `dial tcp ${address}: i/o timeout`)), timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('error', onError);
      signal.removeEventListener('abort', onAbort);
    };
    socket.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      cleanup();
      // Small request/response packets (scp acknowledgements) must not wait for Nagle's algorithm.
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

/** The auth methods to try, in Packer's order. */
function authMethods(creds: SshCredentials): AnyAuthMethod[] {
  const username = creds.username;
  const methods: AnyAuthMethod[] = [];
  if (creds.agentAuth) {
    const sock = process.env.SSH_AUTH_SOCK;
    if (sock === undefined || sock === '') throw new DialError('handshake', 'Cannot connect to SSH Agent: SSH_AUTH_SOCK is not set');
    methods.push({ type: 'agent', username, agent: sock });
  }
  if (creds.privateKeyFile !== undefined) {
    let key: Buffer;
    try {
      key = readFileSync(creds.privateKeyFile);
    } catch (err) {
      throw new DialError('handshake', `Error on reading SSH private key: ${(err as Error).message}`);
    }
    methods.push({ type: 'publickey', username, key });
  }
  if (creds.password !== undefined) {
    const password = creds.password;
    methods.push({ type: 'password', username, password });
    methods.push({
      type: 'keyboard-interactive',
      username,
      prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => password)),
    });
  }
  return methods;
}

/** Go's name for an auth method, as in "attempted methods [none publickey]". */
function goMethodName(type: AuthenticationType): string {
  return type === 'agent' ? 'publickey' : type;
}

function sshHandshake(sock: Duplex, creds: DialTarget, opts: DialOptions, hostLabel: string): Promise<Client> {
  let methods: AnyAuthMethod[];
  try {
    methods = authMethods(creds);
  } catch (err) {
    sock.destroy();
    return Promise.reject(err);
  }
  const attempted = new Set<string>();
  return new Promise((resolve, reject) => {
    const client = new Client();
    let settled = false;
    const config: ConnectConfig = {
      sock,
      username: creds.username,
      readyTimeout: opts.handshakeTimeoutMs,
      keepaliveInterval: opts.keepAliveMs > 0 ? opts.keepAliveMs : 0,
      keepaliveCountMax: 3,
      authHandler: (methodsLeft, _partial, next) => {
        if (attempted.size === 0 && methodsLeft === null) {
          attempted.add('none');
          next({ type: 'none', username: creds.username });
          return;
        }
        while (methods.length > 0) {
          const m = methods.shift()!;
          if (methodsLeft !== null && !methodsLeft.includes(m.type === 'agent' ? 'publickey' : m.type)) continue;
          attempted.add(goMethodName(m.type));
          next(m);
          return;
        }
        // ssh2's typings omit `false`, which ends authentication.
        (next as unknown as (m: false) => void)(false);
      },
    };
    let hostKeyError: string | undefined;
    const check = opts.hostKeyCheck?.(creds.host, creds.port);
    if (check !== undefined) {
      config.hostVerifier = (key: Buffer) => {
        hostKeyError = check(key);
        return hostKeyError === undefined;
      };
    }
    if (opts.agentForwarding) {
      const sockPath = process.env.SSH_AUTH_SOCK;
      if (sockPath !== undefined && sockPath !== '') {
        config.agent = sockPath;
        config.agentForward = true;
      }
    }
    if (opts.ciphers !== undefined || opts.keyExchangeAlgorithms !== undefined) {
      config.algorithms = {};
      if (opts.ciphers !== undefined) config.algorithms.cipher = opts.ciphers as never;
      if (opts.keyExchangeAlgorithms !== undefined) config.algorithms.kex = opts.keyExchangeAlgorithms as never;
    }
    const onAbort = (): void => {
      if (settled) return;
      settled = true;
      client.end();
      sock.destroy();
      reject(new DialError('handshake', `ssh: handshake with ${hostLabel} canceled`));
    };
    opts.signal.addEventListener('abort', onAbort, { once: true });
    client.once('ready', () => {
      opts.signal.removeEventListener('abort', onAbort);
      if (settled) return;
      settled = true;
      resolve(client);
    });
    client.on('error', (err: Error & { level?: string }) => {
      opts.signal.removeEventListener('abort', onAbort);
      if (settled) return;
      settled = true;
      client.end();
      sock.destroy();
      if (hostKeyError !== undefined) {
        reject(new DialError('hostkey', `ssh: handshake failed: ssh: host key refused: ${hostKeyError}`));
      } else if (err.level === 'client-authentication') {
        const tried = [...attempted].sort().join(' ');
        reject(new DialError('auth', `ssh: handshake failed: ssh: unable to authenticate, attempted methods [${tried}], no supported methods remain`));
      } else if (err.level === 'client-timeout') {
        reject(new DialError('handshake', 'Timeout during SSH handshake'));
      } else {
        reject(new DialError('handshake', `ssh: handshake failed: ${err.message}`));
      }
    });
    client.connect(config);
  });
}

function forwardThrough(bastion: Client, host: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    bastion.forwardOut('127.0.0.1', 0, host, port, (err, stream) => (err ? reject(err) : resolve(stream)));
  });
}

/** Opens one connection; throws a DialError. */
export async function dialSsh(opts: DialOptions): Promise<SshConnection> {
  const { target, bastion } = opts;
  const targetLabel = joinHostPort(target.host, target.port);
  let bastionClient: Client | undefined;
  let sock: Duplex;
  if (bastion !== undefined) {
    const bastionLabel = joinHostPort(bastion.host, bastion.port);
    try {
      const bsock = await tcpConnect(bastion.host, bastion.port, opts.handshakeTimeoutMs, opts.signal);
      bastionClient = await sshHandshake(bsock, bastion, opts, bastionLabel);
    } catch (err) {
      // Any failure to reach or log in to the bastion is a connection failure, as in Packer.
      const kind = err instanceof DialError && err.kind === 'hostkey' ? 'hostkey' : 'tcp';
      throw new DialError(kind, `Error connecting to bastion ${bastionLabel}: ${(err as Error).message}`);
    }
    bastionClient.on('error', () => undefined);
    try {
      sock = await forwardThrough(bastionClient, target.host, target.port);
    } catch (err) {
      bastionClient.end();
      throw new DialError('tcp', `Error connecting to ${targetLabel} through bastion: ${(err as Error).message}`);
    }
  } else {
    sock = await tcpConnect(target.host, target.port, opts.handshakeTimeoutMs, opts.signal);
  }
  let client: Client;
  try {
    client = await sshHandshake(sock, target, opts, targetLabel);
  } catch (err) {
    bastionClient?.end();
    throw err;
  }
  let closed = false;
  const markClosed = (): void => {
    closed = true;
    bastionClient?.end();
  };
  // Errors after the handshake surface as dropped commands; keep them from crashing the process.
  client.on('error', markClosed);
  client.on('close', markClosed);
  client.on('end', markClosed);
  return {
    client,
    get closed() {
      return closed;
    },
    close() {
      closed = true;
      client.end();
      bastionClient?.end();
    },
  };
}

/**
 * The `Communicator` over an SSH connection: remote commands with their exit status and output
 * delivered line by line, and file transfer by scp or sftp.
 *
 * Contracts (as Packer's SSH communicator):
 * - A command whose channel closes without an exit status (the connection dropped, e.g. a reboot)
 *   resolves with `disconnected: true`. A command killed by a signal reports 128 + the signal's
 *   number, as Go's ssh package does.
 * - When the connection has dropped, the next operation reconnects once (a single attempt; callers
 *   such as the shell provisioner retry for longer).
 * - Directory downloads always use the remote `scp -r -f` (so that globs work), as Packer does.
 */
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { Client, ClientChannel, PseudoTtyOptions } from 'ssh2';
import type { Communicator, OnTransferProgress, RemoteCommand, RemoteCommandResult } from '../sdk/component.js';
import { scpDownload, scpDownloadDir, scpUpload, scpUploadDir } from './scp.js';
import { sftpDownload, sftpUpload, sftpUploadDir } from './sftp.js';
import type { SshConnection } from './ssh-dial.js';
import { log } from '../log.js';

export interface SshCommunicatorOptions {
  pty: boolean;
  fileTransferMethod: 'scp' | 'sftp';
  /** Opens a new connection (one attempt). */
  redial(signal: AbortSignal): Promise<SshConnection>;
}

const PTY: PseudoTtyOptions = { term: 'xterm', rows: 40, cols: 80, modes: { ECHO: 0, TTY_OP_ISPEED: 14400, TTY_OP_OSPEED: 14400 } };

/** Splits a byte stream into lines (without "\n"); a last unterminated piece is flushed at the end. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  constructor(private readonly emit: (line: string) => void) {}
  push(chunk: Buffer): void {
    this.pending += this.decoder.write(chunk);
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      this.emit(this.pending.slice(0, nl));
      this.pending = this.pending.slice(nl + 1);
    }
  }
  flush(): void {
    this.pending += this.decoder.end();
    if (this.pending !== '') this.emit(this.pending);
    this.pending = '';
  }
}

/**
 * Sends a "signal" channel request (RFC 4254 6.9); sshd delivers it to the command's whole process
 * group. ssh2's public `Channel.signal()` sends nothing once our side has sent EOF, which every
 * command without stdin has; the protocol allows the request after EOF, so it is sent directly.
 */
function sendSignal(channel: ClientChannel, name: string): void {
  const internal = channel as unknown as { outgoing?: { id?: number; state?: string }; _client?: { _protocol?: { signal?(id: number, name: string): void } } };
  const id = internal.outgoing?.id;
  const protocol = internal._client?._protocol;
  const state = internal.outgoing?.state;
  if (id !== undefined && (state === 'open' || state === 'eof') && typeof protocol?.signal === 'function') protocol.signal(id, name);
}

function signalNumber(name: string): number {
  const key = (name.startsWith('SIG') ? name : `SIG${name}`) as keyof typeof constants.signals;
  return constants.signals[key] ?? 0;
}

export class SshCommunicator implements Communicator {
  constructor(
    private connection: SshConnection,
    private readonly options: SshCommunicatorOptions,
  ) {}

  private redialing: Promise<SshConnection> | undefined;

  /** The live client, reconnecting once when the connection has dropped (concurrent callers share
   * one reconnection). */
  private async client(signal: AbortSignal): Promise<Client> {
    if (this.connection.closed) {
      if (log.on) log.info('ssh', 'the connection was closed; reconnecting');
      this.redialing ??= this.options.redial(signal).finally(() => {
        this.redialing = undefined;
      });
      this.connection = await this.redialing;
    }
    return this.connection.client;
  }

  private async openExec(command: string, signal: AbortSignal): Promise<ClientChannel> {
    const client = await this.client(signal);
    return new Promise((resolve, reject) => {
      const cb = (err: Error | undefined, channel: ClientChannel): void => (err ? reject(new Error(`Error starting remote command: ${err.message}`)) : resolve(channel));
      if (this.options.pty) client.exec(command, { pty: PTY }, cb);
      else client.exec(command, cb);
    });
  }

  async start(cmd: RemoteCommand, signal: AbortSignal): Promise<RemoteCommandResult> {
    signal.throwIfAborted();
    if (log.on) log.debug('ssh', `starting remote command: ${cmd.command}`);
    const channel = await this.openExec(cmd.command, signal);
    return new Promise((resolve, reject) => {
      let exitStatus: number | undefined;
      const out = new LineSplitter((line) => cmd.onStdout?.(line));
      const err = new LineSplitter((line) => cmd.onStderr?.(line));
      channel.on('data', (d: Buffer) => out.push(d));
      channel.stderr.on('data', (d: Buffer) => err.push(d));
      channel.on('exit', (code: number | null, signalName?: string) => {
        exitStatus = code ?? 128 + signalNumber(signalName ?? '');
      });
      const onAbort = (): void => {
        sendSignal(channel, 'KILL');
        channel.close();
        reject(signal.reason instanceof Error ? signal.reason : new Error('remote command cancelled'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      channel.on('close', () => {
        signal.removeEventListener('abort', onAbort);
        out.flush();
        err.flush();
        if (log.on) log.debug('ssh', `remote command exited with status ${exitStatus ?? 'none (disconnected)'}: ${cmd.command}`);
        resolve({ exitStatus, disconnected: exitStatus === undefined });
      });
      if (cmd.stdin !== undefined) cmd.stdin.pipe(channel);
      else channel.end();
    });
  }

  async upload(remotePath: string, data: Readable | Buffer, mode: number | undefined, signal: AbortSignal): Promise<void> {
    const client = await this.client(signal);
    if (log.on) log.debug('ssh', `uploading to ${remotePath} over ${this.options.fileTransferMethod}`);
    if (this.options.fileTransferMethod === 'sftp') await sftpUpload(client, remotePath, data, mode, signal);
    else await scpUpload(client, remotePath, data, mode, signal);
  }

  async uploadDir(remoteDir: string, localDir: string, exclude: readonly string[], signal: AbortSignal, onProgress?: OnTransferProgress): Promise<void> {
    const client = await this.client(signal);
    if (log.on) log.debug('ssh', `uploading folder ${localDir} to ${remoteDir} over ${this.options.fileTransferMethod}`);
    if (this.options.fileTransferMethod === 'sftp') await sftpUploadDir(client, remoteDir, localDir, exclude, signal, onProgress);
    else await scpUploadDir(client, remoteDir, localDir, exclude, signal, onProgress);
  }

  async download(remotePath: string, localPath: string, signal: AbortSignal): Promise<void> {
    const client = await this.client(signal);
    if (log.on) log.debug('ssh', `downloading ${remotePath} to ${localPath} over ${this.options.fileTransferMethod}`);
    if (this.options.fileTransferMethod === 'sftp') await sftpDownload(client, remotePath, localPath, signal);
    else await scpDownload(client, remotePath, localPath, signal);
  }

  async downloadDir(remoteDir: string, localDir: string, signal: AbortSignal, onProgress?: OnTransferProgress): Promise<void> {
    const client = await this.client(signal);
    if (log.on) log.debug('ssh', `downloading folder ${remoteDir} to ${localDir} over scp`);
    await scpDownloadDir(client, remoteDir, localDir, signal, onProgress);
  }

  async close(): Promise<void> {
    this.connection.close();
  }
}

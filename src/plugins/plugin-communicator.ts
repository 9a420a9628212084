/**
 * A plugin's communicator (served by the plugin on the stream named in `Hook.Run`) as our
 * `Communicator`, so builder's own provisioners run over a plugin builder's connection.
 *
 * Contracts:
 * - `start` names fresh broker ids for stdin (when given), stdout, stderr and the response, accepts
 *   the plugin's streams on them, delivers output line by line, and resolves with the exit status
 *   read from the gob `CommandFinished` on the response stream; a response stream that ends empty
 *   (the plugin or its connection died) is `disconnected`, never a success.
 * - Transfers stream their data over a broker stream; the call's reply says whether they worked.
 *   The file mode reaches the plugin only for Buffer uploads (see `upload`).
 */
import { createWriteStream } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Communicator, RemoteCommand, RemoteCommandResult } from '../sdk/component.js';
import type { Broker } from './broker.js';
import { decodeGob } from './gob.js';
import { RemoteError, type RpcClient } from './rpc.js';

function lines(stream: Readable, deliver: ((line: string) => void) | undefined): Promise<void> {
  return new Promise((resolve) => {
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (s: string) => {
      pending += s;
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const p of parts) deliver?.(p.replace(/\r$/, ''));
    });
    const done = (): void => {
      if (pending !== '') deliver?.(pending);
      pending = '';
      resolve();
    };
    stream.on('end', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  return new Promise((resolve) => {
    stream.on('data', (c: Buffer) => parts.push(c));
    const done = (): void => resolve(Buffer.concat(parts));
    stream.on('end', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

export class PluginCommunicator implements Communicator {
  constructor(private readonly rpc: RpcClient, private readonly broker: Broker) {}

  private async call(method: string, arg: unknown): Promise<unknown> {
    try {
      return await this.rpc.call(`Communicator.${method}`, arg);
    } catch (e) {
      throw new Error(e instanceof RemoteError ? e.message : `the plugin's communicator failed: ${(e as Error).message}`);
    }
  }

  async start(cmd: RemoteCommand, signal: AbortSignal): Promise<RemoteCommandResult> {
    signal.throwIfAborted();
    const ids = { stdin: cmd.stdin ? this.broker.nextId() : 0, stdout: this.broker.nextId(), stderr: this.broker.nextId(), response: this.broker.nextId() };
    const accepted = Promise.all([
      ids.stdin ? this.broker.accept(ids.stdin) : Promise.resolve(undefined),
      this.broker.accept(ids.stdout),
      this.broker.accept(ids.stderr),
      this.broker.accept(ids.response),
    ]);
    accepted.catch(() => undefined);
    await this.call('Start', { Command: cmd.command, StdinStreamId: ids.stdin, StdoutStreamId: ids.stdout, StderrStreamId: ids.stderr, ResponseStreamId: ids.response });
    const [stdin, stdout, stderr, response] = await accepted;
    if (stdin && cmd.stdin) cmd.stdin.pipe(stdin);
    const [, , finished] = await Promise.all([lines(stdout, cmd.onStdout), lines(stderr, cmd.onStderr), collect(response)]);
    if (finished.length === 0) return { disconnected: true };
    const status = decodeGob(finished) as { ExitStatus?: number } | undefined;
    return { exitStatus: Number(status?.ExitStatus ?? 0), disconnected: false };
  }

  async upload(remotePath: string, data: Readable | Buffer, mode: number | undefined, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const id = this.broker.nextId();
    const accepted = this.broker.accept(id);
    accepted.catch(() => undefined);
    // FileInfo {N name, S size, M mode}: Packer 1.6.6's SSH communicator trusts its size, so it is
    // sent only when the size is known (a Buffer); without it the plugin measures the data itself
    // and applies its default mode.
    const fileInfo = Buffer.isBuffer(data) ? { N: basename(remotePath), S: data.length, M: mode ?? 0o644 } : null;
    const call = this.call('Upload', { Path: remotePath, ReaderStreamId: id, FileInfo: fileInfo });
    const stream = await accepted;
    await pipeline(Buffer.isBuffer(data) ? Readable.from([data]) : data, stream);
    await call;
  }

  async uploadDir(remoteDir: string, localDir: string, exclude: readonly string[], signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await this.call('UploadDir', { Dst: remoteDir, Src: localDir, Exclude: [...exclude] });
  }

  async download(remotePath: string, localPath: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const id = this.broker.nextId();
    const accepted = this.broker.accept(id);
    accepted.catch(() => undefined);
    const call = this.call('Download', { Path: remotePath, WriterStreamId: id });
    const stream = await accepted;
    await Promise.all([pipeline(stream, createWriteStream(localPath)), call]);
  }

  async downloadDir(remoteDir: string, localDir: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await this.call('DownloadDir', { Src: remoteDir, Dst: localDir, Exclude: [] });
  }

  async close(): Promise<void> {
    this.rpc.close();
  }
}

/**
 * File transfer with the scp protocol: the remote `scp -t` (sink) and `scp -f` (source) programs,
 * driven over an SSH exec channel, as Packer's SSH communicator does.
 *
 * Protocol: every header line (`C0644 SIZE NAME`, `D0755 0 NAME`, `E`) and every file body is
 * acknowledged with one status byte: 0 = ok, 1 = warning, 2 = fatal error (followed by a message
 * line). File names sent by the remote side are refused when they contain "/" or are "." or "..",
 * so a hostile server cannot write outside the target folder.
 */
import { createReadStream, createWriteStream, ReadStream } from 'node:fs';
import { mkdir, readdir, realpath, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Client, ClientChannel } from 'ssh2';
import { EndOfStreamError, StreamReader } from './stream-reader.js';
import { quoteRemoteGlob, quoteRemotePath } from '../sdk/shell-quote.js';
import type { OnTransferProgress } from '../sdk/component.js';

type ScpBody = (w: Writable, r: StreamReader) => Promise<void>;

/** Adds up the bytes of file contents moved in one session and tells `onProgress` the total. */
class ByteCount {
  private total = 0;
  constructor(private readonly onProgress?: OnTransferProgress) {}
  add(n: number): void {
    this.total += n;
    this.onProgress?.(this.total);
  }
}

function execChannel(client: Client, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, channel) => (err ? reject(err) : resolve(channel)));
  });
}

/** Runs a remote scp command and the local side of the protocol; fails with the remote's message. */
async function scpSession(client: Client, command: string, body: ScpBody, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  const channel = await execChannel(client, command);
  let stderr = '';
  channel.stderr.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  let exitCode: number | undefined;
  const closed = new Promise<void>((resolve) => {
    channel.on('exit', (code: number | null) => {
      exitCode = code ?? undefined;
    });
    channel.on('close', () => resolve());
  });
  const onAbort = (): void => {
    channel.close();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  const reader = new StreamReader(channel);
  try {
    try {
      await body(channel, reader);
    } catch (err) {
      // An early end usually means scp failed on the other side; its exit status says why.
      if (!(err instanceof EndOfStreamError)) throw err;
    }
    channel.end();
    await closed;
    signal.throwIfAborted();
    if (exitCode === 127) {
      throw new Error('SCP failed to start. This usually means that SCP is not\nproperly installed on the remote system.');
    }
    if (exitCode !== 0) {
      const detail = stderr.trim();
      throw new Error(`scp exited with status ${exitCode ?? 'unknown (connection lost)'}${detail === '' ? '' : `: ${detail}`}`);
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    channel.close();
  }
}

/** Reads one status byte; throws the remote's message on a warning or error. */
async function expectAck(r: StreamReader): Promise<void> {
  const code = await r.readByte();
  if (code === 0) return;
  const message = await r.readLine();
  throw new Error(message);
}

function write(w: Writable, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (w.write(data, (err) => (err ? reject(err) : undefined))) resolve();
    else w.once('drain', () => resolve());
  });
}

async function sendData(w: Writable, data: Readable | Buffer, count?: ByteCount): Promise<void> {
  if (Buffer.isBuffer(data)) {
    await write(w, data);
    count?.add(data.length);
    return;
  }
  for await (const chunk of data) {
    await write(w, chunk as Buffer);
    count?.add((chunk as Buffer).length);
  }
}

function modeString(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

async function sendFile(w: Writable, r: StreamReader, name: string, data: Readable | Buffer, size: number, mode: number, count?: ByteCount): Promise<void> {
  await write(w, `C${modeString(mode)} ${size} ${name}\n`);
  await expectAck(r);
  await sendData(w, data, count);
  await write(w, '\0');
  await expectAck(r);
}

/** Sends the entries of a local directory, following symbolic links, each real folder once. */
async function sendDirEntries(w: Writable, r: StreamReader, dir: string, exclude: ReadonlySet<string>, visited: Set<string>, count: ByteCount): Promise<void> {
  const real = await realpath(dir);
  if (visited.has(real)) return;
  visited.add(real);
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name);
    if (exclude.has(path)) continue;
    const st = await stat(path);
    if (st.isDirectory()) {
      await write(w, `D${modeString(st.mode)} 0 ${name}\n`);
      await expectAck(r);
      await sendDirEntries(w, r, path, exclude, visited, count);
      await write(w, 'E\n');
      await expectAck(r);
    } else {
      await sendFile(w, r, name, createReadStream(path), st.size, st.mode, count);
    }
  }
}

/** Uploads one file to `remotePath` (its folder must exist). */
export async function scpUpload(client: Client, remotePath: string, data: Readable | Buffer, mode: number | undefined, signal: AbortSignal): Promise<void> {
  // scp sends the size first: a file stream is measured and streamed, other streams are read
  // into memory first.
  let body: Readable | Buffer;
  let size: number;
  if (data instanceof ReadStream && typeof data.path === 'string') {
    body = data;
    size = (await stat(data.path)).size;
  } else {
    body = Buffer.isBuffer(data) ? data : await readAll(data);
    size = body.length;
  }
  const slash = remotePath.lastIndexOf('/');
  const dir = slash < 0 ? '.' : slash === 0 ? '/' : remotePath.slice(0, slash);
  const name = remotePath.slice(slash + 1);
  await scpSession(client, `scp -t ${quoteRemotePath(dir)}`, async (w, r) => {
    await expectAck(r);
    await sendFile(w, r, name, body, size, mode ?? 0o644);
  }, signal);
}

/**
 * Uploads a local directory into `remoteDir`. Packer's (rsync's) rule: without a trailing slash on
 * `localDir` the folder itself is created inside `remoteDir`; with one, only its contents are copied.
 * `exclude` lists local paths (as joined from `localDir`) to leave out.
 */
export async function scpUploadDir(client: Client, remoteDir: string, localDir: string, exclude: readonly string[], signal: AbortSignal, onProgress?: OnTransferProgress): Promise<void> {
  const excluded = new Set(exclude.map((e) => join(localDir, e)));
  const count = new ByteCount(onProgress);
  await scpSession(client, `scp -r -t ${quoteRemotePath(remoteDir)}`, async (w, r) => {
    await expectAck(r);
    const visited = new Set<string>();
    if (localDir.endsWith('/')) {
      await sendDirEntries(w, r, localDir, excluded, visited, count);
      return;
    }
    const st = await stat(localDir);
    await write(w, `D${modeString(st.mode)} 0 ${basename(localDir)}\n`);
    await expectAck(r);
    await sendDirEntries(w, r, localDir, excluded, visited, count);
    await write(w, 'E\n');
    await expectAck(r);
  }, signal);
}

interface ScpHeader {
  kind: 'C' | 'D';
  mode: number;
  size: number;
  name: string;
}

function parseHeader(line: string): ScpHeader {
  const m = /^([CD])([0-7]{3,4}) (\d+) (.+)$/.exec(line);
  if (m === null) throw new Error(`can't parse server response (${line})`);
  const name = m[4]!;
  if (name.includes('/') || name === '.' || name === '..') throw new Error(`scp: protocol error: unexpected file name from server: ${name}`);
  return { kind: m[1] as 'C' | 'D', mode: parseInt(m[2]!, 8), size: Number(m[3]), name };
}

/** Reads a header line, turning the remote's error lines (status 1 or 2) into errors. */
async function readHeader(r: StreamReader): Promise<string> {
  const first = await r.readByte();
  if (first === 1 || first === 2) throw new Error(await r.readLine());
  return String.fromCharCode(first) + (await r.readLine());
}

async function receiveFile(w: Writable, r: StreamReader, header: ScpHeader, localPath: string, count?: ByteCount): Promise<void> {
  await write(w, '\0');
  const out = createWriteStream(localPath, { mode: header.mode & 0o777 });
  try {
    await r.readExact(header.size, async (piece) => {
      await write(out, piece);
      count?.add(piece.length);
    });
  } finally {
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
  await expectAck(r);
}

/** Downloads one remote file to `localPath` (created or truncated). */
export async function scpDownload(client: Client, remotePath: string, localPath: string, signal: AbortSignal): Promise<void> {
  await scpSession(client, `scp -f ${quoteRemotePath(remotePath)}`, async (w, r) => {
    await write(w, '\0');
    const line = await readHeader(r);
    if (line.startsWith('D')) throw new Error('remote file is directory');
    const header = parseHeader(line);
    await receiveFile(w, r, header, localPath);
    await write(w, '\0');
  }, signal);
}

/**
 * Downloads remote files and folders (`remoteSource` may hold glob characters, which the remote
 * shell expands) into the local folder `localDir`, as `scp -r -f` sends them: a remote folder
 * arrives as a folder of that name inside `localDir`.
 */
export async function scpDownloadDir(client: Client, remoteSource: string, localDir: string, signal: AbortSignal, onProgress?: OnTransferProgress): Promise<void> {
  await mkdir(localDir, { recursive: true });
  const count = new ByteCount(onProgress);
  await scpSession(client, `scp -r -f ${quoteRemoteGlob(remoteSource)}`, async (w, r) => {
    const stack = [localDir];
    while (true) {
      await write(w, '\0');
      let line: string;
      try {
        line = await readHeader(r);
      } catch (err) {
        if (err instanceof EndOfStreamError) return;
        throw err;
      }
      if (line.startsWith('T')) continue;
      if (line === 'E') {
        stack.pop();
        if (stack.length === 0) return;
        continue;
      }
      const header = parseHeader(line);
      const target = join(stack[stack.length - 1]!, header.name);
      if (header.kind === 'D') {
        await mkdir(target, { recursive: true, mode: header.mode & 0o777 });
        stack.push(target);
      } else {
        await receiveFile(w, r, header, target, count);
      }
    }
  }, signal);
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(parts);
}

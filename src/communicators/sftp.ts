/**
 * File transfer over the SFTP subsystem (`ssh_file_transfer_method = "sftp"`), with the semantics of
 * Packer's SSH communicator: an upload creates or truncates the file and then sets the given mode;
 * a directory upload creates each folder (an existing folder is fine) with the local folder's mode.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { Client, SFTPWrapper } from 'ssh2';
import type { OnTransferProgress } from '../sdk/component.js';
import { countBytes } from '../sdk/count-bytes.js';

async function openSftp(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => {
    client.sftp((err, sftp) => (err ? reject(new Error(`sftpSession error: ${err.message}`)) : resolve(sftp)));
  });
}

async function withSftp<T>(client: Client, signal: AbortSignal, fn: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
  signal.throwIfAborted();
  const sftp = await openSftp(client);
  const onAbort = (): void => sftp.end();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await fn(sftp);
  } finally {
    signal.removeEventListener('abort', onAbort);
    sftp.end();
  }
}

function call(fn: (cb: (err: Error | undefined | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));
}

/** Describes an SFTP error with the path it concerns. */
function pathError(path: string, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  return new Error(`${path}: ${message}`);
}

async function putFile(sftp: SFTPWrapper, remotePath: string, data: Readable | Buffer, mode: number | undefined): Promise<void> {
  try {
    const source = Buffer.isBuffer(data) ? Readable.from([data]) : data;
    await pipeline(source, sftp.createWriteStream(remotePath, { mode: mode ?? 0o644 }));
    if (mode !== undefined) await call((cb) => sftp.chmod(remotePath, mode & 0o7777, cb));
  } catch (err) {
    throw pathError(remotePath, err);
  }
}

export async function sftpUpload(client: Client, remotePath: string, data: Readable | Buffer, mode: number | undefined, signal: AbortSignal): Promise<void> {
  await withSftp(client, signal, (sftp) => putFile(sftp, remotePath, data, mode));
}

async function makeDir(sftp: SFTPWrapper, remotePath: string, mode: number): Promise<void> {
  try {
    await call((cb) => sftp.mkdir(remotePath, cb));
  } catch (err) {
    const isDir = await new Promise<boolean>((resolve) => sftp.lstat(remotePath, (e, st) => resolve(!e && st.isDirectory())));
    if (!isDir) throw pathError(remotePath, err);
  }
  await call((cb) => sftp.chmod(remotePath, mode & 0o7777, cb));
}

/** Same trailing-slash rule as scp: "src" creates remoteDir/src, "src/" copies the contents. */
export async function sftpUploadDir(client: Client, remoteDir: string, localDir: string, exclude: readonly string[], signal: AbortSignal, onProgress?: OnTransferProgress): Promise<void> {
  const excluded = new Set(exclude.map((e) => join(localDir, e)));
  let before = 0; // bytes of the files already sent
  const reading = (path: string): Readable => {
    const stream = createReadStream(path);
    if (onProgress === undefined) return stream;
    const base = before;
    return countBytes(stream, (n) => {
      before = base + n;
      onProgress(before);
    });
  };
  const root = localDir.endsWith('/') ? remoteDir : posix.join(remoteDir, basename(localDir));
  await withSftp(client, signal, async (sftp) => {
    const visited = new Set<string>();
    const visit = async (local: string, remote: string): Promise<void> => {
      signal.throwIfAborted();
      const st = await stat(local);
      if (!st.isDirectory()) {
        await putFile(sftp, remote, reading(local), st.mode);
        return;
      }
      const real = await realpath(local);
      if (visited.has(real)) return;
      visited.add(real);
      // The destination folder itself should exist, and we may not own it: leave it alone.
      if (remote !== remoteDir) await makeDir(sftp, remote, st.mode);
      for (const name of (await readdir(local)).sort()) {
        const child = join(local, name);
        if (!excluded.has(child)) await visit(child, posix.join(remote, name));
      }
    };
    await visit(localDir, root);
  });
}

export async function sftpDownload(client: Client, remotePath: string, localPath: string, signal: AbortSignal): Promise<void> {
  await withSftp(client, signal, async (sftp) => {
    try {
      await pipeline(sftp.createReadStream(remotePath), createWriteStream(localPath, { mode: 0o644 }));
    } catch (err) {
      throw pathError(remotePath, err);
    }
  });
}

/**
 * The docker communicator, private to the docker builder: commands and file transfer in a
 * container through the Docker Engine API (works with Docker Engine and Podman's compatible
 * service alike).
 *
 * Contracts:
 * - A command runs as `/bin/sh -c "(COMMAND)"` (Packer's docker communicator), as `exec_user` when
 *   set, without a TTY; stdout and stderr arrive in Docker's multiplexed stream framing and are
 *   delivered line by line. The exit status is read from the exec afterwards: an exec that is still
 *   running, or has no exit code, when its stream ends (the service died, the container stopped)
 *   resolves `disconnected: true` — a missing exit code is never success. A command's
 *   `removeAfterSuccess` file is removed by the same exec after an exit 0 (its path an argument
 *   of the wrapper script, never pasted into it).
 * - `upload` sends a one-entry tar to the archive endpoint of the destination's folder (which
 *   must exist, as with `docker cp`); `uploadDir` follows `docker cp` (and Packer): a source ending
 *   in "/" copies its contents into the destination, otherwise the folder itself is copied into
 *   an existing destination, or becomes a destination that does not exist yet. Entries are owned
 *   by root; with `fix_upload_owner` (the default) the destination is then `chown -R`ed, as root,
 *   to the container's user (root when it has none), as Packer does — skipped for a single file
 *   when that user is root (the file is already root's). `upload` sets the given mode.
 * - `download` writes the single file at the remote path; `downloadDir` (Packer's docker
 *   communicator has none) copies a remote folder's contents into the local folder. Globs are
 *   refused. Folder transfers report progress in bytes of the tar archive streamed.
 * - The debug log (src/log.ts, component `docker`) records each command (the user's command, or
 *   the argv of the communicator's own chown/mkdir), its exit status, each transfer and each
 *   failure; never stdin or environment contents, and through the log's masking no secret.
 * - On abort the command's process tree is SIGKILLed (each command notes its shell's pid in a file
 *   in `container_dir`, a tmpfs; the Engine API has no way to signal an exec), then the exec stream
 *   is closed and the call rejects.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Dockerode from 'dockerode';
import type { Communicator, OnTransferProgress, RemoteCommand, RemoteCommandResult } from '../sdk/component.js';
import { countBytes } from '../sdk/count-bytes.js';
import { LineSplitter } from './ssh-communicator.js';
import { formatArgv, log } from '../log.js';

export interface DockerCommunicatorOptions {
  /** `exec_user`: the user commands run as ("" = the container's user). */
  execUser: string;
  /** `fix_upload_owner`. */
  fixUploadOwner: boolean;
  /** The container's configured user (`Config.User`), owner of uploads ("" = root). */
  containerUser: string;
  /** `container_dir` (a tmpfs): where command pid files go; "" = commands cannot be killed. */
  containerDir: string;
}

/** Runs "$2" noting the shell's pid in "$1" (removed afterwards); exits with "$2"'s status. When it
 * exits 0 and "$3" is not empty, removes "$3" too (RemoteCommand.removeAfterSuccess). */
const WRAPPER = 'echo $$ > "$1" 2>/dev/null; /bin/sh -c "$2"; s=$?; rm -f "$1"; [ $s -eq 0 ] && [ -n "$3" ] && rm -f "$3"; exit $s';

/** WRAPPER without a pid file (no container_dir): runs "$1"; removes "$2" after an exit 0. */
const RUN_AND_REMOVE = '/bin/sh -c "$1"; s=$?; [ $s -eq 0 ] && rm -f "$2"; exit $s';

/** SIGKILLs the process whose pid is in "$1" and all its descendants (found through /proc, so no
 * procps is needed), then removes the file. */
const KILL_TREE = [
  'k() { for f in /proc/[0-9]*/status; do c=${f#/proc/}; c=${c%/status};',
  'grep -q "^PPid:[[:space:]]*$1$" "$f" 2>/dev/null && k "$c"; done; kill -KILL "$1" 2>/dev/null; };',
  'p=$(cat "$1" 2>/dev/null) && [ -n "$p" ] && k "$p"; rm -f "$1"',
].join(' ');

/** How long, at most, an exec may still report "running" after its output ended. */
const EXIT_POLLS = 40;

function errorText(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const e = err as { json?: { message?: string } | null; message?: string };
    if (e.json && typeof e.json.message === 'string') return e.json.message;
    if (typeof e.message === 'string') return e.message;
  }
  return String(err);
}

export class DockerCommunicator implements Communicator {
  readonly uploadSetsMode = true;
  readonly removesAfterSuccess = true;
  private readonly container: Dockerode.Container;

  constructor(
    private readonly docker: Dockerode,
    readonly containerId: string,
    private readonly options: DockerCommunicatorOptions,
  ) {
    this.container = docker.getContainer(containerId);
  }

  /** Runs `argv` (no shell) and returns its exit status and output; used for chown and mkdir. */
  async run(argv: string[], user: string | undefined, signal: AbortSignal): Promise<{ exitStatus?: number; output: string }> {
    let output = '';
    const collectLine = (l: string): void => {
      output += `${l}\n`;
    };
    const r = await this.exec(argv, user, { command: formatArgv(argv), onStdout: collectLine, onStderr: collectLine }, signal);
    return { exitStatus: r.exitStatus, output };
  }

  async start(cmd: RemoteCommand, signal: AbortSignal): Promise<RemoteCommandResult> {
    const command = `(${cmd.command})`;
    // The file to remove after an exit 0 is an argument of the wrapper, never part of its text.
    const remove = cmd.removeAfterSuccess ?? '';
    if (this.options.containerDir === '') {
      const argv = remove === '' ? ['/bin/sh', '-c', command] : ['/bin/sh', '-c', RUN_AND_REMOVE, 'sh', command, remove];
      return this.exec(argv, this.options.execUser || undefined, cmd, signal);
    }
    // The wrapper notes its pid in container_dir (a tmpfs, never committed), so that a cancelled
    // command's process tree can be killed: the Engine API cannot signal an exec.
    const pidFile = posix.join(this.options.containerDir, `exec-${randomBytes(6).toString('hex')}.pid`);
    const kill = (): Promise<unknown> => this.run(['/bin/sh', '-c', KILL_TREE, 'sh', pidFile], 'root', new AbortController().signal).catch(() => undefined);
    return this.exec(['/bin/sh', '-c', WRAPPER, 'sh', pidFile, command, remove], this.options.execUser || undefined, cmd, signal, kill);
  }

  /** The container as messages name it (the short id). */
  private get shortId(): string {
    return this.containerId.slice(0, 12);
  }

  private async exec(argv: string[], user: string | undefined, cmd: RemoteCommand, signal: AbortSignal, onCancel?: () => Promise<unknown>): Promise<RemoteCommandResult> {
    signal.throwIfAborted();
    const withStdin = cmd.stdin !== undefined;
    if (log.on) log.debug('docker', `starting remote command in container ${this.shortId}${user ? ` as ${user}` : ''}: ${cmd.command}`);
    let exec: Dockerode.Exec;
    let stream: NodeJS.ReadWriteStream;
    try {
      exec = await this.container.exec({
        Cmd: argv,
        AttachStdout: true,
        AttachStderr: true,
        AttachStdin: withStdin,
        Tty: false,
        ...(user ? { User: user } : {}),
      });
      stream = await exec.start({ hijack: withStdin, stdin: withStdin, Detach: false, Tty: false });
    } catch (err) {
      if (log.on) log.error('docker', `could not start the command in container ${this.shortId}: ${errorText(err)}`);
      throw new Error(`Error starting remote command in container ${this.shortId}: ${errorText(err)}`);
    }
    const out = new LineSplitter((line) => cmd.onStdout?.(line));
    const err = new LineSplitter((line) => cmd.onStderr?.(line));
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdout.on('data', (d: Buffer) => out.push(d));
    stderr.on('data', (d: Buffer) => err.push(d));
    (this.docker.modem as { demuxStream(s: NodeJS.ReadableStream, o: NodeJS.WritableStream, e: NodeJS.WritableStream): void }).demuxStream(stream, stdout, stderr);
    if (cmd.stdin !== undefined) cmd.stdin.pipe(stream as unknown as NodeJS.WritableStream);
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        if (log.on) log.debug('docker', `remote command cancelled; killing its processes: ${cmd.command}`);
        const reason = signal.reason instanceof Error ? signal.reason : new Error('remote command cancelled');
        void (onCancel?.() ?? Promise.resolve()).finally(() => {
          (stream as unknown as { destroy?(): void }).destroy?.();
          reject(reason);
        });
      };
      signal.addEventListener('abort', onAbort, { once: true });
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      stream.on('end', finish);
      stream.on('close', finish);
      stream.on('error', finish);
    });
    out.flush();
    err.flush();
    const result = await this.exitOf(exec, signal);
    if (log.on) log.debug('docker', `remote command exited with status ${result.exitStatus ?? 'none (disconnected)'}: ${cmd.command}`);
    return result;
  }

  /** The exec's exit code once it has stopped; disconnected when it has none. */
  private async exitOf(exec: Dockerode.Exec, signal: AbortSignal): Promise<RemoteCommandResult> {
    for (let i = 0; i < EXIT_POLLS; i++) {
      signal.throwIfAborted();
      let info: Dockerode.ExecInspectInfo;
      try {
        info = await exec.inspect();
      } catch {
        return { disconnected: true };
      }
      if (!info.Running) {
        return typeof info.ExitCode === 'number' ? { exitStatus: info.ExitCode, disconnected: false } : { disconnected: true };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return { disconnected: true };
  }

  private async fixOwner(path: string, signal: AbortSignal): Promise<void> {
    if (!this.options.fixUploadOwner) return;
    const owner = this.options.containerUser || 'root';
    const r = await this.run(['chown', '-R', owner, path], 'root', signal);
    if (r.exitStatus !== 0) {
      if (log.on) log.error('docker', `chown -R ${owner} ${path} in container ${this.shortId} failed: exit status ${r.exitStatus ?? 'unknown'}`);
      throw new Error(`Failed to set owner of the uploaded file: exit status ${r.exitStatus ?? 'unknown'}, ${r.output.trim()}`);
    }
  }

  private async put(remoteDir: string, archive: Readable, what: string): Promise<void> {
    try {
      await this.container.putArchive(archive, { path: remoteDir });
    } catch (err) {
      if (log.on) log.error('docker', `upload to ${what} in container ${this.shortId} failed: ${errorText(err)}`);
      throw new Error(`Failed to upload to '${what}' in container: ${errorText(err)}`);
    }
  }

  async upload(remotePath: string, data: Readable | Buffer, mode: number | undefined, signal: AbortSignal): Promise<void> {
    if (log.on) log.debug('docker', `uploading to ${remotePath} in container ${this.shortId}`);
    const tar = await import('tar');
    const tmp = await mkdtemp(join(tmpdir(), 'builder-docker-upload-'));
    try {
      const name = posix.basename(remotePath);
      const local = join(tmp, name);
      if (Buffer.isBuffer(data)) await writeFile(local, data, { mode: mode ?? 0o644 });
      else await pipeline(data, createWriteStream(local, { mode: mode ?? 0o644 }), { signal });
      await chmod(local, mode ?? 0o644);
      await this.put(posix.dirname(remotePath), tar.c({ cwd: tmp, portable: true }, [name]) as unknown as Readable, remotePath);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    // The one entry is root's (a portable tar has no owner): chown to root would change nothing.
    if ((this.options.containerUser || 'root') !== 'root') await this.fixOwner(remotePath, signal);
  }

  private async exists(remotePath: string): Promise<boolean> {
    try {
      await this.container.infoArchive({ path: remotePath });
      return true;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return false;
      if (log.on) log.error('docker', `looking up ${remotePath} in container ${this.shortId} failed: ${errorText(err)}`);
      throw new Error(`Failed to look up '${remotePath}' in container: ${errorText(err)}`);
    }
  }

  async uploadDir(remoteDir: string, localDir: string, exclude: readonly string[], signal: AbortSignal, onProgress?: OnTransferProgress): Promise<void> {
    if (log.on) log.debug('docker', `uploading folder ${localDir} to ${remoteDir} in container ${this.shortId}`);
    const tar = await import('tar');
    const contentsOnly = localDir.endsWith('/');
    const src = contentsOnly ? localDir.replace(/\/+$/, '') || '/' : localDir;
    const filter = (p: string): boolean => !exclude.some((e) => p === e || p.startsWith(`${e}/`) || p.startsWith(`./${e}`));
    let archive: Readable;
    if (contentsOnly || !(await this.exists(remoteDir))) {
      const mk = await this.run(['mkdir', '-p', remoteDir], 'root', signal);
      if (mk.exitStatus !== 0) {
        if (log.on) log.error('docker', `mkdir -p ${remoteDir} in container ${this.shortId} failed: ${mk.output.trim()}`);
        throw new Error(`Failed to upload to '${remoteDir}' in container: ${mk.output.trim()}`);
      }
      const entries = (await readdir(src)).filter((e) => filter(e));
      if (entries.length === 0) return this.fixOwner(remoteDir, signal);
      archive = tar.c({ cwd: src, portable: true, filter }, entries) as unknown as Readable;
    } else {
      archive = tar.c({ cwd: dirname(src), portable: true, filter: (p) => filter(p.split('/').slice(1).join('/')) }, [basename(src)]) as unknown as Readable;
    }
    await this.put(remoteDir, onProgress ? countBytes(archive, onProgress) : archive, remoteDir);
    await this.fixOwner(remoteDir, signal);
  }

  private async getArchive(remotePath: string): Promise<Readable> {
    if (/[*?[]/.test(remotePath)) throw new Error(`Failed to download '${remotePath}': the docker communicator does not expand globs; name a file or a folder ending in "/"`);
    try {
      return (await this.container.getArchive({ path: remotePath })) as unknown as Readable;
    } catch (err) {
      if (log.on) log.error('docker', `download of ${remotePath} from container ${this.shortId} failed: ${errorText(err)}`);
      throw new Error(`Error downloading file: ${errorText(err)}`);
    }
  }

  async download(remotePath: string, localPath: string, signal: AbortSignal): Promise<void> {
    if (log.on) log.debug('docker', `downloading ${remotePath} from container ${this.shortId} to ${localPath}`);
    const tar = await import('tar');
    const archive = await this.getArchive(remotePath);
    let found = false;
    let failure: Error | undefined;
    const writes: Promise<void>[] = [];
    const parser = new tar.Parser({
      onReadEntry: (entry) => {
        if (found) return entry.resume();
        found = true;
        if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') {
          failure = new Error(`Failed to download '${remotePath}': it is a ${entry.type === 'Directory' ? 'folder (end the source with "/" to download a folder)' : entry.type}`);
          return entry.resume();
        }
        writes.push(pipeline(entry as unknown as Readable, createWriteStream(localPath), { signal }));
      },
    });
    await pipeline(archive, parser as unknown as NodeJS.WritableStream, { signal });
    await Promise.all(writes);
    if (failure) throw failure;
    if (!found) throw new Error(`Failed to download '${remotePath}': empty archive`);
  }

  async downloadDir(remoteDir: string, localDir: string, signal: AbortSignal, onProgress?: OnTransferProgress): Promise<void> {
    if (log.on) log.debug('docker', `downloading folder ${remoteDir} from container ${this.shortId} to ${localDir}`);
    const tar = await import('tar');
    const fetched = await this.getArchive(remoteDir.replace(/\/+$/, '') || '/');
    const archive = onProgress ? countBytes(fetched, onProgress) : fetched;
    await mkdir(localDir, { recursive: true, mode: 0o755 });
    await pipeline(archive, tar.x({ cwd: localDir, strip: 1, preserveOwner: false }) as unknown as NodeJS.WritableStream, { signal });
  }

  async close(): Promise<void> {
    // nothing held open between calls
  }
}

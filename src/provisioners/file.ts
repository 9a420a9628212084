/**
 * The `file` provisioner: copies files and folders to the machine being built, or from it with
 * `direction = "download"` (Packer's provisioner/file).
 *
 * Upload: a folder source is copied with the rsync rule (`dir` creates `destination/dir`, `dir/`
 * copies the contents); a file goes to `destination`, or to `destination/<name>` when the
 * destination ends in "/"; `content` is written to a local file named `pkr-file-content` and
 * uploaded like a file. Download: a destination ending in "/" is a folder (created, with the
 * source's name appended unless the source ends in "/" or "*"); a source ending in "/" or holding
 * glob characters is fetched as a folder. Relative local paths resolve against the folder builder
 * was started in. Messages: "Uploading SRC => DST", "Downloading SRC => DST", "Upload failed: …".
 *
 * Departure from Packer: after a folder download Packer skips the remaining sources (it returns
 * early); here every source is processed.
 */
import { createReadStream, statSync } from 'node:fs';
import { trackStream } from '../ui/progress.js';
import { mkdir, mkdtemp, readdir, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { goFsError } from '../communicators/fs-error.js';
import { hasGlob } from '../sdk/shell-quote.js';
import type { Communicator, ConfigSpec, OnTransferProgress, PrepareResult, ProvisionerDef, StepContext } from '../sdk/component.js';
import { asBool, asString, asStringList, ConfigReader } from '../sdk/config-reader.js';

export interface FileConfig {
  /** `sources` followed by `source`, as Packer orders them. */
  sources: string[];
  content?: string;
  destination: string;
  direction: 'upload' | 'download';
  generated: boolean;
}

export const fileConfigSpec: ConfigSpec = {
  attributes: {
    source: { type: 'string' },
    sources: { type: 'list(string)' },
    content: { type: 'string' },
    destination: { type: 'string' },
    direction: { type: 'string' },
    generated: { type: 'bool' },
  },
};

export function prepareFile(raw: Record<string, unknown>): PrepareResult<FileConfig> {
  const r = new ConfigReader(raw);
  const errors = r.errors;
  const direction = r.get('direction', asString) || 'upload';
  if (direction !== 'upload' && direction !== 'download') errors.push('Direction must be one of: download, upload.');
  const sources = [...(r.get('sources', asStringList) ?? [])];
  const source = r.get('source', asString) ?? '';
  if (source !== '') sources.push(source);
  const content = r.get('content', asString) || undefined;
  const generated = r.get('generated', asBool) ?? false;
  if (direction === 'upload' && !generated) {
    for (const src of sources) {
      try {
        statSync(src);
      } catch (err) {
        errors.push(`Bad source '${src}': ${goFsError('stat', src, err)}`);
      }
    }
  }
  if (sources.length > 0 && content !== undefined) errors.push('source(s) conflicts with content.');
  if (sources.length === 0 && content === undefined) errors.push('Source must be specified.');
  if (content !== undefined && direction === 'download') errors.push('content can only be uploaded; it cannot be used with direction = "download".');
  const destination = r.get('destination', asString) ?? '';
  if (destination === '') errors.push('Destination must be specified.');
  if (errors.length > 0) return { errors, warnings: [] };
  return { config: { sources, content, destination, direction: direction as 'upload' | 'download', generated }, errors, warnings: [] };
}

/** A local path resolved against `cwd`, keeping a trailing "/" (it selects "contents only"). */
function localPath(cwd: string, path: string): string {
  const abs = resolve(cwd, path);
  return path.endsWith('/') && !abs.endsWith('/') ? `${abs}/` : abs;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function upload(config: FileConfig, ctx: StepContext, comm: Communicator, sources: string[]): Promise<void> {
  const dst = config.destination;
  for (const src of sources) {
    ctx.ui.say(`Uploading ${src} => ${dst}`);
    const local = localPath(ctx.cwd, src);
    let info;
    try {
      info = await stat(local);
    } catch (err) {
      throw new UserError('FILE_SOURCE', goFsError('stat', src, err));
    }
    try {
      if (info.isDirectory()) {
        // One bar over the whole folder, on a terminal only.
        const total = ctx.ui.trackProgress ? await folderSize(local) : 0;
        await withFolderProgress(ctx, src, total, (onProgress) => comm.uploadDir(dst, local, [], ctx.signal, onProgress));
      } else {
        const fileDst = dst.endsWith('/') ? dst + basename(local) : dst;
        // On a terminal, a progress bar (Packer's TrackProgress); elsewhere the stream as it is.
        const tracker = ctx.ui.trackProgress?.(src, info.size);
        try {
          const stream = createReadStream(local);
          await comm.upload(fileDst, tracker ? trackStream(stream, tracker) : stream, info.mode & 0o7777, ctx.signal);
        } finally {
          tracker?.stop();
        }
      }
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      ctx.ui.error(`Upload failed: ${messageOf(err)}`);
      throw err;
    }
  }
}

async function download(config: FileConfig, ctx: StepContext, comm: Communicator): Promise<void> {
  for (const src of config.sources) {
    let dst = config.destination;
    // Packer 1.6.6 names the destination as written (later versions print the joined path).
    ctx.ui.say(`Downloading ${src} => ${dst}`);
    let dir = dst;
    if (!dst.endsWith('/')) dir = dirname(dst);
    else if (!src.endsWith('/') && !src.endsWith('*')) dst = join(dst, basename(src));
    await mkdir(resolve(ctx.cwd, dir), { recursive: true, mode: 0o755 });
    try {
      if (src.endsWith('/') || hasGlob(src)) await withFolderProgress(ctx, src, 0, (onProgress) => comm.downloadDir(src, resolve(ctx.cwd, dst), ctx.signal, onProgress));
      else await withDownloadProgress(ctx, src, resolve(ctx.cwd, dst), () => comm.download(src, resolve(ctx.cwd, dst), ctx.signal));
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      ctx.ui.error(`Download failed: ${messageOf(err)}`);
      throw err;
    }
  }
}

/** The bytes of the files under `dir`, walked as the transfers walk it: links followed, each real
 * folder once. */
async function folderSize(dir: string, visited = new Set<string>()): Promise<number> {
  const real = await realpath(dir);
  if (visited.has(real)) return 0;
  visited.add(real);
  let total = 0;
  for (const name of await readdir(dir)) {
    const st = await stat(join(dir, name)).catch(() => undefined);
    if (st?.isDirectory()) total += await folderSize(join(dir, name), visited);
    else if (st) total += st.size;
  }
  return total;
}

/** Runs a folder transfer with one bar (`total` 0: unknown) on a terminal; elsewhere as it is.
 * On success the bar shows the whole folder done. */
async function withFolderProgress(ctx: StepContext, label: string, total: number, work: (onProgress?: OnTransferProgress) => Promise<void>): Promise<void> {
  const tracker = ctx.ui.trackProgress?.(label, total);
  if (!tracker) return work();
  let last = 0;
  try {
    await work((bytes) => tracker.update((last = bytes)));
    tracker.update(total > 0 ? total : last);
  } finally {
    tracker.stop();
  }
}

/** How often a download's bar looks at the size of the file being written. */
const DOWNLOAD_POLL_MS = 200;

/** Runs a single-file download with a progress bar on a terminal: the communicator writes the
 * local file itself, so the bar follows the file's size (the total is not known in advance). */
async function withDownloadProgress(ctx: StepContext, src: string, local: string, work: () => Promise<void>): Promise<void> {
  const tracker = ctx.ui.trackProgress?.(src, 0);
  if (!tracker) return work();
  const poll = setInterval(() => {
    stat(local).then((s) => tracker.update(s.size), () => undefined);
  }, DOWNLOAD_POLL_MS);
  try {
    await work();
    const done = await stat(local).catch(() => undefined);
    if (done) tracker.update(done.size);
  } finally {
    clearInterval(poll);
    tracker.stop();
  }
}

async function runFile(config: FileConfig, ctx: StepContext & { comm?: Communicator }): Promise<void> {
  const comm = ctx.comm;
  if (comm === undefined) throw new UserError('NO_COMMUNICATOR', 'The file provisioner needs a communicator, but this build has none.');
  if (config.direction === 'download') {
    await download(config, ctx, comm);
    return;
  }
  let tempDir: string | undefined;
  try {
    const sources = [...config.sources];
    if (config.content !== undefined) {
      tempDir = await mkdtemp(join(tmpdir(), 'builder-file-'));
      const path = join(tempDir, 'pkr-file-content');
      await writeFile(path, config.content, { mode: 0o600 });
      sources.push(path);
    }
    await upload(config, ctx, comm, sources);
  } finally {
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
  }
}

export const fileProvisioner = {
  type: 'file',
  configSpec: fileConfigSpec,
  prepare: prepareFile,
  run: runFile,
  /** The local files and folders the step uploads (absolute paths; folders are listed as folders). */
  inputFiles(config: FileConfig): string[] {
    return config.direction === 'upload' ? config.sources.map((src) => resolve(src)) : [];
  },
} satisfies ProvisionerDef<FileConfig>;

/**
 * The `file` builder (Packer's builder/file, id "packer.file"): writes `content` to `target`, or
 * copies `source` to `target`, creating the folders leading to it; the artifact is the file.
 * Written content gets mode 0600 (as Packer's ioutil.WriteFile); relative paths are relative to
 * the folder builder runs in. The file is the artifact, so a failed build leaves it in place.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { dirname, resolve } from 'node:path';
import type { Artifact, BuilderDef } from '../sdk/component.js';
import { asString, ConfigReader } from '../sdk/config-reader.js';
import { userSystemError } from '../errors.js';

export interface FileConfig {
  source: string;
  target: string;
  content: string;
}

export const FILE_BUILDER_ID = 'packer.file';

export function fileArtifact(target: string, cwd: string): Artifact {
  return {
    builderId: FILE_BUILDER_ID,
    id: 'File',
    files: [target],
    description: `Stored file: ${target}`,
    state: {},
    async destroy() {
      await rm(resolve(cwd, target), { force: true });
    },
  };
}

export const fileBuilder = {
  type: 'file',
  builderId: FILE_BUILDER_ID,
  provisionsWithoutStep: true,
  configSpec: {
    attributes: { source: { type: 'string' }, target: { type: 'string' }, content: { type: 'string' } },
  },
  prepare(raw) {
    const r = new ConfigReader(raw);
    const config: FileConfig = {
      source: r.get('source', asString) ?? '',
      target: r.get('target', asString) ?? '',
      content: r.get('content', asString) ?? '',
    };
    const errors = r.errors;
    const warnings: string[] = [];
    if (config.target === '') errors.push('target required');
    if (config.content === '' && config.source === '') warnings.push('Both source file and contents are blank; target will have no content');
    if (config.content !== '' && config.source !== '') errors.push('Cannot specify source file AND content');
    return { config: errors.length === 0 ? config : undefined, errors, warnings };
  },
  async create(config, ctx) {
    const target = resolve(ctx.cwd, config.target);
    // A target the user cannot write (a read-only folder, a folder named as the file, a full
    // disk) is one user error naming the target, not a raw system error.
    const cannotWrite = (err: unknown): unknown =>
      ctx.signal.aborted ? err : userSystemError(err, "write the file builder's target", config.target, 'Choose another target, or make its folder writable.');
    await mkdir(dirname(target), { recursive: true, mode: 0o755 }).catch((err: unknown) => {
      throw cannotWrite(err);
    });
    if (config.source !== '') {
      const source = resolve(ctx.cwd, config.source);
      await stat(source).catch(() => {
        throw new Error(`open ${config.source}: no such file or directory`);
      });
      ctx.ui.say(`Copying ${config.source} to ${config.target}`);
      await pipeline(createReadStream(source), createWriteStream(target), { signal: ctx.signal }).catch((err: unknown) => {
        throw (err as NodeJS.ErrnoException).path === source ? userSystemError(err, 'read the source', config.source, 'Check that builder may read it.') : cannotWrite(err);
      });
      ctx.ui.say(`Copied ${(await stat(target)).size} bytes`);
    } else {
      await writeFile(target, config.content, { mode: 0o600 }).catch((err: unknown) => {
        throw cannotWrite(err);
      });
    }
    return { id: config.target, metadata: { target: config.target } };
  },
  async connect() {
    return {};
  },
  async finish(config, _instance, ctx) {
    return fileArtifact(config.target, ctx.cwd);
  },
  async destroy() {},
} satisfies BuilderDef<FileConfig>;

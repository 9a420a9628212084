/**
 * The `compress` post-processor (Packer's post-processor/compress): packs the artifact's files
 * into `output` (a template with {{.BuildName}} and {{.BuilderType}}; default
 * `packer_{{.BuildName}}_{{.BuilderType}}`). The format comes from `format` or the output's
 * extensions, as Packer reads them: `.tar`, `.zip`, `.gz` (gzip, with `.tar.gz` a gzipped tar),
 * anything else a gzipped tar; builder adds `.br` (brotli). Packer's `.lz4`, `.bgzf` and `.xz`
 * have no implementation here and are refused by `prepare`. Without an archive format the
 * artifact must be a single file. Tar entries are named by the file's base name, zip entries by
 * the path as given (both as in Packer). `compression_level` is 1–9 (higher values mean 9; 0 and
 * -1 the default). The input artifact is deleted unless kept (`keep_input_artifact`, or another
 * chain keeps it).
 *
 * `tar` and `yazl` are imported when an archive is written, not when builder starts: most runs
 * never compress, and loading them costs every run tens of milliseconds.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type * as Zlib from 'node:zlib';
import type { Artifact, PostProcessorDef } from '../sdk/component.js';
import { asInt, asString, ConfigReader } from '../sdk/config-reader.js';
import { renderGoTemplate } from '../sdk/go-template.js';
import { lazyRequire } from '../lazy-require.js';
import { systemErrorDetail } from '../errors.js';

/** zlib too is loaded when something is compressed (2–3 ms of every run's start-up otherwise). */
const zlib = lazyRequire<typeof Zlib>('node:zlib');

export type Algorithm = '' | 'gzip' | 'brotli';
export type ArchiveKind = '' | 'tar' | 'zip';

export interface CompressConfig {
  output: string;
  archive: ArchiveKind;
  algorithm: Algorithm;
  /** 1–9, or -1 for the library default. */
  level: number;
}

export const COMPRESS_BUILDER_ID = 'packer.post-processor.compress';

const UNSUPPORTED = new Set(['lz4', 'bgzf', 'xz']);

/** Packer's detectFromFilename: the last two `.ext` groups of the output (plus `format`). */
export function detectFormat(output: string, format: string): { archive: ArchiveKind; algorithm: Algorithm; unsupported?: string } {
  const exts = [...(format === '' ? output : `${output}.${format}`).matchAll(/\.([a-z0-9]+)/g)].map((m) => m[1]!);
  if (exts.length === 0) return { archive: 'tar', algorithm: 'gzip' };
  const last = exts[exts.length - 1]!;
  const before = exts.length > 1 ? exts[exts.length - 2] : '';
  const archive: ArchiveKind = before === 'tar' ? 'tar' : '';
  if (last === 'zip' || last === 'tar') return { archive: last, algorithm: '' };
  if (last === 'gz') return { archive, algorithm: 'gzip' };
  if (last === 'br') return { archive, algorithm: 'brotli' };
  if (UNSUPPORTED.has(last)) return { archive, algorithm: '', unsupported: last };
  return { archive: 'tar', algorithm: 'gzip' };
}

function compressionName(a: Algorithm): string {
  return a === '' ? 'no compression' : a;
}

export const compressPostProcessor = {
  type: 'compress',
  configSpec: {
    attributes: { output: { type: 'string' }, format: { type: 'string' }, compression_level: { type: 'number' } },
  },
  prepare(raw) {
    const r = new ConfigReader(raw);
    const output = r.get('output', asString) || 'packer_{{.BuildName}}_{{.BuilderType}}';
    const format = r.get('format', asString) ?? '';
    let level = r.get('compression_level', asInt) ?? -1;
    const errors = r.errors;
    if (level > 9) level = 9;
    if (level === 0) level = -1;
    if (level < -1) errors.push('Invalid compression level. Expected an integer from -1 to 9.');
    const bad = renderGoTemplate(output, { BuildName: '', BuilderType: '' }).error;
    if (bad) errors.push(`Error parsing target template: ${bad}`);
    const detected = detectFormat(output, format);
    if (detected.unsupported) {
      errors.push(
        `The ${detected.unsupported} compression format is not supported by builder; use .tar, .zip, .gz, .tar.gz or .br (brotli).`,
      );
    }
    const config: CompressConfig = { output, archive: detected.archive, algorithm: detected.algorithm, level };
    return { config: errors.length === 0 ? config : undefined, errors, warnings: [] };
  },
  async run(config, input, ctx) {
    const target = renderGoTemplate(config.output, { BuildName: ctx.env.PACKER_BUILD_NAME ?? '', BuilderType: ctx.builderType }).text;
    const targetPath = resolve(ctx.cwd, target);
    await mkdir(dirname(targetPath), { recursive: true, mode: 0o755 }).catch((err: Error) => {
      throw new Error(`Unable to create dir for archive ${target}: ${systemErrorDetail(err)}`);
    });
    const level = config.level === -1 ? undefined : config.level;
    // Packer says "pgzip with N cores" (parallel gzip); Node's zlib compresses on one core, so
    // builder names what it does (the differential harness treats the two lines as one).
    if (config.algorithm === 'gzip') ctx.ui.say(`Using gzip compression with 1 core for ${target}`);
    if (config.algorithm === 'brotli') ctx.ui.say(`Using brotli compression with 1 core for ${target}`);
    const files = input.files;
    if (config.archive === 'tar') {
      ctx.ui.say(`Tarring ${target} with ${compressionName(config.algorithm)}`);
      await writeTar(files, ctx.cwd, targetPath, config.algorithm, level).catch((err: Error) => {
        throw new Error(`Error creating tar: ${systemErrorDetail(err, { path: true })}`);
      });
    } else if (config.archive === 'zip') {
      ctx.ui.say(`Zipping ${target}`);
      await writeZip(files, ctx.cwd, targetPath, level).catch((err: Error) => {
        throw new Error(`Error creating zip: ${systemErrorDetail(err, { path: true })}`);
      });
    } else {
      if (files.length !== 1) {
        throw new Error(`Can only have 1 input file when not using tar/zip. Found ${files.length} files: [${files.join(' ')}]`);
      }
      ctx.ui.say(`Archiving ${files[0]} with ${compressionName(config.algorithm)}`);
      const { constants, createBrotliCompress, createGzip } = zlib();
      const compressor =
        config.algorithm === 'brotli'
          ? createBrotliCompress(level !== undefined ? { params: { [constants.BROTLI_PARAM_QUALITY]: level } } : {})
          : createGzip(level !== undefined ? { level } : {});
      await pipeline(createReadStream(resolve(ctx.cwd, files[0]!)), compressor, createWriteStream(targetPath), { signal: ctx.signal }).catch(
        (err: Error) => {
          throw new Error(`Failed to compress ${files[0]}: ${systemErrorDetail(err, { path: true })}`);
        },
      );
    }
    ctx.ui.say(`Archive ${target} completed`);
    const artifact: Artifact = {
      builderId: COMPRESS_BUILDER_ID,
      id: '',
      files: [target],
      description: `compressed artifacts in: ${target}`,
      state: {},
      async destroy() {
        await rm(targetPath, { force: true });
      },
    };
    return { artifact, keep: false, forceOverride: false };
  },
} satisfies PostProcessorDef<CompressConfig>;

/** A tar of the files under their base names (links in a temporary folder give them those names). */
async function writeTar(files: readonly string[], cwd: string, target: string, algorithm: Algorithm, level: number | undefined): Promise<void> {
  const stage = await mkdtemp(join(tmpdir(), 'builder-compress-'));
  try {
    const names: string[] = [];
    for (const f of files) {
      const name = basename(f);
      if (names.includes(name)) throw new Error(`two files are named ${name}`);
      await symlink(resolve(cwd, f), join(stage, name));
      names.push(name);
    }
    const { create: createTar } = await import('tar');
    const base = { cwd: stage, follow: true, file: target };
    if (algorithm === 'gzip') await createTar({ ...base, gzip: level !== undefined ? { level } : true }, names);
    else if (algorithm === 'brotli') {
      // node-tar takes no brotli quality; a brotli tar uses the library default.
      await createTar({ ...base, brotli: true }, names);
    } else await createTar(base, names);
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

/** A zip with one entry per file, named by its path as given (Packer's filepath.ToSlash). */
async function writeZip(files: readonly string[], cwd: string, target: string, level: number | undefined): Promise<void> {
  const { default: yazl } = await import('yazl');
  const zip = new yazl.ZipFile();
  for (const f of files) {
    zip.addFile(resolve(cwd, f), f.replaceAll('\\', '/').replace(/^\/+/, ''), level !== undefined ? { compressionLevel: level } : {});
  }
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(target));
}

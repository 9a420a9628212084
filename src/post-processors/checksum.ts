/**
 * The `checksum` post-processor (Packer's post-processor/checksum): for each of `checksum_types`
 * (md5 — the default —, sha1, sha224, sha256, sha384, sha512) appends `HEX<TAB>BASENAME` lines for
 * every file of the artifact to the file named by `output` (a template with {{.BuildName}},
 * {{.BuilderType}}, {{.ChecksumType}}; default `packer_{{.BuildName}}_{{.BuilderType}}_{{.ChecksumType}}.checksum`).
 * The new artifact lists the input files plus each checksum file that did not exist before (as
 * Packer does); the input is always kept. Unlike Packer, an artifact without files still gets its
 * (empty) checksum file, which `outputFiles` declares.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, mkdir, stat } from 'node:fs/promises';
import { systemErrorDetail } from '../errors.js';
import { basename, dirname, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Artifact, PostProcessorDef } from '../sdk/component.js';
import { asString, asStringList, ConfigReader } from '../sdk/config-reader.js';
import { renderGoTemplate } from '../sdk/go-template.js';
import { removeFiles } from './files-artifact.js';

export const CHECKSUM_TYPES = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;

export interface ChecksumConfig {
  checksumTypes: string[];
  output: string;
}

export const CHECKSUM_BUILDER_ID = 'packer.post-processor.checksum';

async function hashFile(path: string, algorithm: string, signal: AbortSignal): Promise<string> {
  const h = createHash(algorithm);
  await pipeline(createReadStream(path), h, { signal });
  return h.digest('hex');
}

export const checksumPostProcessor = {
  type: 'checksum',
  configSpec: { attributes: { checksum_types: { type: 'list(string)' }, output: { type: 'string' } } },
  prepare(raw) {
    const r = new ConfigReader(raw);
    const config: ChecksumConfig = {
      checksumTypes: r.get('checksum_types', asStringList) ?? ['md5'],
      output: r.get('output', asString) || 'packer_{{.BuildName}}_{{.BuilderType}}_{{.ChecksumType}}.checksum',
    };
    const errors = r.errors;
    for (const t of config.checksumTypes) {
      if (!(CHECKSUM_TYPES as readonly string[]).includes(t)) errors.push(`Unrecognized checksum type: ${t}`);
    }
    const bad = renderGoTemplate(config.output, { BuildName: '', BuilderType: '', ChecksumType: '' }).error;
    if (bad) errors.push(`Error parsing target template: ${bad}`);
    return { config: errors.length === 0 ? config : undefined, errors, warnings: [] };
  },
  outputFiles(config, names) {
    return config.checksumTypes.map((type) => checksumFile(config, names.buildName, names.builderType, type));
  },
  async run(config, input, ctx) {
    const files = [...input.files];
    for (const type of config.checksumTypes) {
      const output = checksumFile(config, ctx.env.PACKER_BUILD_NAME ?? '', ctx.builderType, type);
      const outPath = resolve(ctx.cwd, output);
      // A checksum file that cannot be written (read-only folder, full disk) says which and why.
      const cannotWrite = (err: unknown): never => {
        throw new Error(`unable to create file ${output}: ${systemErrorDetail(err)}`);
      };
      if (input.files.length === 0) {
        // Packer writes nothing for an artifact without files; we create the file, empty, because
        // it is declared in outputFiles: a declared output that never appears would make the
        // build's next run rerun this step forever ("wrote …, which is gone"), never up to date.
        await mkdir(dirname(outPath), { recursive: true, mode: 0o755 }).catch(cannotWrite);
        await appendFile(outPath, '', { mode: 0o644 }).catch(cannotWrite);
      }
      for (const file of input.files) {
        const existed = await stat(outPath).then(
          () => true,
          () => false,
        );
        if (!existed) files.push(output);
        await mkdir(dirname(outPath), { recursive: true, mode: 0o755 }).catch(cannotWrite);
        // Packer opens (creates) the checksum file before reading the input.
        await appendFile(outPath, '', { mode: 0o644 }).catch(cannotWrite);
        let sum: string;
        try {
          sum = await hashFile(resolve(ctx.cwd, file), type, ctx.signal);
        } catch {
          throw new Error(`unable to open file ${file}: open ${file}: no such file or directory`);
        }
        await appendFile(outPath, `${sum}\t${basename(file)}\n`, { mode: 0o644 }).catch(cannotWrite);
      }
    }
    const artifact: Artifact = {
      builderId: CHECKSUM_BUILDER_ID,
      id: '',
      files,
      description: `Created artifact from files: ${files.join(', ')}`,
      state: {},
      destroy: () => removeFiles(files, ctx.cwd),
    };
    return { artifact, keep: true, forceOverride: true };
  },
} satisfies PostProcessorDef<ChecksumConfig>;

/** The checksum file of one checksum type: `output` rendered for the build. */
function checksumFile(config: ChecksumConfig, buildName: string, builderType: string, type: string): string {
  return renderGoTemplate(config.output, { BuildName: buildName, BuilderType: builderType, ChecksumType: type }).text;
}

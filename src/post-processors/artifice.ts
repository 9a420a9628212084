/**
 * The `artifice` post-processor (Packer's post-processor/artifice): replaces the artifact with the
 * files listed in `files` (made by earlier steps), so later post-processors work on them. The
 * input artifact is kept unless `keep_input_artifact = false`.
 */
import type { Artifact, PostProcessorDef } from '../sdk/component.js';
import { asStringList, ConfigReader } from '../sdk/config-reader.js';
import { removeFiles } from './files-artifact.js';

export interface ArtificeConfig {
  files: string[];
}

export const ARTIFICE_BUILDER_ID = 'packer.post-processor.artifice';

export const artificePostProcessor = {
  type: 'artifice',
  configSpec: { attributes: { files: { type: 'list(string)' } } },
  prepare(raw) {
    const r = new ConfigReader(raw);
    const config = { files: r.get('files', asStringList) ?? [] };
    const errors = r.errors;
    if (config.files.length === 0) errors.push('No files specified in artifice configuration');
    return { config: errors.length === 0 ? config : undefined, errors, warnings: [] };
  },
  async run(config, input, ctx) {
    if (input.files.length > 0) ctx.ui.say(`Discarding files from artifact: ${input.files.join(', ')}`);
    const artifact: Artifact = {
      builderId: ARTIFICE_BUILDER_ID,
      id: '',
      files: [...config.files],
      description: `Created artifact from files: ${config.files.join(', ')}`,
      state: {},
      destroy: () => removeFiles(config.files, ctx.cwd),
    };
    ctx.ui.say(`Using these artifact files: ${config.files.join(', ')}`);
    return { artifact, keep: true, forceOverride: false };
  },
} satisfies PostProcessorDef<ArtificeConfig>;

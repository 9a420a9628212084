/**
 * The `docker-import` post-processor (Packer's post-processor/docker-import): imports the tar of a
 * docker export (or the first file of an artifice artifact) as the image `repository[:tag]`, with
 * `changes` (Dockerfile instructions) and `platform`. The artifact's id is the repository name,
 * as in Packer; the input is not kept unless asked. Podman ignores the API's separate `tag`
 * parameter, so the tag is sent as part of `repo`.
 */
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import type { PostProcessorDef } from '../sdk/component.js';
import { asString, asStringList, ConfigReader } from '../sdk/config-reader.js';
import { CHANGE_INSTRUCTIONS } from '../builders/docker/config.js';
import { dialStream, followProgress, localImageId } from '../builders/docker/engine.js';
import { apiError, DOCKER_IMPORT_ID, dockerForStep, imageArtifact, requireArtifact } from './docker-common.js';

export interface DockerImportConfig {
  repository: string;
  tag: string;
  changes: string[];
  platform: string;
}

export const dockerImportPostProcessor = {
  type: 'docker-import',
  configSpec: { attributes: { repository: { type: 'string' }, tag: { type: 'string' }, changes: { type: 'list(string)' }, platform: { type: 'string' } } },
  prepare(raw) {
    const r = new ConfigReader(raw);
    const config: DockerImportConfig = {
      repository: r.get('repository', asString) ?? '',
      tag: r.get('tag', asString) ?? '',
      changes: r.get('changes', asStringList) ?? [],
      platform: r.get('platform', asString) ?? '',
    };
    const errors = r.errors;
    if (config.repository === '') errors.push('repository must be specified');
    for (const change of config.changes) {
      const word = change.trim().split(/\s+/)[0]?.toUpperCase() ?? '';
      if (!CHANGE_INSTRUCTIONS.includes(word)) errors.push(`changes: "${change}" is not an instruction docker import accepts (${CHANGE_INSTRUCTIONS.join(', ')})`);
    }
    return { config: errors.length === 0 ? config : undefined, errors, warnings: [] };
  },
  async run(config, input, ctx) {
    requireArtifact(
      input,
      ['packer.docker', 'packer.post-processor.artifice'],
      'Can only import from Docker builder and Artifice post-processor artifacts. If you are getting this error after having run the docker builder, it may be because you set commit: true in your Docker builder, so the image is already imported. ',
    );
    const importRepo = config.tag !== '' ? `${config.repository}:${config.tag}` : config.repository;
    const docker = dockerForStep(ctx);
    ctx.ui.message(`Importing image: ${input.id}`);
    ctx.ui.message(`Repository: ${importRepo}`);
    const file = input.files[0];
    if (file === undefined) throw apiError('Error importing image', new Error(`the artifact ${input.id} has no file to import`));
    let id: string | undefined;
    try {
      const stream = await dialStream(docker, {
        path: '/images/create?',
        method: 'POST',
        query: { fromSrc: '-', repo: importRepo, ...(config.changes.length > 0 ? { changes: config.changes } : {}), ...(config.platform ? { platform: config.platform } : {}) },
        file: createReadStream(resolve(ctx.cwd, file)),
        statusCodes: { 200: true, 404: 'repository does not exist', 500: 'server error' },
      });
      await followProgress(docker, stream, () => undefined);
      id = await localImageId(docker, importRepo);
    } catch (err) {
      throw apiError('Error importing image', err);
    }
    if (id === undefined) throw apiError('Error importing image', new Error(`the engine reported no image named ${importRepo} after the import`));
    ctx.ui.message(`Imported ID: ${id}`);
    return { artifact: imageArtifact(docker, DOCKER_IMPORT_ID, importRepo, {}), keep: false, forceOverride: false };
  },
} satisfies PostProcessorDef<DockerImportConfig>;

/**
 * The `docker-save` post-processor (Packer's post-processor/docker-save): writes the image of a
 * docker commit, docker-import or docker-tag artifact to `path` as a `docker save` tar (through
 * GET /images/{name}/get, the name URL-encoded, which Podman needs). The artifact passes on
 * unchanged and is kept; a failed save removes the partial file.
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { PostProcessorDef } from '../sdk/component.js';
import { asString, ConfigReader } from '../sdk/config-reader.js';
import { dialStream } from '../builders/docker/engine.js';
import { imageRef } from '../builders/docker/artifacts.js';
import { apiError, DOCKER_IMPORT_ID, DOCKER_TAG_ID, dockerForStep, requireArtifact } from './docker-common.js';

export interface DockerSaveConfig {
  path: string;
}

export const dockerSavePostProcessor = {
  type: 'docker-save',
  configSpec: { attributes: { path: { type: 'string' } } },
  prepare(raw) {
    const r = new ConfigReader(raw);
    const config = { path: r.get('path', asString) ?? '' };
    const errors = r.errors;
    if (config.path === '') errors.push('path must be specified');
    return { config: errors.length === 0 ? config : undefined, errors, warnings: [] };
  },
  async run(config, input, ctx) {
    requireArtifact(input, [DOCKER_IMPORT_ID, DOCKER_TAG_ID], 'Can only save Docker builder artifacts.');
    const docker = dockerForStep(ctx);
    const target = resolve(ctx.cwd, config.path);
    ctx.ui.message(`Saving image: ${input.id}`);
    try {
      const stream = await dialStream(docker, { path: `/images/${encodeURIComponent(imageRef(input.id))}/get`, method: 'GET', statusCodes: { 200: true, 404: 'no such image', 500: 'server error' } });
      await pipeline(stream, createWriteStream(target), { signal: ctx.signal });
    } catch (err) {
      await rm(target, { force: true });
      if (typeof err === 'object' && err !== null && (err as { code?: string }).code?.startsWith('E') && !('statusCode' in err)) {
        throw apiError(`Error creating output file ${config.path}`, err);
      }
      throw apiError(`Error saving image ${input.id}`, err);
    }
    ctx.ui.message(`Saved to: ${config.path}`);
    return { artifact: input, keep: true, forceOverride: false };
  },
} satisfies PostProcessorDef<DockerSaveConfig>;

/**
 * The `docker-tag` post-processor (Packer's post-processor/docker-tag): tags the image of a docker
 * commit (or of an earlier docker-tag or docker-import) as `repository:tag` for each of `tags`
 * (`tag` too, Packer's older spelling, a string or a list), or as `repository` alone without tags.
 * The artifact is the last name tagged, with `docker_tags` (every `repository:tag`) in its state;
 * the input is always kept (a tag of a deleted image is pointless), as in Packer. `force` is
 * accepted: the Engine API's tag call always moves an existing tag (Docker ≥ 1.10 has no force).
 */
import type { PostProcessorDef } from '../sdk/component.js';
import { asBool, asString, asStringList, ConfigReader } from '../sdk/config-reader.js';
import { splitRepoTag, tagImage } from '../builders/docker/engine.js';
import { imageRef } from '../builders/docker/artifacts.js';
import { apiError, DOCKER_IMPORT_ID, DOCKER_TAG_ID, dockerForStep, imageArtifact, requireArtifact } from './docker-common.js';

export interface DockerTagConfig {
  repository: string;
  tags: string[];
  force: boolean;
}

export const dockerTagPostProcessor = {
  type: 'docker-tag',
  configSpec: { attributes: { repository: { type: 'string' }, tags: { type: 'list(string)' }, tag: { type: 'any' }, force: { type: 'bool' } } },
  prepare(raw) {
    const r = new ConfigReader(raw);
    const tag = typeof raw.tag === 'string' ? (raw.tag === '' ? [] : [raw.tag]) : (r.get('tag', asStringList) ?? []);
    const config: DockerTagConfig = { repository: r.get('repository', asString) ?? '', tags: [...(r.get('tags', asStringList) ?? []), ...tag], force: r.get('force', asBool) ?? false };
    const errors = r.errors;
    if (config.repository === '') errors.push('repository must be specified');
    return { config: errors.length === 0 ? config : undefined, errors, warnings: [] };
  },
  async run(config, input, ctx) {
    requireArtifact(input, [DOCKER_TAG_ID, DOCKER_IMPORT_ID], 'Can only tag from Docker builder artifacts.');
    const docker = dockerForStep(ctx);
    const names = config.tags.length > 0 ? config.tags.map((t) => `${config.repository}:${t}`) : [config.repository];
    for (const name of names) {
      ctx.ui.message(`Tagging image: ${input.id}`);
      ctx.ui.message(`Repository: ${name}`);
      const { repo, tag } = splitRepoTag(name);
      try {
        await tagImage(docker, imageRef(input.id), repo, tag);
      } catch (err) {
        throw apiError(`Error tagging image ${input.id} as ${name}`, err);
      }
    }
    const tagged = config.tags.length > 0 ? names : [];
    return { artifact: imageArtifact(docker, DOCKER_TAG_ID, names[names.length - 1]!, { docker_tags: tagged }), keep: true, forceOverride: true };
  },
} satisfies PostProcessorDef<DockerTagConfig>;

/**
 * What the docker post-processors share: the Engine API client for a step (DOCKER_HOST of the
 * step's environment, as the builder reads it), Packer's check of the input artifact's kind, and
 * the image artifact they hand on (builders/docker/artifacts.ts).
 */
import type Dockerode from 'dockerode';
import { UserError } from '../errors.js';
import type { Artifact, StepContext } from '../sdk/component.js';
import { apiMessage, openDocker, resolveEndpoint } from '../builders/docker/endpoint.js';

export { DOCKER_IMPORT_ID, imageArtifact } from '../builders/docker/artifacts.js';
export const DOCKER_TAG_ID = 'packer.post-processor.docker-tag';

export function dockerForStep(ctx: StepContext): Dockerode {
  return openDocker(resolveEndpoint(ctx.env));
}

/** Packer's "Unknown artifact type" refusal unless the input came from one of `allowed`. */
export function requireArtifact(input: Artifact, allowed: readonly string[], what: string): void {
  if (!allowed.includes(input.builderId)) {
    throw new UserError('DOCKER_ARTIFACT', `Unknown artifact type: ${input.builderId}\n${what}`);
  }
}

/** A UserError with the Engine API's message. */
export function apiError(what: string, err: unknown): UserError {
  return new UserError('DOCKER_API', `${what}: ${apiMessage(err)}`);
}

/** `docker_tags` of an artifact's state (docker-tag sets it). */
export function dockerTags(input: Artifact): string[] {
  const t = input.state.docker_tags;
  return Array.isArray(t) ? t.filter((x): x is string => typeof x === 'string') : [];
}

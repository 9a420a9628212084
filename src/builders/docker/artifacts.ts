/**
 * The docker artifacts, as Packer's: an image (ImportArtifact, "Imported Docker image: ID", made by
 * a commit and by the docker post-processors; destroying it removes the image or the tag) and an
 * exported tar (ExportArtifact, "Exported Docker file: PATH", builder id packer.docker; with
 * `discard` the path is empty).
 */
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type Dockerode from 'dockerode';
import { UserError } from '../../errors.js';
import type { Artifact } from '../../sdk/component.js';
import { apiMessage, isNotFound } from './endpoint.js';

export const DOCKER_BUILDER_ID = 'packer.docker';
export const DOCKER_IMPORT_ID = 'packer.post-processor.docker-import';

/** An image id or name as the Engine API takes it: a bare 64-hex id gets its `sha256:` prefix
 * (Podman's compatible API reads a bare one as a repository name and refuses it). */
export function imageRef(idOrName: string): string {
  return /^[0-9a-f]{64}$/.test(idOrName) ? `sha256:${idOrName}` : idOrName;
}

export function imageArtifact(docker: Dockerode, builderId: string, id: string, state: Record<string, unknown>): Artifact {
  return {
    builderId,
    id,
    files: [],
    description: `Imported Docker image: ${id}`,
    state,
    async destroy() {
      try {
        // noprune: untagged parents (snapshots of the build) stay
        await docker.getImage(imageRef(id)).remove({ noprune: true });
      } catch (err) {
        if (!isNotFound(err)) throw new UserError('DOCKER_API', `Error removing image ${id}: ${apiMessage(err)}`);
      }
    },
  };
}

export function exportArtifact(path: string, cwd: string): Artifact {
  return {
    builderId: DOCKER_BUILDER_ID,
    id: path,
    files: path === '' ? [] : [path],
    description: `Exported Docker file: ${path}`,
    state: {},
    async destroy() {
      if (path !== '') await rm(resolve(cwd, path), { force: true });
    },
  };
}

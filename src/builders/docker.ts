/**
 * The `docker` builder (Packer's builder/docker, id "packer.docker") over the Docker Engine API
 * (`dockerode`; never a docker CLI), so it works against Docker Engine and Podman's compatible
 * service alike.
 *
 * Lifecycle (the runner checkpoints each):
 * - `create`: pulls `image` when `pull` (a failed pull is only a warning when the image is present
 *   locally), creates the container from `run_command` and the options (volumes, privileged,
 *   cap_add/cap_drop, tmpfs, device, platform; `container_dir` is a tmpfs, so nothing staged
 *   there lands in the image), labels it `builder.build=<build name>` (plus any labels the run
 *   passes in `instanceLabels`), starts it and records its id, the endpoint and the image id.
 * - `connect`: the docker communicator (src/communicators/docker.ts), commands as `exec_user`.
 * - `finish`: `commit` → the image id artifact (Packer's "Imported Docker image: ID", builder id
 *   packer.post-processor.docker-import, with `changes`, `message`, `author`); `export_path` →
 *   the container's filesystem as a tar (Packer's "Exported Docker file: PATH"); `discard` → an
 *   export artifact with no file, as in Packer.
 * - `destroy`: removes the container (Packer's "Killing the container: ID").
 * - `reconnect`: true when the recorded container still exists and runs the recorded image
 *   (starting it when stopped); false when it was removed.
 * - `destroyRecorded`: removes a kept container from its record alone.
 *
 * Snapshots (for incremental rebuilds; not part of Packer): `snapshot` commits the container to an
 * image labelled with the given labels, `createFromSnapshot` starts a container from such an
 * image, `listSnapshots` / `removeSnapshot` / `snapshotExists` manage them; `snapshots` (the
 * SnapshotCapability of BuilderDef) is how the stateful run and `builder snapshots` use them.
 *
 * Networking: without `--network` in run_command, a container on Podman's service gets the host's
 * network (its bridges need root-only setup on hosts like these); on Docker Engine the default.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type Dockerode from 'dockerode';
import { UserError } from '../errors.js';
import type { BuilderDef, InstanceRecord, RecordedInstanceContext, SnapshotCapability, StepContext } from '../sdk/component.js';
import { renderGoTemplate } from '../sdk/go-template.js';
import { DOCKER_BUILDER_ID, DOCKER_IMPORT_ID, exportArtifact, imageArtifact, imageRef } from './docker/artifacts.js';
import { dockerConfigSpec, prepareDocker, type DockerConfig } from './docker/config.js';
import { checkLogin, commitContainer, createContainer, isPodman, localImageId, pullImage, type RegistryAuth } from './docker/engine.js';
import { apiMessage, isNotFound, openDocker, resolveEndpoint, type Endpoint } from './docker/endpoint.js';

export { DOCKER_BUILDER_ID, DOCKER_IMPORT_ID } from './docker/artifacts.js';
/** The label naming the build that made a container or snapshot. */
export const BUILD_LABEL = 'builder.build';
export const SNAPSHOT_LABEL = 'builder.snapshot';
/** The repository snapshot images are tagged in (`localhost/builder-snapshot:<random>`). */
export const SNAPSHOT_REPO = 'localhost/builder-snapshot';

/** What the instance record holds (plain JSON, no secret). */
export interface DockerInstanceMetadata {
  endpoint: Endpoint;
  containerId: string;
  /** The id of the image the container runs. */
  imageId: string;
  image: string;
  /** The container's configured user (owner of uploads). */
  containerUser: string;
}

function metadataOf(instance: InstanceRecord): DockerInstanceMetadata {
  const m = instance.metadata as Partial<DockerInstanceMetadata>;
  if (typeof m.endpoint !== 'object' || m.endpoint === null || typeof m.endpoint.url !== 'string' || typeof m.containerId !== 'string') {
    throw new UserError('DOCKER_RECORD', `the recorded docker instance ${instance.id} has no endpoint or container id; remove it from the state and build again`);
  }
  return { endpoint: m.endpoint, containerId: m.containerId, imageId: m.imageId ?? '', image: m.image ?? '', containerUser: m.containerUser ?? '' };
}

function dockerFor(instance: InstanceRecord): { docker: Dockerode; meta: DockerInstanceMetadata } {
  const meta = metadataOf(instance);
  return { docker: openDocker(meta.endpoint), meta };
}

function fail(what: string, err: unknown): never {
  if (err instanceof UserError) throw err;
  throw new UserError('DOCKER_API', `${what}: ${apiMessage(err)}`);
}

/** `run_command`'s image argument with `{{.Image}}` resolved. */
function runImage(config: DockerConfig, image: string): string {
  const r = renderGoTemplate(config.run.image, { Image: image });
  if (r.error) throw new UserError('DOCKER_CONFIG', `run_command: ${r.error}`);
  return r.text;
}

function render(args: readonly string[], image: string): string[] {
  return args.map((a) => renderGoTemplate(a, { Image: image }).text);
}

function devices(list: readonly string[]): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[] {
  return list.map((d) => {
    const [host = '', container, perms] = d.split(':');
    return { PathOnHost: host, PathInContainer: container || host, CgroupPermissions: perms || 'rwm' };
  });
}

function tmpfsMap(list: readonly string[], containerDir: string): Record<string, string> {
  const out: Record<string, string> = { [containerDir]: '' };
  for (const t of list) {
    const colon = t.indexOf(':');
    out[colon < 0 ? t : t.slice(0, colon)] = colon < 0 ? '' : t.slice(colon + 1);
  }
  return out;
}

/** The create body for the container of a build, from `image` (a name or an image id). */
async function containerBody(docker: Dockerode, config: DockerConfig, image: string, labels: Record<string, string>): Promise<Record<string, unknown>> {
  const run = config.run;
  const network = run.network ?? ((await isPodman(docker)) ? 'host' : undefined);
  const binds = [...run.volumes, ...Object.entries(config.volumes).map(([host, container]) => `${host}:${container}`)];
  return {
    Image: image,
    ...(run.cmd.length > 0 ? { Cmd: render(run.cmd, config.image) } : {}),
    ...(run.entrypoint !== undefined ? { Entrypoint: run.entrypoint } : {}),
    ...(run.env.length > 0 ? { Env: run.env } : {}),
    ...(run.user ? { User: run.user } : {}),
    ...(run.workdir ? { WorkingDir: run.workdir } : {}),
    ...(run.hostname ? { Hostname: run.hostname } : {}),
    Tty: run.tty,
    OpenStdin: run.interactive,
    AttachStdin: false,
    StdinOnce: false,
    Labels: { ...run.labels, ...labels },
    HostConfig: {
      ...(network ? { NetworkMode: network } : {}),
      Binds: binds,
      Tmpfs: tmpfsMap([...config.tmpfs, ...run.tmpfs], config.containerDir),
      Privileged: config.privileged || run.privileged,
      CapAdd: [...config.capAdd, ...run.capAdd],
      CapDrop: [...config.capDrop, ...run.capDrop],
      Devices: devices([...config.device, ...run.devices]),
      ExtraHosts: run.extraHosts,
      SecurityOpt: run.securityOpt,
      ...(run.init ? { Init: true } : {}),
    },
  };
}

function registryAuth(config: DockerConfig): RegistryAuth {
  return { username: config.loginUsername, password: config.loginPassword, serveraddress: config.loginServer };
}

/** Removes the password from a message (registries sometimes echo what they were sent). */
function scrub(config: DockerConfig, message: string): string {
  return config.loginPassword === '' ? message : message.split(config.loginPassword).join('<sensitive>');
}

async function pull(docker: Dockerode, config: DockerConfig, ctx: StepContext): Promise<void> {
  ctx.ui.say(`Pulling Docker image: ${config.image}`);
  let auth: RegistryAuth | undefined;
  if (config.login) {
    ctx.ui.message('Logging in...');
    auth = registryAuth(config);
    try {
      await checkLogin(docker, auth);
    } catch (err) {
      throw new UserError('DOCKER_LOGIN', scrub(config, `Error logging in to ${config.loginServer || 'the default registry'}: ${apiMessage(err)}`));
    }
  }
  try {
    await pullImage(docker, config.image, { ...(config.platform ? { platform: config.platform } : {}), ...(auth ? { auth } : {}), onStatus: (l) => ctx.ui.message(scrub(config, l)) });
  } catch (err) {
    const why = scrub(config, apiMessage(err));
    if ((await localImageId(docker, config.image).catch(() => undefined)) !== undefined) {
      ctx.ui.message(`Pull failed (${why}); using the local image ${config.image}`);
      return;
    }
    throw new UserError('DOCKER_PULL', `Error pulling Docker image: ${why}`);
  }
}

/** Creates and starts a container from `image`; the record of it. `shownImage` is the image the
 * "Run command" line names: the template's image, or the snapshot a restarted build starts from. */
async function startContainer(
  docker: Dockerode,
  endpoint: Endpoint,
  config: DockerConfig,
  image: string,
  ctx: StepContext,
  extraLabels: Record<string, string> = {},
  shownImage = config.image,
): Promise<InstanceRecord> {
  const labels: Record<string, string> = { ...extraLabels, [BUILD_LABEL]: ctx.buildName, ...(ctx.instanceLabels ?? {}) };
  ctx.ui.say('Starting docker container...');
  const shown = [...Object.entries(config.volumes).flatMap(([h, c]) => ['-v', `${h}:${c}`]), ...render(config.runCommand, shownImage)];
  ctx.ui.message(`Run command: docker run ${shown.join(' ')}`);
  let id: string;
  try {
    id = await createContainer(docker, await containerBody(docker, config, image, labels), {
      ...(config.run.name ? { name: config.run.name } : {}),
      ...(config.platform || config.run.platform ? { platform: config.platform || config.run.platform } : {}),
    });
  } catch (err) {
    fail(`Error running container from ${image}`, err);
  }
  const container = docker.getContainer(id);
  try {
    await container.start();
    const info = await container.inspect();
    ctx.ui.message(`Container ID: ${id}`);
    return {
      id,
      metadata: { endpoint, containerId: id, imageId: info.Image, image, containerUser: info.Config.User ?? '' } satisfies DockerInstanceMetadata as unknown as Record<string, unknown>,
    };
  } catch (err) {
    await container.remove({ force: true, v: true }).catch(() => undefined);
    fail(`Error starting container ${id.slice(0, 12)}`, err);
  }
}

async function removeContainer(docker: Dockerode, id: string): Promise<void> {
  try {
    await docker.getContainer(id).remove({ force: true, v: true });
  } catch (err) {
    if (!isNotFound(err)) fail(`Error removing container ${id.slice(0, 12)}`, err);
  }
}

export const dockerBuilder = {
  type: 'docker',
  builderId: DOCKER_BUILDER_ID,
  configSpec: dockerConfigSpec,
  prepare: prepareDocker,
  async create(config, ctx) {
    const endpoint = resolveEndpoint(ctx.env);
    const docker = openDocker(endpoint);
    if (config.pull) await pull(docker, config, ctx);
    return startContainer(docker, endpoint, config, runImage(config, config.image), ctx);
  },
  async connect(config, instance, ctx) {
    const { docker, meta } = dockerFor(instance);
    // Packer names the container's IP address (none with the host's network)
    const ip = await docker
      .getContainer(meta.containerId)
      .inspect()
      .then((i) => (i.NetworkSettings as { IPAddress?: string } | undefined)?.IPAddress ?? '')
      .catch(() => '');
    ctx.ui.say(`Using docker communicator to connect: ${ip}`.trimEnd());
    // loaded here: tar and the communicator are needed only once a build connects
    const { DockerCommunicator } = await import('../communicators/docker.js');
    const comm = new DockerCommunicator(docker, meta.containerId, {
      execUser: config.execUser,
      fixUploadOwner: config.fixUploadOwner,
      containerUser: meta.containerUser,
      containerDir: config.containerDir,
    });
    return { comm, info: { type: 'docker' } };
  },
  async finish(config, instance, ctx) {
    const { docker, meta } = dockerFor(instance);
    if (config.commit) {
      ctx.ui.say('Committing the container');
      let imageId: string;
      try {
        imageId = await commitContainer(docker, meta.containerId, { changes: config.changes, comment: config.message, author: config.author });
      } catch (err) {
        fail('Error committing container', err);
      }
      ctx.ui.message(`Image ID: ${imageId}`);
      return imageArtifact(docker, DOCKER_IMPORT_ID, imageId, {});
    }
    if (config.exportPath !== '') {
      ctx.ui.say('Exporting the container');
      const target = resolve(ctx.cwd, config.exportPath);
      await mkdir(dirname(target), { recursive: true });
      try {
        const stream = (await docker.getContainer(meta.containerId).export()) as unknown as NodeJS.ReadableStream;
        await pipeline(stream, createWriteStream(target), { signal: ctx.signal });
      } catch (err) {
        await rm(target, { force: true });
        fail(`Error exporting the container to ${config.exportPath}`, err);
      }
      return exportArtifact(config.exportPath, ctx.cwd);
    }
    return exportArtifact('', ctx.cwd);
  },
  async destroy(_config, instance, ctx) {
    const { docker, meta } = dockerFor(instance);
    ctx.ui.say(`Killing the container: ${meta.containerId}`);
    await removeContainer(docker, meta.containerId);
  },
  async reconnect(_config, instance, ctx) {
    const { docker, meta } = dockerFor(instance);
    let info: Dockerode.ContainerInspectInfo;
    try {
      info = await docker.getContainer(meta.containerId).inspect();
    } catch (err) {
      if (isNotFound(err)) return false;
      fail(`Error inspecting the kept container ${meta.containerId.slice(0, 12)}`, err);
    }
    if (meta.imageId !== '' && info.Image !== meta.imageId) return false;
    if (!info.State.Running) {
      ctx.ui.say(`Starting the kept container: ${meta.containerId}`);
      try {
        await docker.getContainer(meta.containerId).start();
      } catch (err) {
        fail(`Error starting the kept container ${meta.containerId.slice(0, 12)}`, err);
      }
    }
    return true;
  },
  async destroyRecorded(instance: InstanceRecord, _ctx: RecordedInstanceContext) {
    const { docker, meta } = dockerFor(instance);
    await removeContainer(docker, meta.containerId);
  },
  snapshots: {
    take: async (config, instance, labels) => ({ id: (await snapshot(config, instance, labels)).imageId }),
    startFrom: (config, id, ctx) => createFromSnapshot(config, id, ctx),
    exists: (id, ctx) => snapshotExists(id, ctx.env),
    list: (labels, ctx) => listSnapshots(labels, ctx.env),
    remove: (id, ctx) => removeSnapshot(id, ctx.env),
  } satisfies SnapshotCapability<DockerConfig>,
} satisfies BuilderDef<DockerConfig>;

// ---- snapshots ----------------------------------------------------------------------------------

function labelChange(key: string, value: string): string {
  return `LABEL ${JSON.stringify(key)}=${JSON.stringify(value)}`;
}

/** Commits the container to a snapshot image carrying `labels` (and `builder.snapshot=true`),
 * tagged `localhost/builder-snapshot:<random>`. */
export async function snapshot(_config: DockerConfig, instance: InstanceRecord, labels: Readonly<Record<string, string>>): Promise<{ imageId: string }> {
  const { docker, meta } = dockerFor(instance);
  const changes = Object.entries({ [SNAPSHOT_LABEL]: 'true', ...labels }).map(([k, v]) => labelChange(k, v));
  try {
    // tagged: Podman removes untagged parents with an image (it ignores `noprune`), and a
    // snapshot is the parent of every image committed from a container started on it
    return { imageId: await commitContainer(docker, meta.containerId, { changes, repo: SNAPSHOT_REPO, tag: randomBytes(8).toString('hex') }) };
  } catch (err) {
    fail(`Error committing a snapshot of container ${meta.containerId.slice(0, 12)}`, err);
  }
}

/** Starts a build's container from a snapshot image (no pull); the record, as `create` makes.
 * The container (and so an image committed from it) has the snapshot label emptied: a container
 * inherits its image's labels, and the final image of a rebuild must not count as a snapshot. */
export async function createFromSnapshot(config: DockerConfig, imageId: string, ctx: StepContext): Promise<InstanceRecord> {
  const endpoint = resolveEndpoint(ctx.env);
  const docker = openDocker(endpoint);
  const record = await startContainer(docker, endpoint, config, imageRef(imageId), ctx, { [SNAPSHOT_LABEL]: '' }, imageRef(imageId));
  return { ...record, metadata: { ...record.metadata, image: config.image, snapshot: imageId } };
}

export interface SnapshotInfo {
  id: string;
  labels: Record<string, string>;
  /** Unix seconds. */
  created: number;
  size: number;
}

/** Snapshot images whose labels include all of `labels`, newest first. The engine filters by the
 * snapshot label only and the rest is matched here: Podman 4.3 returns nothing for two `label`
 * filters, even equal ones. */
export async function listSnapshots(labels: Readonly<Record<string, string>>, env: NodeJS.ProcessEnv = process.env): Promise<SnapshotInfo[]> {
  const docker = openDocker(resolveEndpoint(env));
  const filters = JSON.stringify({ label: [`${SNAPSHOT_LABEL}=true`] });
  try {
    // all: an untagged snapshot that another image was committed on top of counts as an intermediate
    // image, which the listing hides otherwise
    const images = await docker.listImages({ all: true, filters } as unknown as Dockerode.ListImagesOptions);
    return images
      .map((i) => ({ id: i.Id.replace(/^sha256:/, ''), labels: i.Labels ?? {}, created: i.Created, size: i.Size }))
      .filter((i) => Object.entries(labels).every(([k, v]) => i.labels[k] === v))
      .sort((a, b) => b.created - a.created);
  } catch (err) {
    fail('Error listing snapshot images', err);
  }
}

/** True while the snapshot image exists. */
export async function snapshotExists(id: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  try {
    return (await localImageId(openDocker(resolveEndpoint(env)), imageRef(id))) !== undefined;
  } catch (err) {
    fail(`Error inspecting snapshot image ${id.slice(0, 19)}`, err);
  }
}

/** Removes a snapshot image (gone already: nothing to do). */
export async function removeSnapshot(id: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const docker = openDocker(resolveEndpoint(env));
  try {
    await docker.getImage(imageRef(id)).remove({ force: true });
  } catch (err) {
    if (!isNotFound(err)) fail(`Error removing snapshot image ${id.slice(0, 19)}`, err);
  }
}

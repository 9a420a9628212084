/**
 * Podman's Docker-compatible API service for tests, through test/helpers/podman-harness.sh (a copy
 * of the tested harness in ../shared): `start` installs podman/runc/conmon when missing (apt),
 * writes an isolated configuration next to a socket in a temp folder, starts
 * `podman system service` there and imports a busybox base image built from Debian's
 * busybox-static; `stop()` stops the service and purges every container, image and file of that
 * instance.
 *
 * Usage:
 *   const podman = await startPodman();
 *   if ('skip' in podman) return t.skip(podman.skip);
 *   try { … podman.env (DOCKER_HOST, …), podman.baseImage … } finally { await podman.stop(); }
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, type TestContext } from 'node:test';
import Dockerode from 'dockerode';

const HARNESS = resolve(fileURLToPath(import.meta.url), '../../../../test/helpers/podman-harness.sh');

export interface Podman {
  /** DOCKER_HOST and the harness's other variables. */
  env: Record<string, string>;
  /** The socket path of the API service. */
  socket: string;
  /** localhost/harness-busybox:latest */
  baseImage: string;
  /** DOCKER_HOST for the real docker CLI (through the harness's proxy), e.g. for Packer. */
  cliHost: string;
  stop(): Promise<void>;
}

/** Why podman tests cannot run here, or undefined when they can try. */
export function podmanSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'podman tests need Linux';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'podman tests run the API service as root (not root here)';
  if (spawnSync('/bin/sh', ['-c', 'command -v apt-get || command -v podman'], { encoding: 'utf8' }).stdout.trim() === '') return 'neither podman nor apt-get to install it';
  return undefined;
}

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn('/bin/bash', [HARNESS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolvePromise({ code: code ?? 1, stdout, stderr }));
  });
}

/** Starts an isolated service; `{ skip }` with the reason when it cannot run here. */
export async function startPodman(): Promise<Podman | { skip: string }> {
  const why = podmanSkipReason();
  if (why) return { skip: why };
  const dir = await mkdtemp(join(tmpdir(), 'builder-podman-'));
  const socket = join(dir, 'podman.sock');
  const stop = async (): Promise<void> => {
    await run(['stop', socket, '--purge']);
    await rm(dir, { recursive: true, force: true });
  };
  const r = await run(['start', socket]);
  if (r.code !== 0) {
    await stop();
    return { skip: `podman's API service could not be started: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}` };
  }
  const env: Record<string, string> = {};
  for (const m of r.stdout.matchAll(/^export ([A-Z_]+)=(.*)$/gm)) env[m[1]!] = m[2]!;
  return { env, socket, baseImage: env.PODMAN_HARNESS_BASE_IMAGE ?? 'localhost/harness-busybox:latest', cliHost: env.PODMAN_HARNESS_DOCKER_CLI_HOST ?? '', stop };
}

export interface PodmanSuite {
  /** The running service; undefined when skipped. */
  podman?: Podman;
  /** A client of the service (only when it runs). */
  docker: Dockerode;
  /** A temp folder for the file's builds, removed at the end. */
  work: string;
  /** True (and the test skipped with the reason) when the service does not run. */
  skipped(t: TestContext): boolean;
}

/** Starts one service for the test file (`before`) and purges it and the temp folder (`after`). */
export function usePodman(prefix: string): PodmanSuite {
  let skipReason = '';
  const suite: PodmanSuite = {
    docker: undefined as unknown as Dockerode,
    work: '',
    skipped(t) {
      if (suite.podman) return false;
      t.skip(skipReason);
      return true;
    },
  };
  before(async () => {
    const p = await startPodman();
    if ('skip' in p) skipReason = p.skip;
    else {
      suite.podman = p;
      suite.docker = new Dockerode({ socketPath: p.socket });
    }
    suite.work = await mkdtemp(join(tmpdir(), prefix));
  });
  after(async () => {
    await suite.podman?.stop();
    await rm(suite.work, { recursive: true, force: true });
  });
  return suite;
}

/** Runs `script` with /bin/sh in a new container from `image` (host network); its output. The
 * container is removed. */
export async function runInImage(docker: Dockerode, image: string, script: string): Promise<string> {
  const container = await docker.createContainer({ Image: image, Entrypoint: ['/bin/sh'], Cmd: ['-c', script], HostConfig: { NetworkMode: 'host' } } as Dockerode.ContainerCreateOptions);
  try {
    await container.start();
    await container.wait();
    return demux(await container.logs({ stdout: true, stderr: true, follow: false }));
  } finally {
    await container.remove({ force: true });
  }
}

/** The payload of a multiplexed log buffer. */
function demux(buf: Buffer): string {
  let out = '';
  for (let i = 0; i + 8 <= buf.length; ) {
    const len = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + len).toString();
    i += 8 + len;
  }
  return out;
}

/**
 * Where the Docker Engine API is, read the way the docker CLI reads it: `DOCKER_HOST`
 * (`unix:///path` or `tcp://host:port`; `http://`/`https://` accepted too), with
 * `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH` (`ca.pem`, `cert.pem`, `key.pem`) for TLS. Without
 * `DOCKER_HOST`, the first socket that exists of Docker's (`/var/run/docker.sock`), rootless
 * Docker's (`$XDG_RUNTIME_DIR/docker.sock`) and Podman's (`$XDG_RUNTIME_DIR/podman/podman.sock`,
 * `/run/podman/podman.sock`).
 *
 * `dockerode` (and its gRPC dependencies) is loaded on the first connection, not when builder
 * starts: most runs build nothing with docker.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { UserError } from '../../errors.js';
import { lazyRequire } from '../../lazy-require.js';

const dockerode = lazyRequire<typeof Dockerode>('dockerode');

/** Plain JSON naming an endpoint (saved in instance records; never holds key material). */
export interface Endpoint {
  /** `unix:///path` or `tcp://host:port` (or `https://host:port` with TLS). */
  url: string;
  /** The folder of ca.pem/cert.pem/key.pem when TLS client certificates are used. */
  certPath?: string;
  tlsVerify?: boolean;
}

function defaultSockets(env: NodeJS.ProcessEnv): string[] {
  const runtime = env.XDG_RUNTIME_DIR;
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return [
    '/var/run/docker.sock',
    ...(runtime ? [join(runtime, 'docker.sock'), join(runtime, 'podman', 'podman.sock')] : []),
    `/run/user/${uid}/podman/podman.sock`,
    '/run/podman/podman.sock',
  ];
}

/** The endpoint named by the environment, or a UserError saying where it looked. */
export function resolveEndpoint(env: NodeJS.ProcessEnv): Endpoint {
  const host = env.DOCKER_HOST ?? '';
  const tlsVerify = (env.DOCKER_TLS_VERIFY ?? '') !== '' && env.DOCKER_TLS_VERIFY !== '0';
  const certPath = env.DOCKER_CERT_PATH || undefined;
  if (host !== '') {
    if (!/^(unix|tcp|http|https):\/\//.test(host)) {
      throw new UserError('DOCKER_ENDPOINT', `DOCKER_HOST "${host}" is not a unix:// or tcp:// address; set it to e.g. unix:///var/run/docker.sock or tcp://127.0.0.1:2376`);
    }
    return { url: host, ...(certPath ? { certPath } : {}), ...(tlsVerify ? { tlsVerify } : {}) };
  }
  const candidates = defaultSockets(env);
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) {
    throw new UserError('DOCKER_ENDPOINT', `no Docker Engine API found: DOCKER_HOST is not set and none of ${candidates.join(', ')} exists; start Docker or Podman's API service (podman system service) and set DOCKER_HOST`);
  }
  return { url: `unix://${found}` };
}

function readCert(dir: string, name: string): Buffer {
  try {
    return readFileSync(join(dir, name));
  } catch (err) {
    throw new UserError('DOCKER_ENDPOINT', `cannot read ${name} in DOCKER_CERT_PATH ${dir}: ${(err as Error).message}`);
  }
}

/** A client for the endpoint. */
export function openDocker(endpoint: Endpoint): Dockerode {
  const Docker = dockerode();
  const m = /^(unix|tcp|http|https):\/\/(.*)$/.exec(endpoint.url);
  if (!m) throw new UserError('DOCKER_ENDPOINT', `unsupported Docker endpoint ${endpoint.url}`);
  const [, scheme, rest] = m as unknown as [string, string, string];
  if (scheme === 'unix') return new Docker({ socketPath: rest });
  const [hostPart, portPart] = rest.replace(/\/.*$/, '').split(/:(?=\d+$)/);
  const tls = scheme === 'https' || endpoint.tlsVerify === true || endpoint.certPath !== undefined;
  const port = portPart !== undefined ? Number(portPart) : tls ? 2376 : 2375;
  if (!tls) return new Docker({ protocol: 'http', host: hostPart, port });
  const dir = endpoint.certPath;
  return new Docker({
    protocol: 'https',
    host: hostPart,
    port,
    ...(dir ? { ca: readCert(dir, 'ca.pem'), cert: readCert(dir, 'cert.pem'), key: readCert(dir, 'key.pem') } : {}),
  });
}

/** True for the Engine API's "no such container/image" answer. */
export function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { statusCode?: number }).statusCode === 404;
}

/** The Engine API's message of an error (its JSON `message`), without dockerode's prefixes. */
export function apiMessage(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const e = err as { json?: { message?: string } | null; reason?: string; message?: string; code?: string; address?: string };
    if (e.json && typeof e.json.message === 'string') return e.json.message;
    if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') return `cannot connect to the Docker Engine API (${e.code}${e.address ? ` ${e.address}` : ''}); is the service running?`;
    if (typeof e.message === 'string') return e.message;
  }
  return String(err);
}

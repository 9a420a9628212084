/**
 * The Engine API calls the docker builder and post-processors share, over `dockerode`'s
 * connection (its `modem`) where dockerode's own wrappers do not fit Podman's compatible service:
 * Podman 4.3 refuses `POST /commit` without a JSON body, and `POST /containers/create` takes
 * `name`/`platform` as query and the configuration as body.
 */
import type Dockerode from 'dockerode';
import { apiMessage, isNotFound } from './endpoint.js';

interface DialOptions {
  path: string;
  method: 'GET' | 'POST' | 'DELETE';
  query?: Record<string, string | string[] | boolean | undefined>;
  body?: unknown;
  statusCodes: Record<number, true | string>;
  authconfig?: RegistryAuth;
}

/** Registry credentials (the X-Registry-Auth header). */
export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}

interface Modem {
  dial(options: Record<string, unknown>, callback: (err: unknown, data: unknown) => void): void;
  followProgress(stream: NodeJS.ReadableStream, onFinished: (err: unknown, output: unknown[]) => void, onProgress: (event: ProgressEvent) => void): void;
}

export interface ProgressEvent {
  status?: string;
  id?: string;
  progress?: string;
  error?: string;
  errorDetail?: { message?: string };
  stream?: string;
}

export function modemOf(docker: Dockerode): Modem {
  return docker.modem as unknown as Modem;
}

/** One Engine API request; rejects with dockerode's error (statusCode, json.message). */
export function dial<T>(docker: Dockerode, o: DialOptions): Promise<T> {
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) query[k] = typeof v === 'boolean' ? String(v) : v;
  return new Promise((resolve, reject) => {
    modemOf(docker).dial(
      {
        path: o.path,
        method: o.method,
        statusCodes: o.statusCodes,
        allowEmpty: o.body !== undefined,
        ...(o.authconfig ? { authconfig: o.authconfig } : {}),
        options: { _query: query, ...(o.body !== undefined ? { _body: o.body } : {}) },
      },
      (err, data) => (err ? reject(err) : resolve(data as T)),
    );
  });
}

/** Creates a container; resolves to its id. */
export async function createContainer(docker: Dockerode, body: Record<string, unknown>, query: { name?: string; platform?: string }): Promise<string> {
  const r = await dial<{ Id: string }>(docker, {
    path: '/containers/create?',
    method: 'POST',
    query,
    body,
    statusCodes: { 200: true, 201: true, 400: 'bad parameter', 404: 'no such image', 409: 'conflict', 500: 'server error' },
  });
  return r.Id;
}

/** Commits a container (running or not) to a new image; resolves to the image id. */
export async function commitContainer(
  docker: Dockerode,
  containerId: string,
  o: { changes?: readonly string[]; comment?: string; author?: string; repo?: string; tag?: string },
): Promise<string> {
  const r = await dial<{ Id?: string; id?: string }>(docker, {
    path: '/commit?',
    method: 'POST',
    query: {
      container: containerId,
      ...(o.changes && o.changes.length > 0 ? { changes: [...o.changes] } : {}),
      ...(o.comment ? { comment: o.comment } : {}),
      ...(o.author ? { author: o.author } : {}),
      ...(o.repo ? { repo: o.repo } : {}),
      ...(o.tag ? { tag: o.tag } : {}),
    },
    body: {},
    statusCodes: { 200: true, 201: true, 404: 'no such container', 500: 'server error' },
  });
  const id = r.Id ?? r.id;
  if (typeof id !== 'string' || id === '') throw new Error('the Engine API answered the commit without an image id');
  return id;
}

/** The id of a local image, or undefined when there is none of that name. */
export async function localImageId(docker: Dockerode, name: string): Promise<string | undefined> {
  try {
    const info = await docker.getImage(name).inspect();
    return info.Id;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Pulls an image, reporting each status line; rejects with the registry's message. */
export async function pullImage(
  docker: Dockerode,
  image: string,
  o: { platform?: string; auth?: RegistryAuth; onStatus(line: string): void },
): Promise<void> {
  const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) => {
    const opts = { ...(o.platform ? { platform: o.platform } : {}), ...(o.auth ? { authconfig: o.auth } : {}) };
    docker.pull(image, opts, (err: unknown, s?: NodeJS.ReadableStream) => (err || !s ? reject(err ?? new Error('no answer to the pull')) : resolve(s)));
  });
  await followProgress(docker, stream, o.onStatus);
}

/** Reads a JSON progress stream (pull, push, import) to its end; rejects on an error event. */
export function followProgress(docker: Dockerode, stream: NodeJS.ReadableStream, onStatus: (line: string) => void): Promise<ProgressEvent[]> {
  return new Promise((resolve, reject) => {
    let failure: string | undefined;
    modemOf(docker).followProgress(
      stream,
      (err, output) => {
        if (err) reject(err instanceof Error ? err : new Error(apiMessage(err)));
        else if (failure !== undefined) reject(new Error(failure));
        else resolve(output as ProgressEvent[]);
      },
      (event) => {
        if (event.error || event.errorDetail?.message) failure ??= event.errorDetail?.message ?? event.error;
        else if (event.status && event.progress === undefined) onStatus(event.id ? `${event.id}: ${event.status}` : event.status);
        else if (event.stream && event.stream.trim() !== '') onStatus(event.stream.trim());
      },
    );
  });
}

/** Checks registry credentials (POST /auth); rejects with the registry's message. */
export async function checkLogin(docker: Dockerode, auth: RegistryAuth): Promise<void> {
  await dial(docker, { path: '/auth', method: 'POST', body: auth, statusCodes: { 200: true, 204: true, 401: 'unauthorized', 500: 'server error' } });
}

const podmanCache = new WeakMap<Dockerode, Promise<boolean>>();

/** True when the endpoint is Podman's compatible service (no bridge networks on these hosts).
 * Asked with Podman's own ping, which Docker Engine answers with 404: Podman's `/version` runs
 * its OCI runtime and conmon to report their versions (about a second here). */
export function isPodman(docker: Dockerode): Promise<boolean> {
  let p = podmanCache.get(docker);
  if (p === undefined) {
    p = dial<unknown>(docker, { path: '/libpod/_ping', method: 'GET', statusCodes: { 200: true, 404: 'not found' } })
      .then(() => true)
      .catch(() => false);
    podmanCache.set(docker, p);
  }
  return p;
}

/** A request whose answer is a byte stream (image save, import progress, push progress). */
export function dialStream(
  docker: Dockerode,
  o: { path: string; method: 'GET' | 'POST'; query?: Record<string, string | string[] | undefined>; file?: NodeJS.ReadableStream; authconfig?: RegistryAuth | Record<string, never>; statusCodes: Record<number, true | string> },
): Promise<NodeJS.ReadableStream> {
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) query[k] = v;
  return new Promise((resolve, reject) => {
    modemOf(docker).dial(
      {
        path: o.path,
        method: o.method,
        isStream: true,
        statusCodes: o.statusCodes,
        ...(o.file ? { file: o.file } : {}),
        ...(o.authconfig ? { authconfig: o.authconfig } : {}),
        options: { _query: query },
      },
      (err, data) => (err ? reject(err) : resolve(data as NodeJS.ReadableStream)),
    );
  });
}

/** Splits `registry:5000/name:tag` into repository and tag ("" when none). */
export function splitRepoTag(ref: string): { repo: string; tag: string } {
  const at = ref.indexOf('@');
  if (at >= 0) return { repo: ref.slice(0, at), tag: '' };
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref, tag: '' };
}

/** Tags image `source` (a name or an id) as `repo[:tag]` (names URL-encoded, for Podman). */
export async function tagImage(docker: Dockerode, source: string, repo: string, tag: string): Promise<void> {
  await dial(docker, {
    path: `/images/${encodeURIComponent(source)}/tag?`,
    method: 'POST',
    query: { repo, ...(tag ? { tag } : {}) },
    statusCodes: { 200: true, 201: true, 400: 'bad parameter', 404: 'no such image', 409: 'conflict', 500: 'server error' },
  });
}

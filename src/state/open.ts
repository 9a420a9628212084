/**
 * Opens the state at a location (src/state/location.ts): the one way `build`, `plan`, every
 * `state` and every `workspace` command get a StateManager.
 *
 * The backends, by the location's scheme, are a table: a backend makes the client of one
 * workspace's state (get/put/delete plus an optional locker: src/state/interfaces.ts) and lists,
 * creates and deletes workspaces. Everything else — serial, lineage, waiting for locks, template
 * scoping — is the manager's, the same for every backend. Adding a backend is one entry here and
 * a client that passes test/state/conformance.ts.
 */
import type { PostgresStateClient } from './postgres/client.js';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError, userSystemError } from '../errors.js';
import { FileStateClient } from './file/client.js';
import type { LockInfo, StateClient } from './interfaces.js';
import { DEFAULT_WORKSPACE, locationSetting, WORKSPACES_FOLDER, type StateLocation } from './location.js';
import { StateManager } from './manager.js';
import { createMemoryWorkspace, deleteMemoryWorkspace, MemoryStateClient, memoryWorkspaces } from './memory/client.js';

export interface BackendClientOptions {
  onWarning?: (message: string) => void;
  /** How a backend whose locks are leases (postgres) holds them; others ignore it. */
  lease?: LeaseOptions;
}

/** Leases (issue 11): their time to live, who holds them, and who hears of one that was lost. */
export interface LeaseOptions {
  ttlMs?: number;
  /** Overrides of the holder's identity: a runner's name as its host, the shared run. */
  holder?: { who?: string; host?: string; run?: string };
  /** A held lease could not be renewed in time (or was broken): stop what it covers. */
  onLost?(lock: LockInfo): void;
}

/** One kind of state storage (see the module comment). */
export interface StateBackend {
  /** The client of the location's workspace's state. */
  client(location: StateLocation, options: BackendClientOptions): StateClient | Promise<StateClient>;
  /** The workspaces that exist, "default" always among them. */
  workspaces(location: StateLocation): Promise<string[]>;
  /** Makes workspace `name` exist (its state stays empty until first written). */
  createWorkspace(location: StateLocation, name: string): Promise<void>;
  /** Removes workspace `name` and its state for good (the command checked it may). */
  deleteWorkspace(location: StateLocation, name: string): Promise<void>;
}

const fileBackend: StateBackend = {
  client: (location, options) => new FileStateClient({ path: location.path, onWarning: options.onWarning }),
  async workspaces(location) {
    const dir = join(dirname(location.base), WORKSPACES_FOLDER);
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter((n) => statSync(join(dir, n)).isDirectory());
    } catch {
      names = [];
    }
    return [DEFAULT_WORKSPACE, ...names.filter((n) => n !== DEFAULT_WORKSPACE).sort()];
  },
  async createWorkspace(location, name) {
    const dir = join(dirname(location.base), WORKSPACES_FOLDER, name);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw userSystemError(err, 'create the workspace folder', dir, `Choose another state location with ${locationSetting(location.from)}.`);
    }
  },
  async deleteWorkspace(location, name) {
    const dir = join(dirname(location.base), WORKSPACES_FOLDER, name);
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch (err) {
      throw userSystemError(err, 'remove the workspace folder', dir, 'Remove it by hand.');
    }
  },
};

/** The name of a memory store: the URL without its scheme. */
const memoryName = (location: StateLocation): string => location.base.replace(/^memory:\/\//i, '');

const memoryBackend: StateBackend = {
  client: (location) => new MemoryStateClient({ name: memoryName(location), workspace: location.workspace }),
  workspaces: async (location) => memoryWorkspaces(memoryName(location)),
  createWorkspace: async (location, name) => createMemoryWorkspace(memoryName(location), name),
  deleteWorkspace: async (location, name) => deleteMemoryWorkspace(memoryName(location), name),
};

/** A PostgreSQL client of `location`'s workspace (`pg` is loaded only for postgres:// states). */
async function postgresClient(location: StateLocation, workspace: string, onWarning?: (m: string) => void, lease: LeaseOptions = {}): Promise<PostgresStateClient> {
  const { createPostgresClient } = await import('./postgres/client.js');
  return createPostgresClient(location.base, { workspace, onWarning, leaseTtlMs: lease.ttlMs, holder: lease.holder, onLeaseLost: lease.onLost });
}

/** Runs `work` with a client of workspace `name`, closing it after. */
async function withPostgres<T>(location: StateLocation, name: string, work: (c: PostgresStateClient) => Promise<T>): Promise<T> {
  const client = await postgresClient(location, name);
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

const postgresBackend: StateBackend = {
  client: (location, options) => postgresClient(location, location.workspace, options.onWarning, options.lease),
  workspaces: (location) => withPostgres(location, location.workspace, (c) => c.workspaceNames()),
  createWorkspace: (location, name) => withPostgres(location, name, (c) => c.createWorkspace()),
  deleteWorkspace: (location, name) => withPostgres(location, name, (c) => c.deleteWorkspace()),
};

/** The backends, by URL scheme ("file" also for plain paths). */
export const BACKENDS: Readonly<Record<string, StateBackend>> = {
  file: fileBackend,
  memory: memoryBackend,
  postgres: postgresBackend,
  postgresql: postgresBackend,
};

export function backendOf(location: StateLocation): StateBackend {
  const backend = BACKENDS[location.backend];
  if (!backend) {
    throw new UserError(
      'STATE_BACKEND_UNKNOWN',
      `the state ${location.base} (from ${locationSetting(location.from)}) names the backend "${location.backend}", which this builder does not have. ` +
        `Known: ${Object.keys(BACKENDS).join(', ')} (a plain path is a file).`,
    );
  }
  return backend;
}

export interface OpenStateOptions {
  /** false: no locks (-lock=false). */
  lock?: boolean;
  /** -lock-timeout, in milliseconds. */
  lockTimeoutMs?: number;
  onWarning?: (message: string) => void;
  /** The run will write the state (build): its place is checked to be writable first. */
  write?: boolean;
  /** Scope the manager to the location's template (plain build names; see StateManager). Default
   * true when the location names a template. */
  scoped?: boolean;
  /** Stops waiting for locks. */
  signal?: AbortSignal;
  /** "Acquiring state lock…" and the lines of a long wait (StateManagerOptions.onProgress). */
  onProgress?: (message: string) => void;
  /** How often a long wait says so (default 10 s; tests make it short). */
  lockProgressIntervalMs?: number;
  /** Leases of backends that have them (see LeaseOptions). */
  lease?: LeaseOptions;
}

/**
 * The manager of the state at `location`, loaded. A user's path or permission problem (a state
 * folder that cannot be created, an unreadable file) is one UserError naming what to change.
 */
export async function openState(location: StateLocation, options: OpenStateOptions = {}): Promise<StateManager> {
  const backend = backendOf(location);
  if (location.backend === 'file' && options.write) checkWritable(location);
  const client = await backend.client(location, { onWarning: options.onWarning, lease: options.lease });
  const scoped = options.scoped ?? true;
  try {
    return await StateManager.open({
      client,
      lock: options.lock,
      lockTimeoutMs: options.lockTimeoutMs,
      onWarning: options.onWarning,
      template: scoped ? location.template?.id : undefined,
      signal: options.signal,
      onProgress: options.onProgress,
      lockProgressIntervalMs: options.lockProgressIntervalMs,
      ownsClient: true,
    });
  } catch (err) {
    throw userSystemError(err, 'read the state', location.path, `Check its permissions, or choose another state with ${locationSetting(location.from)}.`);
  }
}

/** Opens a file state by path (tests and tools that name the file directly); unscoped unless `template` names a template id. */
export function openFileState(options: { path: string; template?: string } & Omit<OpenStateOptions, 'scoped' | 'write'>): Promise<StateManager> {
  const client = new FileStateClient({ path: options.path, onWarning: options.onWarning });
  const { lock, lockTimeoutMs, onWarning, signal, template, onProgress, lockProgressIntervalMs } = options;
  return StateManager.open({ client, lock, lockTimeoutMs, onWarning, signal, template, onProgress, lockProgressIntervalMs });
}

/**
 * Refuses, before anything runs, a file state whose folder cannot be created or written (a
 * template in a read-only folder): one message naming the setting that moves the state.
 */
function checkWritable(location: StateLocation): void {
  let dir = dirname(location.path);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    if (!statSync(dir).isDirectory()) {
      throw new UserError('STATE_LOCATION', `cannot keep the state at ${location.path}: ${dir} is not a folder. Choose another place with ${locationSetting(location.from)}.`);
    }
    accessSync(dir, constants.W_OK);
  } catch (err) {
    if (err instanceof UserError) throw err;
    const next =
      `${location.from === 'template' ? 'By default the state is kept next to the template; choose' : 'Choose'} a writable place ` +
      `with ${locationSetting(location.from)}, for example -state=$HOME/.cache/builder/builder-state.json.`;
    const mapped = userSystemError(err, 'write the state in', dir, next);
    if (mapped instanceof UserError) throw new UserError('STATE_LOCATION', mapped.message, { cause: err });
    throw mapped;
  }
}

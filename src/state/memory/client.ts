/**
 * The in-memory backend: states kept in this process, by name (`memory://NAME`), for tests — and
 * the smallest complete backend, the template a new one (PostgreSQL) follows:
 *
 * - `get`/`put`/`delete` store whole states. What is stored is the encoded state (src/state/
 *   format.ts), decoded again on every `get`, so a test sees exactly what persisting would keep,
 *   and every `get` returns fresh objects. `changes` are ignored: the whole state is stored.
 * - Locks as the StateLocker contract has them: `write` locks are independent of the others;
 *   `build` locks on different builds coexist; a `state` lock excludes every build lock and
 *   another state lock. `lock` tries once and throws StateLockedError naming the holders; waiting
 *   is the manager's (src/state/manager.ts). Every holder is in this process, so none is ever
 *   found abandoned.
 * - The previous version is kept as the backup; `saveCopy` keeps labelled copies.
 * - Workspaces are separate stores (`NAME` and `NAME#WORKSPACE`), listed by `memoryWorkspaces`.
 *
 * Everything is synchronous under the hood; the methods are async because a backend's are.
 */
import { LockNotFoundError, StateLockedError } from '../errors.js';
import { decodeState, encodeState } from '../format.js';
import type { LockInfo, LockRequest, StateClient } from '../interfaces.js';
import { newLockInfo } from '../lock-holder.js';
import type { StateFile } from '../types.js';

interface Store {
  state: Buffer | undefined;
  backup: Buffer | undefined;
  copies: Map<string, Buffer>;
  /** Held locks by slot: "write", "state" or "build:<key>". */
  locks: Map<string, LockInfo>;
}

/** Every memory store of this process, by name (and workspace). */
const stores = new Map<string, Store>();

function storeName(name: string, workspace: string): string {
  return workspace === 'default' ? name : `${name}#${workspace}`;
}

function storeOf(key: string): Store {
  let s = stores.get(key);
  if (!s) {
    s = { state: undefined, backup: undefined, copies: new Map(), locks: new Map() };
    stores.set(key, s);
  }
  return s;
}

export interface MemoryStateClientOptions {
  /** The store's name: `memory://NAME` names the same store in every client of this process. */
  name: string;
  workspace?: string;
}

export class MemoryStateClient implements StateClient {
  readonly location: string;
  private readonly store: Store;

  constructor(options: MemoryStateClientOptions) {
    const workspace = options.workspace ?? 'default';
    this.location = `memory://${options.name}${workspace === 'default' ? '' : ` (workspace ${workspace})`}`;
    this.store = storeOf(storeName(options.name, workspace));
  }

  async get(): Promise<StateFile | undefined> {
    const bytes = this.store.state;
    return bytes === undefined ? undefined : decodeState(bytes, { file: this.location, requireChecksum: true });
  }

  async put(state: StateFile): Promise<void> {
    const bytes = encodeState(state);
    if (this.store.state !== undefined) this.store.backup = this.store.state;
    this.store.state = bytes;
  }

  async delete(): Promise<void> {
    this.store.state = undefined;
  }

  async backup(): Promise<StateFile | undefined> {
    const bytes = this.store.backup;
    return bytes === undefined ? undefined : decodeState(bytes, { file: `${this.location} (backup)`, requireChecksum: true });
  }

  async saveCopy(label: string): Promise<string | undefined> {
    if (this.store.state === undefined) return undefined;
    const name = `${this.location} copy ${new Date().toISOString()} ${label}`;
    this.store.copies.set(name, this.store.state);
    return name;
  }

  async lock(request: LockRequest): Promise<LockInfo> {
    const locks = this.store.locks;
    const slot = request.scope === 'build' ? `build:${request.build ?? ''}` : request.scope;
    const conflicts: LockInfo[] = [];
    const held = locks.get(slot);
    if (held) conflicts.push(held);
    else if (request.scope === 'build' && locks.has('state')) conflicts.push(locks.get('state')!);
    else if (request.scope === 'state') for (const [k, l] of locks) if (k.startsWith('build:')) conflicts.push(l);
    if (conflicts.length > 0) throw new StateLockedError(this.location, conflicts, 0);
    const info = newLockInfo(request.scope, request.operation, this.location, request.build);
    locks.set(slot, info);
    return info;
  }

  async unlock(id: string): Promise<LockInfo> {
    for (const [slot, info] of this.store.locks) {
      if (info.id !== id) continue;
      this.store.locks.delete(slot);
      return info;
    }
    throw new LockNotFoundError(this.location, id, [...this.store.locks.values()]);
  }

  async locks(): Promise<LockInfo[]> {
    return [...this.store.locks.values()];
  }
}

/** The workspaces of memory store `name` (created or written), with "default" always first. */
export function memoryWorkspaces(name: string): string[] {
  const names = new Set(['default']);
  for (const key of stores.keys()) if (key.startsWith(`${name}#`)) names.add(key.slice(name.length + 1));
  return [...names];
}

/** Creates workspace `workspace` of store `name` (empty until first written). */
export function createMemoryWorkspace(name: string, workspace: string): void {
  storeOf(storeName(name, workspace));
}

/** Forgets workspace `workspace` of store `name`, its state and locks included. */
export function deleteMemoryWorkspace(name: string, workspace: string): void {
  stores.delete(storeName(name, workspace));
}

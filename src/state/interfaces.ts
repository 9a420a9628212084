/**
 * The small interfaces of the state engine (after Terraform's statemgr), and the contract of a
 * backend client.
 *
 * - StateReader / StateWriter: the in-memory snapshot; reads return copies and never fail.
 * - StateRefresher / StatePersister: durable I/O.
 * - StateLocker: exclusive locks with a holder that can be named.
 *
 * A backend is a dumb `StateClient`: it stores and returns whole states (plus, optionally, the
 * incremental `StateChange` that led to one) and provides locks. It never decides serial or
 * lineage: `StateManager` (src/state/manager.ts) owns those and is the only code that calls a
 * client. Every client passes the shared conformance suite (test/state/conformance.ts).
 */
import type { BuildState, LastRun, StateFile, StepState, TemplateState } from './types.js';

export interface StateReader {
  /** A deep copy of the whole state. */
  snapshot(): StateFile;
  /** A deep copy of one build, or undefined. */
  build(key: string): BuildState | undefined;
}

export interface StateWriter {
  /** Applies `fn` to the latest version of one build and persists the result (see StateManager.update). */
  update(key: string, fn: (build: BuildState | undefined) => BuildState | undefined): Promise<boolean>;
}

export interface StateRefresher {
  /** Loads the latest persisted state. */
  refresh(): Promise<void>;
}

export interface StatePersister {
  /** Writes the whole in-memory state durably (a compaction for journaled backends). */
  persist(): Promise<void>;
}

export interface StateLocker {
  lock(request: LockRequest): Promise<LockInfo>;
  unlock(id: string): Promise<LockInfo>;
}

/**
 * What a lock excludes:
 * - `write`: the short critical section of one read-modify-write of the state (milliseconds);
 * - `build`: one build, for as long as a process works on it (a whole build run);
 * - `state`: every build (state push/restore and other whole-state rewrites).
 * `build` locks on different builds coexist; a `state` lock excludes every `build` lock and
 * another `state` lock. `write` locks are independent of the other two.
 */
export type LockScope = 'write' | 'build' | 'state';

export interface LockRequest {
  scope: LockScope;
  /** The build key, for scope `build`. */
  build?: string;
  /** What the holder is doing, shown to whoever finds the lock ("build", "state rm", …). */
  operation: string;
  /**
   * How long the client may wait inside this one call; 0: try once. Waiting is the manager's job
   * (StateManager, after Terraform's LockWithContext): it asks for build and state locks with 0 and
   * tries again itself. Only for the `write` lock may it pass more, for a client that can wait
   * for that millisecond-long lock more cheaply inside the call (the file backend does).
   */
  timeoutMs: number;
  /**
   * For scope `state`: the caller keeps asking until this time (epoch ms). A backend may then
   * record the intent to take the state lock, so that no new build lock is granted meanwhile and
   * the running builds' locks drain: without it a push or restore never got the state lock while
   * overlapping builds kept running (issue 15). The intent lapses at this time by itself.
   */
  waitUntil?: number;
}

/** A held lock, as recorded by the backend and shown to other processes. */
export interface LockInfo {
  id: string;
  scope: LockScope;
  /** The build key, for scope `build`. */
  build?: string;
  operation: string;
  /** user@host */
  who: string;
  host: string;
  pid: number;
  /** The holder's process start time (Linux: /proc/PID/stat field 22), to tell a reused pid apart. */
  pid_start?: string;
  /** The holder's boot (Linux /proc/sys/kernel/random/boot_id): its pid means nothing after a reboot. */
  boot_id?: string;
  /** The holder's pid namespace (Linux readlink /proc/self/ns/pid): a pid is only checked in the same one. */
  pid_ns?: string;
  /** RFC 3339 */
  created: string;
  /** The state's location (file path or URL). */
  path: string;
  /** builder version of the holder. */
  version: string;
  /** The shared run (`build -run-id`) the holder works for, when the backend records it (PostgreSQL). */
  run?: string;
  /** RFC 3339: when the lock lapses unless renewed, on the server's clock (PostgreSQL leases). */
  expires?: string;
}

/** One step record of a build, replaced: what a checkpoint changes (see StateManager.updateStep). */
export interface StepChange {
  build: string;
  list: StepList;
  index: number;
  step: StepState;
}

export type StepList = 'provisioners' | 'post_processors';

/** What changed between two consecutive versions of a state. */
export interface StateChange {
  /** New record of each changed build; null for a removed build. */
  builds?: Record<string, BuildState | null>;
  /** Step records replaced in builds the state already holds (applied after `builds`). */
  steps?: StepChange[];
  /** New record of each changed template (by template id); null for a removed one. */
  templates?: Record<string, TemplateState | null>;
  last_run?: LastRun | null;
}

export interface PutOptions {
  /**
   * Default true. false: the change must survive the death of this process (SIGKILL) like any
   * other, and readers see it at once, but it need not be flushed to the disk before put resolves:
   * a power failure may lose it until the next durable put, which flushes it too. For records
   * whose loss is harmless (a step marked `running` reads as `pending` when lost — both re-run).
   */
  durable?: boolean;
  /**
   * The caller does not hold the write lock for this put (an optimistic put, `optimisticPuts`): a
   * write lease the client holds belongs to another of its users (another manager), so the put
   * neither depends on it nor is let through by it. Clients without optimistic puts ignore it.
   */
  unlocked?: boolean;
}

export interface StateClient {
  /** Where the state lives, for messages (a file path or a URL without credentials). */
  readonly location: string;
  /** The latest persisted state, verified and upgraded, as fresh objects; undefined when none exists. */
  get(): Promise<StateFile | undefined>;
  /**
   * A secret of this state kept outside it (the file backend: `<state>.key`, 0600), salting the
   * hashes of sensitive values (src/state/sensitive.ts); absent: the lineage alone salts them.
   */
  secretKey?(): string;
  /**
   * Optional fast path: brings `known` — the object last returned by get/refresh or passed to put —
   * up to date, possibly by mutating it in place, at a cost proportional to what changed since.
   * Returns the up-to-date state (which may be a new object), or undefined when none exists.
   */
  refresh?(known: StateFile): Promise<StateFile | undefined>;
  /**
   * Persists `state` durably and atomically. `changes`, when given, are exactly what differs from
   * the version the client last returned or stored, in order, one serial each (the last one is
   * `state.serial`); a client may persist just those (journal records), all or none of them.
   * Callers hold the `write` lock — except for puts with `changes` to a client that declares
   * `optimisticPuts`.
   */
  put(state: StateFile, changes?: readonly StateChange[], options?: PutOptions): Promise<void>;
  /**
   * True when a put with `changes` is safe without the write lock (issue 11): the client itself
   * refuses, atomically, a change whose base serial is no longer the stored one, throwing a
   * UserError with code STATE_CONFLICT and writing nothing; the manager then reloads and tries
   * again. Whole puts still take the write lock.
   */
  readonly optimisticPuts?: boolean;
  /** Removes the state (and its journal) for good. */
  delete(): Promise<void>;
  /**
   * Takes a lock, or throws StateLockedError naming the live holders (see LockRequest.timeoutMs:
   * with 0, after one try). A client may take over a lock whose holder it knows to be dead.
   */
  lock?(request: LockRequest): Promise<LockInfo>;
  /** Breaks the lock with this id, whoever holds it. Throws LockNotFoundError when none matches. */
  unlock?(id: string): Promise<LockInfo>;
  /** Every lock currently held. */
  locks?(): Promise<LockInfo[]>;
  /** The previous version of the state kept by the last full write, if the backend keeps one. */
  backup?(): Promise<StateFile | undefined>;
  /** Copies the current state to a new, timestamped backup; returns where. */
  saveCopy?(label: string): Promise<string | undefined>;
  /** Folds any incremental records into the full state (journaled backends). `onlyWhenWorthIt`:
   * the backend may skip it while the records are small against the state (a manager closing). */
  compact?(onlyWhenWorthIt?: boolean): Promise<void>;
  /** Releases what the client holds open (a connection pool); called once by StateManager.close. */
  close?(): Promise<void>;
}

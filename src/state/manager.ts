/**
 * StateManager: the one owner of a state's serial and lineage, over any backend client.
 *
 * Contracts:
 * - Reads (`snapshot`, `build`, `buildKeys`) serve the in-memory version and return copies.
 * - Every change is a transaction: under the backend's short `write` lock the manager brings its
 *   copy up to the latest persisted version, applies the change to that, and — only when something
 *   actually changed — bumps the serial by exactly one and persists it before the lock is released.
 *   So concurrent writers (other processes, or other builds of this process) never lose an update.
 *   Transactions of one manager are also queued in-process, so builds running concurrently in one
 *   process do not poll the lock file; the transactions that queued up while the previous ones ran
 *   are committed together (group commit): one write lock, one read of what changed, and one
 *   persist of their changes in order — each still its own serial — with one flush to the disk.
 *   A client that refuses a change whose base serial moved (`optimisticPuts`: PostgreSQL) takes
 *   incremental changes without the write lock; the manager retries a refused one on the latest
 *   version (see commit). Whole writes always take it.
 * - `update(key, fn)` changes one build and persists just that build (a journal record for the
 *   file backend): the cost of a checkpoint does not depend on how many builds the state holds.
 * - The lineage is created with the state (on its first persisted change) and never changes
 *   except by a forced push of another state.
 * - Long-lived locks: `lockBuild` (one build, for a whole run) and `lockState` (everything, for
 *   push/restore). Different builds lock independently; see docs/design.md ("State locking").
 * - With `lock: false`, no lock is taken at all (the caller asked for it; a warning is given).
 * - Waiting for a held lock happens here, not in the backend (Terraform's LockWithContext): a
 *   client's `lock` tries once; the manager tries again with growing, jittered delays until
 *   `lockTimeoutMs` has passed (or `signal` aborts), then throws StateLockedError naming the
 *   holder and how long it waited.
 * - Scoped to a template (`template: id`), the manager speaks plain build names: `build`,
 *   `buildKeys`, `update`, `updateStep`, `remove` and `lockBuild` take and return the names of
 *   that template's builds, stored under `buildKey(id, name)` (src/state/identity.ts), and
 *   `setTemplate` writes that template's record. Unscoped, keys are taken as stored.
 */
import { randomUUID } from 'node:crypto';
import { log } from '../log.js';
import { goDuration } from '../ui/go-duration.js';
import { BUILDER_VERSION, PACKER_LANGUAGE_VERSION } from '../version.js';
import { KEY_SEPARATOR } from './sensitive.js';
import { StateGoneError, StateLockedError, StatePushRefusedError } from './errors.js';
import { buildKey, parseBuildKey } from './identity.js';
import { validateBuild, validateStep } from './format.js';
import type { LockInfo, LockRequest, PutOptions, StateChange, StateClient, StatePersister, StateReader, StateRefresher, StateWriter, StepList } from './interfaces.js';
import { STATE_FORMAT_VERSION, type BuildState, type LastRun, type StateFile, type StepState, type TemplateState } from './types.js';

/** The write lock protects milliseconds of work; waiting this long for it means its holder is stuck. */
const WRITE_LOCK_WAIT_MS = 60_000;

export interface StateManagerOptions {
  client: StateClient;
  /** false: take no locks at all (-lock=false). Default true. */
  lock?: boolean;
  /** How long lockBuild/lockState wait for a held lock (-lock-timeout); 0 refuses at once. */
  lockTimeoutMs?: number;
  /** Where warnings go (abandoned locks taken over, locking disabled). */
  onWarning?: (message: string) => void;
  /** The id of the template whose builds this manager works on (see the module comment). */
  template?: string;
  /** The manager made the client (openState): `close` closes it too. */
  ownsClient?: boolean;
  /** Stops waiting for a lock (the run was interrupted). */
  signal?: AbortSignal;
  /** Told while lockBuild/lockState wait for a held lock: once when the wait starts ("Acquiring
   * state lock…", naming the holder), then every `lockProgressIntervalMs` (default 10 s). */
  onProgress?: (message: string) => void;
  lockProgressIntervalMs?: number;
}

/** How often a wait for a build or state lock says it is still waiting. */
export const LOCK_PROGRESS_INTERVAL_MS = 10_000;

/** First and largest delay between two tries of a build or state lock, and of the write lock. */
const LOCK_RETRY_MS = { first: 10, max: 1000 };
const WRITE_LOCK_RETRY_MS = { first: 1, max: 10 };

/** What a transaction body returns: the change it made to the state it was given, if any. */
interface Outcome<T> {
  result: T;
  /** The change, already applied in place; undefined when nothing changed. */
  change?: StateChange;
  /** Persist the whole state rather than the change (push, restore). */
  whole?: boolean;
}

/** A transaction waiting for its turn (see `transact`). */
interface Pending {
  operation: string;
  options: PutOptions;
  body: (state: StateFile) => Outcome<unknown>;
  resolve: (result: unknown) => void;
  reject: (err: unknown) => void;
}

/** Options of `StateManager.update`. */
export interface UpdateOptions {
  /** Default true. false: see PutOptions.durable (the change still survives a crash of this process). */
  durable?: boolean;
}

/** A new, empty state (not persisted until its first change). */
export function newState(): StateFile {
  return {
    version: STATE_FORMAT_VERSION,
    serial: 0,
    lineage: randomUUID(),
    builder_version: BUILDER_VERSION,
    packer_version: PACKER_LANGUAGE_VERSION,
    templates: {},
    builds: {},
    last_run: null,
  };
}

export class StateManager implements StateReader, StateWriter, StateRefresher, StatePersister {
  readonly client: StateClient;
  private readonly locking: boolean;
  private readonly lockTimeoutMs: number;
  private readonly warn: (message: string) => void;
  /** The template id of a scoped manager. */
  readonly template: string | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly ownsClient: boolean;
  private readonly progress: ((message: string) => void) | undefined;
  private readonly progressIntervalMs: number;
  /** The latest version this manager knows; `persisted` says whether it exists in the backend. */
  private current: StateFile = newState();
  private persisted = false;
  private queue: Promise<unknown> = Promise.resolve();
  /** Transactions queued behind the running work, committed together when their turn comes. */
  private waiting: Pending[] | undefined;
  /** Build and state locks this manager holds, by id. */
  private readonly held = new Map<string, LockInfo>();

  constructor(options: StateManagerOptions) {
    this.client = options.client;
    this.locking = options.lock !== false && typeof options.client.lock === 'function';
    this.lockTimeoutMs = options.lockTimeoutMs ?? 0;
    this.warn = options.onWarning ?? (() => undefined);
    this.template = options.template;
    this.signal = options.signal;
    this.ownsClient = options.ownsClient === true;
    this.progress = options.onProgress;
    this.progressIntervalMs = options.lockProgressIntervalMs ?? LOCK_PROGRESS_INTERVAL_MS;
    if (options.lock === false) {
      this.warn(
        `state locking is disabled (-lock=false): another run on ${options.client.location} at the same time ` +
          "can overwrite this run's changes or work on the same build.",
      );
    }
  }

  /** A manager with the latest persisted state loaded. */
  static async open(options: StateManagerOptions): Promise<StateManager> {
    const m = new StateManager(options);
    await m.refresh();
    return m;
  }

  get location(): string {
    return this.client.location;
  }
  /** True when the state exists in the backend. */
  get exists(): boolean {
    return this.persisted;
  }
  get serial(): number {
    return this.current.serial;
  }
  get lineage(): string {
    return this.current.lineage;
  }
  /** The salt of sensitive values' hashes in this state (see saltFor). */
  get salt(): string {
    return this.saltFor(this.current.lineage);
  }
  /** The salt of sensitive values' hashes in a state of `lineage`: the lineage and the backend's
   * secret key of the state, when it keeps one (src/state/sensitive.ts). */
  saltFor(lineage: string): string {
    this.key ??= this.client.secretKey?.() ?? '';
    return this.key === '' ? lineage : `${lineage}${KEY_SEPARATOR}${this.key}`;
  }
  private key: string | undefined;
  /** Whether this manager persisted a change (close compacts the journal only then). */
  private wrote = false;

  // ---- reading -----------------------------------------------------------------------------------

  snapshot(): StateFile {
    return copyJson(this.current);
  }

  build(key: string): BuildState | undefined {
    const b = this.current.builds[this.stored(key)];
    return b === undefined ? undefined : structuredClone(b);
  }

  /** The status of a build (no copy of its record: `state list` of 100,000 builds). */
  buildStatus(key: string): BuildState['status'] | undefined {
    return this.current.builds[this.stored(key)]?.status;
  }

  /** The id of the instance a failed build kept for a resume, if any (no copy of the record). */
  keptInstanceId(key: string): string | undefined {
    const instance = this.current.builds[this.stored(key)]?.instance;
    return instance?.keep_on_failure ? instance.id : undefined;
  }

  /** The keys of the builds (scoped: the names of this template's builds). */
  buildKeys(): string[] {
    const keys = Object.keys(this.current.builds);
    if (this.template === undefined) return keys;
    const names: string[] = [];
    for (const k of keys) {
      const parsed = parseBuildKey(k);
      if (parsed?.templateId === this.template) names.push(parsed.buildName);
    }
    return names;
  }

  /** The record of this manager's template (a scoped manager), if the state has one. */
  templateRecord(): TemplateState | undefined {
    const t = this.template === undefined ? undefined : this.current.templates[this.template];
    return t === undefined ? undefined : structuredClone(t);
  }

  /** The name this manager gives the build stored under `stored`. */
  private shown(stored: string): string {
    return this.template === undefined ? stored : (parseBuildKey(stored)?.buildName ?? stored);
  }

  /** The stored key of a build this manager names `key`. */
  private stored(key: string): string {
    return this.template === undefined ? key : buildKey(this.template, key);
  }

  async refresh(): Promise<void> {
    await this.serialize(() => this.load());
  }

  // ---- transactions ------------------------------------------------------------------------------

  /**
   * Applies `fn` to the latest version of build `key` and persists the result. `fn` gets a copy
   * (undefined when the build is not in the state) and either changes it in place (returning
   * nothing), returns a new record, or returns null to remove the build. Resolves to true when
   * something changed (and the serial grew by one), false otherwise.
   */
  update(name: string, fn: (draft: BuildState | undefined) => BuildState | null | void, options: UpdateOptions = {}): Promise<boolean> {
    const key = this.stored(name);
    return this.transact(`update build ${key}`, options, (state) => {
      const before = state.builds[key];
      const draft = before === undefined ? undefined : structuredClone(before);
      const returned = fn(draft);
      const after = returned === undefined ? draft : returned;
      if (after === null || after === undefined) {
        if (before === undefined) return { result: false };
        delete state.builds[key];
        return { result: true, change: { builds: { [key]: null } } };
      }
      const fault = validateBuild(key, after);
      if (fault) throw new Error(`invalid build record for the state: ${fault}`);
      if (before !== undefined && JSON.stringify(before) === JSON.stringify(after)) return { result: false };
      state.builds[key] = after;
      return { result: true, change: { builds: { [key]: after } } };
    });
  }

  /**
   * Applies `fn` to a copy of the latest version of one step record (`list[index]` of build `key`)
   * and persists just that step: the change written (a journal record for the file backend) is a
   * few hundred bytes however many steps the build has, which keeps per-step checkpoints cheap.
   * Resolves to false, writing nothing, when the build or the step is not in the state or `fn`
   * changed nothing.
   */
  updateStep(name: string, list: StepList, index: number, fn: (draft: StepState) => void, options: UpdateOptions = {}): Promise<boolean> {
    const key = this.stored(name);
    return this.transact(`update build ${key}`, options, (state) => {
      const build = state.builds[key];
      const before = build?.[list][index];
      if (build === undefined || before === undefined) return { result: false };
      const draft = { ...before };
      fn(draft);
      if (sameFields(before, draft)) return { result: false };
      const fault = validateStep(`build "${key}" ${list}[${index}]`, draft);
      if (fault) throw new Error(`invalid step record for the state: ${fault}`);
      build[list][index] = draft;
      return { result: true, change: { steps: [{ build: key, list, index, step: draft }] } };
    });
  }

  /**
   * Records the template (path, hash, variables — see recordVariables — and files) of a run.
   * Given a function, calls it with the salt (saltFor) of the state the record is written to: salt
   * sensitive values with that, since a state another process created meanwhile replaces the
   * lineage this manager made up for a state that did not exist yet.
   */
  setTemplate(record: TemplateState | ((lineage: string) => TemplateState)): Promise<boolean> {
    const id = this.template;
    if (id === undefined) return Promise.reject(new Error('setTemplate needs a manager scoped to a template'));
    return this.transact('record the template', {}, (state) => {
      const template = typeof record === 'function' ? record(this.saltFor(state.lineage)) : record;
      if (JSON.stringify(state.templates[id]) === JSON.stringify(template)) return { result: false };
      state.templates[id] = structuredClone(template);
      return { result: true, change: { templates: { [id]: state.templates[id] } } };
    });
  }

  setLastRun(lastRun: LastRun | null, options: UpdateOptions = {}): Promise<boolean> {
    return this.transact('record the run', options, (state) => {
      if (JSON.stringify(state.last_run) === JSON.stringify(lastRun)) return { result: false };
      state.last_run = lastRun && { ...lastRun };
      return { result: true, change: { last_run: state.last_run } };
    });
  }

  /** Forgets these builds; resolves to the keys that were in the state. */
  remove(keys: readonly string[]): Promise<string[]> {
    return this.transact('remove builds', {}, (state) => {
      const removed = keys.filter((k) => state.builds[this.stored(k)] !== undefined);
      if (removed.length === 0) return { result: removed };
      const builds: Record<string, null> = {};
      for (const k of removed) {
        delete state.builds[this.stored(k)];
        builds[this.stored(k)] = null;
      }
      return { result: removed, change: { builds } };
    });
  }

  /**
   * Replaces the whole state with `next` (state push, state restore). Refused — unless `force` —
   * when `next` is of another lineage, older than the current state, or of the same serial with
   * different content. The serial still never goes back: the result's serial is the larger of
   * `next.serial` and the current serial + 1. Resolves to true when something changed.
   */
  replace(next: StateFile, options: { force: boolean }): Promise<boolean> {
    return this.transact('replace the state', {}, (state) => {
      if (this.persisted && !options.force) {
        if (next.lineage !== state.lineage) {
          throw new StatePushRefusedError(
            'STATE_LINEAGE_MISMATCH',
            `the state to write has lineage ${next.lineage}, but the state at ${this.location} has lineage ${state.lineage}: ` +
              'they are different states, not versions of one state.',
          );
        }
        if (next.serial < state.serial) {
          throw new StatePushRefusedError(
            'STATE_SERIAL_OLDER',
            `the state at ${this.location} is newer (serial ${state.serial}) than the state to write (serial ${next.serial}).`,
          );
        }
        if (next.serial === state.serial && !sameContent(next, state)) {
          throw new StatePushRefusedError(
            'STATE_SERIAL_OLDER',
            `the state at ${this.location} has the same serial (${state.serial}) as the state to write but different content.`,
          );
        }
      }
      if (this.persisted && sameContent(next, state) && next.lineage === state.lineage) return { result: false };
      const serial = this.persisted ? Math.max(next.serial, state.serial + 1) : Math.max(next.serial, 1);
      Object.assign(state, copyJson(next), {
        version: STATE_FORMAT_VERSION,
        serial: serial - 1, // transact adds the one
        builder_version: BUILDER_VERSION,
        packer_version: PACKER_LANGUAGE_VERSION,
      });
      return { result: true, change: {}, whole: true };
    });
  }

  /** Writes the whole state durably (compacting any journal); the serial does not change. */
  persist(): Promise<void> {
    return this.transact('write the state', {}, () => ({ result: undefined, whole: this.persisted }));
  }

  /** Folds the backend's journal (if any) into its full state file. */
  compact(onlyWhenWorthIt = false): Promise<void> {
    return this.serialize(() =>
      this.withWriteLock('compact the state', async () => {
        if (this.client.compact) await this.client.compact(onlyWhenWorthIt);
      }),
    );
  }

  // ---- locks -------------------------------------------------------------------------------------

  /**
   * Takes the lock of one build for a whole run, waiting up to `lockTimeoutMs` for another
   * holder; undefined when locking is off. The info returned names the build as the caller does.
   */
  async lockBuild(name: string, operation: string): Promise<LockInfo | undefined> {
    if (!this.locking || !this.client.lock) return undefined;
    const info = await this.acquire({ scope: 'build', build: this.stored(name), operation }, this.lockTimeoutMs, false);
    this.held.set(info.id, info);
    return { ...info, build: name };
  }

  /** Takes the lock of the whole state (excludes every build lock); undefined when locking is off. */
  async lockState(operation: string): Promise<LockInfo | undefined> {
    if (!this.locking || !this.client.lock) return undefined;
    const info = await this.acquire({ scope: 'state', operation }, this.lockTimeoutMs, false);
    this.held.set(info.id, info);
    return info;
  }

  /**
   * Tries the client's lock until it is granted or `timeoutMs` has passed, with growing delays
   * (jittered, so that waiters do not retry in step). `clientMayWait`: the client may spend the
   * remaining time inside one call (the write lock, whose holder is gone within milliseconds: the
   * file backend polls it more cheaply than a round trip through here); otherwise it tries once.
   * Throws the client's StateLockedError, carrying how long this waited, when time runs out.
   */
  private async acquire(request: Omit<LockRequest, 'timeoutMs'>, timeoutMs: number, clientMayWait: boolean): Promise<LockInfo> {
    const lock = this.client.lock!.bind(this.client);
    const retry = request.scope === 'write' ? WRITE_LOCK_RETRY_MS : LOCK_RETRY_MS;
    const started = Date.now();
    let delay = retry.first;
    let reported: number | undefined;
    for (;;) {
      const remaining = Math.max(0, timeoutMs - (Date.now() - started));
      try {
        const waitUntil = request.scope === 'state' && timeoutMs > 0 ? started + timeoutMs : undefined;
        const info = await lock({ ...request, timeoutMs: clientMayWait ? remaining : 0, waitUntil });
        if (log.on && request.scope !== 'write') log.debug('state', `took the ${request.scope} lock ${info.id}${request.build ? ` of build "${request.build}"` : ''} of ${this.location} for "${request.operation}"`);
        return info;
      } catch (err) {
        if (!(err instanceof StateLockedError)) throw err;
        const waited = Date.now() - started;
        if (waited >= timeoutMs || this.signal?.aborted) {
          throw timeoutMs > 0 ? new StateLockedError(this.location, err.holders, waited) : err;
        }
        if (request.scope !== 'write' && (reported === undefined || waited - reported >= this.progressIntervalMs)) {
          this.reportWait(request, err.holders, reported === undefined ? undefined : waited);
          reported = waited;
        }
        await pause(Math.min(delay * (0.5 + Math.random()), timeoutMs - waited), this.signal);
        delay = Math.min(delay * 1.6, retry.max);
      }
    }
  }

  /** "Acquiring state lock…" when a wait starts (`waitedMs` undefined), then a line per interval. */
  private reportWait(request: Omit<LockRequest, 'timeoutMs'>, holders: readonly LockInfo[], waitedMs: number | undefined): void {
    const what = request.scope === 'build' ? `the lock of build "${this.shown(request.build ?? '')}" of ${this.location}` : `the lock of the state ${this.location}`;
    const by = holders.length === 0 ? '' : `, held by ${holders.map((h) => `${h.who} (pid ${h.pid}) for "${h.operation}" since ${h.created}, lock ID ${h.id}`).join('; ')}`;
    const message =
      waitedMs === undefined
        ? `Acquiring state lock. This may take a few moments... (waiting for ${what}${by})`
        : `Still waiting for ${what} (${goDuration(Math.round(waitedMs / 1000) * 1000)} elapsed)...`;
    if (log.on) log.info('state', message);
    this.progress?.(message);
  }

  /** Releases a lock this manager took, or breaks any lock by id (`state unlock`). */
  async unlock(id: string): Promise<LockInfo> {
    if (!this.client.unlock) throw new Error(`the state backend at ${this.location} has no locks`);
    const info = await this.client.unlock(id);
    this.held.delete(id);
    if (log.on) log.debug('state', `released the ${info.scope} lock ${id} of ${this.location}`);
    return info;
  }

  async locks(): Promise<LockInfo[]> {
    return this.client.locks ? this.client.locks() : [];
  }

  /** The build locks held now, by the name this manager gives each build (a scoped manager: only
   * its template's builds). */
  async buildLocks(): Promise<Map<string, LockInfo>> {
    const held = new Map<string, LockInfo>();
    for (const l of await this.locks()) {
      if (l.scope !== 'build' || l.build === undefined) continue;
      if (this.template !== undefined && parseBuildKey(l.build)?.templateId !== this.template) continue;
      held.set(this.shown(l.build), l);
    }
    return held;
  }

  /** Releases every lock this manager holds and, when it wrote, compacts the journal. */
  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    const ids = [...this.held.keys()];
    for (const id of ids) {
      try {
        await this.unlock(id);
      } catch {
        this.held.delete(id); // broken by someone else meanwhile
      }
    }
    try {
      // Only a manager that wrote compacts: a read-only use (`plan`, `build -plan`, `state list`)
      // must not wait for the write lock (it hung on a held one, issue 15).
      if (this.persisted && this.wrote && this.client.compact) await this.compact(true);
    } finally {
      if (this.ownsClient) await this.client.close?.();
    }
  }

  // ---- internals ---------------------------------------------------------------------------------

  private serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async withWriteLock<T>(operation: string, work: () => Promise<T>): Promise<T> {
    if (!this.locking || !this.client.lock || !this.client.unlock) return work();
    const lock = await this.acquire({ scope: 'write', operation }, Math.max(this.lockTimeoutMs, WRITE_LOCK_WAIT_MS), true);
    try {
      return await work();
    } finally {
      await this.client.unlock(lock.id);
    }
  }

  /** Brings `current` up to the latest persisted version. */
  private async load(): Promise<void> {
    const latest = this.persisted && this.client.refresh ? await this.client.refresh(this.current) : await this.client.get();
    if (latest) {
      this.current = latest;
      this.persisted = true;
    } else if (this.persisted) {
      // Removed under us (its folder deleted during a build): carrying on with a new, empty
      // state recorded nothing of what the run did, and the run ended with exit status 0.
      throw new StateGoneError(this.location);
    }
  }

  /**
   * Runs `body` on the latest state and persists its change, in turn with the manager's other work.
   * Transactions that queue up behind running work are committed as one group (see the module
   * comment); each resolves once the group's changes are persisted, or rejects with its own error
   * (the others still commit) or with the group's persist error (nothing of the group is kept).
   */
  private transact<T>(operation: string, options: PutOptions, body: (state: StateFile) => Outcome<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = { operation, options, body, resolve: resolve as (r: unknown) => void, reject };
      if (this.waiting) {
        this.waiting.push(pending);
        return;
      }
      const group = [pending];
      this.waiting = group;
      void this.serialize(async () => {
        if (this.waiting === group) this.waiting = undefined;
        await this.commit(group);
      });
    });
  }

  /**
   * Commits a group of transactions under one write lock (see transact) — or, when the client
   * takes incremental puts without it (`optimisticPuts`), without the lock: a put refused because
   * another writer moved the serial first (STATE_CONFLICT) is retried on the latest state, and a
   * group that turns out to need a whole write is done again under the lock.
   */
  private async commit(group: Pending[]): Promise<void> {
    let settled: { pending: Pending; ok: boolean; value: unknown }[] = [];
    const attempt = async (locked: boolean): Promise<boolean> => {
      settled = [];
      await this.load();
      const state = this.current;
      const changes: StateChange[] = [];
      let whole = false;
      let durable = false;
      for (const pending of group) {
        let outcome: Outcome<unknown>;
        try {
          outcome = pending.body(state);
        } catch (err) {
          settled.push({ pending, ok: false, value: err });
          continue;
        }
        settled.push({ pending, ok: true, value: outcome.result });
        if (outcome.change) {
          state.serial += 1;
          changes.push(outcome.change);
        }
        if (outcome.change || outcome.whole) durable ||= pending.options.durable !== false;
        whole ||= outcome.whole === true;
      }
      if (changes.length === 0 && !whole) return true;
      if (!locked && (whole || !this.persisted)) {
        await this.forget();
        return false;
      }
      try {
        if (log.on) log.debug('state', `writing ${this.location} at serial ${state.serial}: ${group[0]!.operation}${whole || !this.persisted ? ' (whole state)' : ` (${changes.length} change${changes.length === 1 ? '' : 's'})`}`);
        if (whole || !this.persisted) {
          state.builder_version = BUILDER_VERSION;
          state.packer_version = PACKER_LANGUAGE_VERSION;
          await this.client.put(state);
        } else {
          await this.client.put(state, changes, locked ? { durable } : { durable, unlocked: true });
        }
        this.persisted = true;
        this.wrote = true;
      } catch (err) {
        // Nothing of the group is persisted: forget it, so memory matches the backend again.
        await this.forget();
        throw err;
      }
      return true;
    };
    try {
      const operation = group.length === 1 ? group[0]!.operation : `${group[0]!.operation} (and ${group.length - 1} more changes)`;
      let done = false;
      if (this.locking && this.client.optimisticPuts === true && this.persisted) {
        // Refused while another writer moved the serial or holds the write lock for a whole
        // write: tried again for as long as the write lock would be waited for.
        const started = Date.now();
        done = await this.retryConflicts(() => attempt(false), () => Date.now() - started > Math.max(this.lockTimeoutMs, WRITE_LOCK_WAIT_MS));
      }
      // Under the write lock no put meets a conflict: taking the lock waits for the optimistic
      // puts in flight (PostgreSQL: both lock the workspace's lease row), and the state is read
      // after. A conflict here means a writer without locks (-lock=false): reported, not retried.
      if (!done) await this.withWriteLock(operation, () => attempt(true));
    } catch (err) {
      const own = new Map(settled.filter((s) => !s.ok).map((s) => [s.pending, s.value]));
      for (const pending of group) pending.reject(own.has(pending) ? own.get(pending) : err);
      return;
    }
    for (const s of settled) (s.ok ? s.pending.resolve : s.pending.reject)(s.value);
  }

  /**
   * Runs `attempt` until it settles, trying it again after a short jittered pause each time it
   * fails with STATE_CONFLICT (another writer moved the serial first) — until `giveUp(tries)` says
   * to stop, when the conflict is thrown. Any other error is thrown at once.
   */
  private async retryConflicts<T>(attempt: () => Promise<T>, giveUp: (tries: number) => boolean): Promise<T> {
    for (let tries = 1; ; tries++) {
      try {
        return await attempt();
      } catch (err) {
        if ((err as { code?: unknown }).code !== 'STATE_CONFLICT' || giveUp(tries)) throw err;
        await pause(Math.random() * Math.min(50, 2 ** (tries - 1)), this.signal);
      }
    }
  }

  /** Drops what this manager holds in memory and reloads it from the backend. */
  private async forget(): Promise<void> {
    this.persisted = false;
    this.current = newState();
    await this.load().catch(() => undefined);
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A deep copy of plain JSON data (faster than structuredClone on large states). */
function copyJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** True when two flat records (a step: strings and numbers only) have the same fields and values. */
function sameFields(a: object, b: object): boolean {
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x);
  return keys.length === Object.keys(y).length && keys.every((k) => Object.is(x[k], y[k]));
}

function sameContent(a: StateFile, b: StateFile): boolean {
  return (
    JSON.stringify([a.templates, a.builds, a.last_run]) === JSON.stringify([b.templates, b.builds, b.last_run])
  );
}

/**
 * Lease-loss self-stop (issue 11): a build whose lock this process can no longer prove it holds
 * is given up by this process itself.
 *
 * Contracts:
 * - A backend whose locks are leases (PostgreSQL) reports a held lease that was not renewed by
 *   the holder's own deadline — measured on this process's monotonic clock, so it passes no later
 *   than the server's expiry — or that was found broken (`LeaseOptions.onLost`, src/state/open.ts).
 * - `lost(lock)` aborts the signal of the build that lease covered, with a `LeaseLostError` as the
 *   reason; the runner (BuildRunOptions.abandon) then stops the running step, runs NO cleanup or
 *   destroy, and writes nothing more — another runner may already be resuming on the instance.
 * - A build's signal is tied to the lease it runs under (by the lease's id), so a build claimed
 *   again under a new lease starts with a fresh signal.
 */
import type { LockInfo } from '../state/interfaces.js';

/** Why a build was given up: the message is the build's error in the run's summary. */
export class LeaseLostError extends Error {
  constructor(buildName: string, lock: LockInfo, location: string) {
    super(
      `this runner lost the lock of build "${buildName}" (ID ${lock.id}) on ${location}: it could not be renewed before its deadline ` +
        '(the database did not answer in time) or someone broke it. The build was stopped without any cleanup and nothing more was ' +
        'written, so another runner can take it over and resume on its instance; `builder state list` shows who holds it now.',
    );
    this.name = 'LeaseLostError';
  }
}

export class LeaseGuard {
  private readonly running = new Map<string, { name: string; controller: AbortController }>();
  /** Leases lost before their build asked for its signal. */
  private readonly early = new Map<string, LockInfo>();

  constructor(private readonly location: () => string) {}

  /** The signal aborted when lease `lockId`, under which build `name` runs, is lost. */
  signalFor(lockId: string, name: string): AbortSignal {
    let entry = this.running.get(lockId);
    if (!entry) {
      entry = { name, controller: new AbortController() };
      this.running.set(lockId, entry);
      const before = this.early.get(lockId);
      if (before) this.abort(entry, before);
    }
    return entry.controller.signal;
  }

  /** A lease was lost (the backend's `onLost`). Leases other than a build's change nothing here:
   * the writes that depend on them are refused by the database. */
  lost(lock: LockInfo): void {
    if (lock.scope !== 'build') return;
    const entry = this.running.get(lock.id);
    if (entry) this.abort(entry, lock);
    else this.early.set(lock.id, lock);
  }

  private abort(entry: { name: string; controller: AbortController }, lock: LockInfo): void {
    if (!entry.controller.signal.aborted) entry.controller.abort(new LeaseLostError(entry.name, lock, this.location()));
  }
}

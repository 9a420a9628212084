import { setTimeout as sleep } from 'node:timers/promises';

/** Waits `ms`; when `signal` is aborted first, rejects with the abort's reason (not a generic
 * AbortError), so that a cancelled step reports why it stopped. */
export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (err) {
    signal.throwIfAborted();
    throw err;
  }
}

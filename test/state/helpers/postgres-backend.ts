/**
 * The PostgreSQL backend as the conformance suite and the child processes create it.
 *
 * The client tries a lock once (the seam: waiting for a held lock belongs to the manager). Until
 * the manager waits itself, `waitForLocks` retries a held lock here, with growing pauses, for as
 * long as the request's `timeoutMs` allows — what the manager's waiting will do.
 */
import { StateLockedError } from '../../../src/state/errors.js';
import type { LockRequest, StateClient } from '../../../src/state/interfaces.js';
import { createPostgresClient, type PostgresClientOptions } from '../../../src/state/postgres/client.js';

export interface PgBackendOptions extends PostgresClientOptions {
  url: string;
}

export function createPgClient(options: PgBackendOptions): StateClient & { close(): Promise<void> } {
  const { url, ...rest } = options;
  return waitForLocks(createPostgresClient(url, { onWarning: (w) => process.stderr.write(`warning: ${w}\n`), ...rest }));
}

export function waitForLocks<C extends StateClient>(client: C): C {
  const lock = client.lock?.bind(client);
  if (!lock) return client;
  client.lock = async (request: LockRequest) => {
    const until = Date.now() + request.timeoutMs;
    for (let pause = 2; ; pause = Math.min(pause * 2, 100)) {
      try {
        return await lock(request);
      } catch (err) {
        if (!(err instanceof StateLockedError) || Date.now() + pause > until) throw err;
        await new Promise((r) => setTimeout(r, pause * (0.5 + Math.random())));
      }
    }
  };
  return client;
}

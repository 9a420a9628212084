/**
 * A runner of a shared run, for the claim tests: joins run ARGV[3] (inputs hash "h"), claims
 * builds b0…b(N-1) (N = ARGV[4]) one at a time until none is left; for each, +1 on the build's
 * counter through a StateManager (the write is fenced on the claim's lease), then marks it done.
 * Prints {"claimed":[…],"lost":[…]} and exits. ARGV[2] is the JSON of PgBackendOptions.
 */
import { StateManager } from '../../../src/state/manager.js';
import { createPostgresClient } from '../../../src/state/postgres/client.js';
import { bump } from './counters.js';
import { waitForLocks, type PgBackendOptions } from './postgres-backend.js';

async function main(): Promise<void> {
  const { url, ...options } = JSON.parse(process.argv[2]!) as PgBackendOptions;
  const runId = process.argv[3]!;
  const candidates = Array.from({ length: Number(process.argv[4]) }, (_, i) => `b${i}`);
  const client = waitForLocks(createPostgresClient(url, { ...options, onWarning: (w) => process.stderr.write(`warning: ${w}\n`) }));
  const m = await StateManager.open({ client });
  await client.joinRun(runId, 'h');
  const claimed: string[] = [];
  const lost: string[] = [];
  for (;;) {
    const claim = await client.claimBuild(runId, candidates);
    if (!claim) break;
    await m.update(claim.build, (b) => bump(b, claim.build));
    if (await client.finishBuild(runId, claim, 'done')) claimed.push(claim.build);
    else lost.push(claim.build);
  }
  process.stdout.write(`${JSON.stringify({ claimed, lost })}\n`);
  await client.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`runner failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);

/**
 * A child process holding a PostgreSQL state client, driven by JSON lines on stdin, answering one
 * JSON line each on stdout (for the lease and fault tests):
 *   {"cmd":"lock","build":K}          take build K's lock → {"id"} | {"error","code"}
 *   {"cmd":"write","build":K}         +1 on build K → {"ok":true,"serial"} | {"error","code"}
 *   {"cmd":"loop","build":K,"n":N,"pauseMs":P}  N times +1 on K (pausing P ms between), errors
 *                                     counted, each retried until it succeeds → {"done":N,"errors":E,"failures":[…]}
 *   {"cmd":"exit"}                    close the manager (releasing locks) → {"bye":true}, exit
 * ARGV[2] is the JSON of PgBackendOptions. Warnings go to stderr.
 */
import { createInterface } from 'node:readline';
import { StateManager } from '../../../src/state/manager.js';
import { bump } from './counters.js';
import { createPgClient, type PgBackendOptions } from './postgres-backend.js';

interface Command {
  cmd: 'lock' | 'write' | 'loop' | 'exit';
  build?: string;
  n?: number;
  pauseMs?: number;
}

const say = (v: unknown): void => void process.stdout.write(`${JSON.stringify(v)}\n`);
const failure = (err: unknown): { error: string; code?: string } => ({
  error: err instanceof Error ? err.message : String(err),
  code: (err as { code?: string }).code,
});

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2]!) as PgBackendOptions;
  const client = createPgClient(options);
  const m = await StateManager.open({ client, lockTimeoutMs: 0 });
  for await (const line of createInterface({ input: process.stdin })) {
    const c = JSON.parse(line) as Command;
    const key = c.build ?? 'a';
    try {
      if (c.cmd === 'lock') say({ id: (await m.lockBuild(key, 'pg test hold'))?.id });
      else if (c.cmd === 'write') {
        await m.update(key, (b) => bump(b, key));
        say({ ok: true, serial: m.serial });
      } else if (c.cmd === 'loop') {
        let errors = 0;
        const failures: string[] = [];
        for (let i = 0; i < (c.n ?? 1); i++) {
          for (;;) {
            try {
              await m.update(key, (b) => bump(b, key));
              if (c.pauseMs) await new Promise((r) => setTimeout(r, c.pauseMs));
              break;
            } catch (err) {
              errors++;
              if (failures.length < 5) failures.push(failure(err).error);
              await new Promise((r) => setTimeout(r, 50));
            }
          }
        }
        say({ done: c.n ?? 1, errors, failures });
      } else {
        await m.close();
        await client.close();
        say({ bye: true });
        break;
      }
    } catch (err) {
      say(failure(err));
    }
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`child failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);

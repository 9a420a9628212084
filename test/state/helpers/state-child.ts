/**
 * A child process for the multi-process state tests. Usage:
 *   node state-child.js SPEC MODE ARGS…
 * SPEC is a ClientSpec (JSON: the module and export that create a StateClient, and its arguments),
 * so the same child runs against any backend. Modes:
 *   hold-build KEY       lock KEY, print {"id"} (or {"error","code"}), release on a "release" line
 *   increment KEY N      N times: +1 on build KEY and +1 on build "shared"; print {"done":N}
 *   crash-writer         write forever (checkpoints, whole writes, compactions); "ready" after the first
 *   stress-writer KEY    after a "go" line, +1 on KEY and on "shared" until a "stop" line; print counts
 *   stress-reader        after a "go" line, read the state until a "stop" line; print counts
 * A build's counter is the `attempts` of its first provisioner.
 */
import { createInterface } from 'node:readline';
import type { StateClient } from '../../../src/state/interfaces.js';
import { StateManager } from '../../../src/state/manager.js';
import type { StateFile } from '../../../src/state/types.js';
import { bump, counter, type ClientSpec } from './counters.js';

async function makeClient(spec: ClientSpec): Promise<StateClient> {
  const mod = (await import(spec.module)) as Record<string, (...a: unknown[]) => StateClient | Promise<StateClient>>;
  const factory = mod[spec.export];
  if (!factory) throw new Error(`${spec.module} has no export ${spec.export}`);
  return factory(...spec.args);
}

const lines = createInterface({ input: process.stdin });
const waiters: ((line: string) => void)[] = [];
const queued: string[] = [];
lines.on('line', (l) => {
  const w = waiters.shift();
  if (w) w(l);
  else queued.push(l);
});
function nextLine(): Promise<string> {
  const q = queued.shift();
  return q !== undefined ? Promise.resolve(q) : new Promise((resolve) => waiters.push(resolve));
}
const say = (v: unknown): void => void process.stdout.write(`${typeof v === 'string' ? v : JSON.stringify(v)}\n`);

async function main(): Promise<void> {
  const [specText, mode, ...args] = process.argv.slice(2);
  const spec = JSON.parse(specText!) as ClientSpec;
  const client = await makeClient(spec);
  switch (mode) {
    case 'hold-build': {
      const m = await StateManager.open({ client });
      try {
        const lock = await m.lockBuild(args[0]!, 'conformance hold');
        say({ id: lock?.id });
      } catch (err) {
        say({ error: err instanceof Error ? err.message : String(err), code: (err as { code?: string }).code });
        break;
      }
      await nextLine();
      await m.close();
      say('released');
      break;
    }
    case 'increment': {
      const m = await StateManager.open({ client });
      const n = Number(args[1]);
      for (let i = 0; i < n; i++) {
        await m.update(args[0]!, (b) => bump(b, args[0]!));
        await m.update('shared', (b) => bump(b, 'shared'));
      }
      say({ done: n });
      break;
    }
    case 'crash-writer': {
      const m = await StateManager.open({ client });
      for (let i = 0; ; i++) {
        const r = Math.random();
        if (r < 0.8 || !m.exists) await m.update(`b${i % 7}.null.x`, (b) => bump(b, `b${i % 7}`));
        else if (r < 0.9) {
          const s = m.snapshot();
          s.builds[`w${i % 3}.null.x`] = bump(undefined, `w${i % 3}`);
          await m.replace(s, { force: true });
        } else await m.compact();
        if (i === 0) say('ready');
      }
    }
    case 'stress-writer': {
      const m = await StateManager.open({ client });
      say('ready');
      await nextLine();
      let own = 0;
      let shared = 0;
      let errors = 0;
      let stop = false;
      void nextLine().then(() => (stop = true));
      while (!stop) {
        try {
          await m.update(args[0]!, (b) => bump(b, args[0]!));
          own++;
          await m.update('shared', (b) => bump(b, 'shared'));
          shared++;
        } catch (err) {
          errors++;
          process.stderr.write(`writer error: ${err instanceof Error ? err.message : String(err)}\n`);
        }
        await new Promise((r) => setImmediate(r));
      }
      await m.close();
      say({ own, shared, errors });
      break;
    }
    case 'stress-reader': {
      say('ready');
      await nextLine();
      let reads = 0;
      let errors = 0;
      let regressions = 0;
      let lastSerial = -1;
      const lastCounters = new Map<string, number>();
      let stop = false;
      void nextLine().then(() => (stop = true));
      while (!stop) {
        try {
          const s: StateFile | undefined = await client.get();
          reads++;
          if (s) {
            if (s.serial < lastSerial) regressions++;
            lastSerial = s.serial;
            for (const [k, b] of Object.entries(s.builds)) {
              if (counter(b) < (lastCounters.get(k) ?? 0)) regressions++;
              lastCounters.set(k, counter(b));
            }
          }
        } catch (err) {
          errors++;
          process.stderr.write(`reader error: ${err instanceof Error ? err.message : String(err)}\n`);
        }
        await new Promise((r) => setTimeout(r, 5)); // a reader pauses, so 50 of them leave 20 writers some of the 2 cores
      }
      say({ reads, errors, regressions });
      break;
    }
    default:
      throw new Error(`unknown mode ${String(mode)}`);
  }
  lines.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`child failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);

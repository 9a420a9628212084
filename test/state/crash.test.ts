/**
 * SIGKILL at random moments: a child writes the state in a loop (checkpoints to the journal, whole
 * writes, compactions) and is killed 200 times in all. After every kill the state loads, and its
 * serial never goes back. Four lanes on four state files run side by side to cut the wall time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FileStateClient } from '../../src/state/file/client.js';
import { tempDir } from './helpers/fixtures.js';
import { exited, firstLine } from './helpers/processes.js';

const here = dirname(fileURLToPath(import.meta.url));
const CHILD = join(here, 'helpers', 'state-child.js');
const MODULE = pathToFileURL(join(here, 'helpers', 'file-backend.js')).href;
const KILLS = Number(process.env.STATE_CRASH_KILLS ?? 200);
const LANES = 4;

async function lane(path: string, kills: number): Promise<{ loads: number; serials: number[] }> {
  // A small compaction threshold, so that kills also land inside compactions.
  const spec = { module: MODULE, export: 'createFileClient', args: [{ path, compactBytes: 4096 }] };
  const serials: number[] = [];
  let last = 0;
  for (let i = 0; i < kills; i++) {
    const child = spawn(process.execPath, [CHILD, JSON.stringify(spec), 'crash-writer'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const done = exited(child);
    await firstLine(child).catch(async (err: unknown) => {
      throw new Error(`${String(err)}\n${(await done).stderr}`);
    });
    await new Promise((r) => setTimeout(r, Math.random() * 25));
    child.kill('SIGKILL');
    const { signal, stderr } = await done;
    assert.equal(signal, 'SIGKILL', `the writer died on its own: ${stderr}`);
    const state = await new FileStateClient({ path }).get();
    assert.ok(state, 'the state exists after the kill');
    assert.ok(state.serial >= last, `serial went back from ${last} to ${state.serial} after kill ${i + 1}`);
    last = state.serial;
    serials.push(state.serial);
  }
  return { loads: kills, serials };
}

test(`a writer SIGKILLed ${KILLS} times at random moments always leaves a state that loads, serial never back`, async (t) => {
  const dir = tempDir(t);
  const results = await Promise.all(Array.from({ length: LANES }, (_, i) => lane(join(dir, `state-${i}.json`), KILLS / LANES)));
  assert.equal(results.reduce((n, r) => n + r.loads, 0), KILLS);
  for (const r of results) assert.ok(r.serials.at(-1)! > KILLS / LANES, 'the writers made progress between kills');
  // No temporary file survives as a state; leftovers of killed writes are only ever temp names.
  // (The write lock appears whole, from a temp file beside it: a writer killed between the two leaves that temp file.)
  for (const f of readdirSync(dir)) assert.match(f, /^(\.state-\d\.json(\.backup)?\.tmp-\d+-[0-9a-f]+|state-\d\.json(\.backup|\.journal|\.lock|\.locks)?|state-\d\.json\.lock\.\d+-[0-9a-f]+\.tmp)$/);
});

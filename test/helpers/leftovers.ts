/**
 * Plugin processes left behind by a builder run: every run a test starts gets a unique marker in
 * its environment, which the plugin processes it starts inherit; `assertNoneLeft` checks that none
 * carrying it is left (waiting a little for exits to be reaped), killing any by pid.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';

/** Pids of processes whose environment holds `marker`. */
export function markedPids(marker: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/environ`, 'latin1').includes(marker)) out.push(Number(d));
    } catch { /* gone, or not ours */ }
  }
  return out;
}

/** Asserts that no process of the run is left (waiting a little for exits to be reaped); kills leftovers. */
export async function assertNoneLeft(marker: string): Promise<void> {
  let left = markedPids(marker);
  for (let i = 0; i < 300 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
    left = markedPids(marker);
  }
  for (const pid of left) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  assert.deepEqual(left, [], 'plugin processes left behind');
}

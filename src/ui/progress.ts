/**
 * Progress bars for file transfers, as Packer's `ui.TrackProgress`: drawn with `cli-progress` on
 * a terminal only. Contracts:
 * - Not a terminal (a pipe, a file, CI logs) or `-machine-readable`: no tracker at all, and not a
 *   byte of output (the caller gets undefined and transfers as before).
 * - `cli-progress` is loaded on the first bar, so runs without one do not pay for it.
 * - A tracker is stopped exactly once, by the caller, whether the transfer succeeded or not; the
 *   bar's line is then left as it was last drawn and the next output starts on a new line.
 */
import type { Writable } from 'node:stream';
import type { Readable } from 'node:stream';
import type * as CliProgress from 'cli-progress';
import { lazyRequire } from '../lazy-require.js';
import { countBytes } from '../sdk/count-bytes.js';
import type { ProgressTracker } from '../sdk/component.js';

const cliProgress = lazyRequire<typeof CliProgress>('cli-progress');

/** 1536 → "1.5 KiB", as the bar shows sizes. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** A bar for `label` on `stream` (a terminal); `total` 0 when the size is not known. */
export function progressBar(stream: Writable, label: string, total: number): ProgressTracker {
  const { SingleBar } = cliProgress();
  const known = total > 0;
  const bar = new SingleBar({
    stream: stream as NodeJS.WritableStream,
    format: known ? `${label} [{bar}] {percentage}% {done} / {size}` : `${label} {done}`,
    hideCursor: false,
    clearOnComplete: false,
    barsize: 30,
    formatValue: (v: number) => String(v),
  });
  bar.start(known ? total : 1, 0, { done: formatBytes(0), size: formatBytes(total) });
  let stopped = false;
  return {
    update(bytes) {
      if (!stopped) bar.update(known ? Math.min(bytes, total) : 0, { done: formatBytes(bytes) });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}

/** `source` with every byte that passes counted into `tracker`. */
export function trackStream(source: Readable, tracker: ProgressTracker): Readable {
  return countBytes(source, (bytes) => tracker.update(bytes));
}

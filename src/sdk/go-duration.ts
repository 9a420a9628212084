/**
 * Durations in configuration, read the way Packer (Go's time.Duration) reads them: "5m", "1h30m",
 * "500ms", "-1s". Values are milliseconds. (Printing is `goDuration` in src/ui/go-duration.ts.)
 */
import { parseDuration } from '../cli/flags.js';
import type { Conv } from './config-reader.js';

/** A configuration duration: a Go duration string, optionally negative; a number is seconds. */
export const asDuration: Conv<number> = (raw) => {
  if (typeof raw === 'number' && Number.isFinite(raw)) return raw * 1000;
  if (typeof raw !== 'string') return undefined;
  const text = raw.trim();
  if (text === '') return 0;
  const negative = text.startsWith('-');
  const ms = parseDuration(negative ? text.slice(1) : text);
  if (ms === undefined) return undefined;
  return negative ? -ms : ms;
};

/**
 * Packer's duration text: `durafmt.Parse(d).LimitFirstN(2)` — the two largest non-zero units
 * among years, weeks, days, hours, minutes, seconds, milliseconds and microseconds, singular for
 * one ("1 second"), e.g. "19 milliseconds 623 microseconds" or "3 seconds 26 milliseconds".
 */
const UNITS: readonly [name: string, micros: number][] = [
  ['years', 365 * 24 * 3600e6],
  ['weeks', 7 * 24 * 3600e6],
  ['days', 24 * 3600e6],
  ['hours', 3600e6],
  ['minutes', 60e6],
  ['seconds', 1e6],
  ['milliseconds', 1e3],
  ['microseconds', 1],
];

/** Formats a duration given in milliseconds (fractions allowed) the way Packer prints it. */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.floor(ms * 1000));
  const parts: string[] = [];
  for (const [name, size] of UNITS) {
    const v = Math.floor(rest / size);
    rest -= v * size;
    if (v === 0 || parts.length === 2) continue;
    parts.push(`${v} ${v === 1 ? name.slice(0, -1) : name}`);
  }
  return parts.length === 0 ? '0 microseconds' : parts.join(' ');
}

/**
 * Go's `time.Time.Format(layout)` for a UTC time, as `{{isotime "layout"}}` uses it: the layout is
 * written with Go's reference time (Mon Jan 2 15:04:05 MST 2006). Supported elements: years
 * (2006, 06), months (January, Jan, 01, 1), days (Monday, Mon, 02, _2, 2, 002), hours (15, 03, 3),
 * minutes (04, 4), seconds (05, 5), fractions (.000…, .999…, ,000…), PM/pm, zones (MST, Z07:00,
 * Z0700, Z07, -07:00, -0700, -07). Any other text is copied, as Go does.
 */
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const pad = (n: number, w: number, c = '0'): string => String(n).padStart(w, c);

/** Elements, longest first where one is a prefix of another. */
const ELEMENTS: readonly [string, (d: Date) => string][] = [
  ['January', (d) => MONTHS[d.getUTCMonth()]!],
  ['Jan', (d) => MONTHS[d.getUTCMonth()]!.slice(0, 3)],
  ['Monday', (d) => DAYS[d.getUTCDay()]!],
  ['Mon', (d) => DAYS[d.getUTCDay()]!.slice(0, 3)],
  ['MST', () => 'UTC'],
  ['2006', (d) => pad(d.getUTCFullYear(), 4)],
  ['Z07:00', () => 'Z'],
  ['Z0700', () => 'Z'],
  ['Z07', () => 'Z'],
  ['-07:00', () => '+00:00'],
  ['-0700', () => '+0000'],
  ['-07', () => '+00'],
  ['002', (d) => pad(dayOfYear(d), 3)],
  ['01', (d) => pad(d.getUTCMonth() + 1, 2)],
  ['02', (d) => pad(d.getUTCDate(), 2)],
  ['_2', (d) => pad(d.getUTCDate(), 2, ' ')],
  ['03', (d) => pad(hour12(d), 2)],
  ['04', (d) => pad(d.getUTCMinutes(), 2)],
  ['05', (d) => pad(d.getUTCSeconds(), 2)],
  ['06', (d) => pad(d.getUTCFullYear() % 100, 2)],
  ['15', (d) => pad(d.getUTCHours(), 2)],
  ['PM', (d) => (d.getUTCHours() >= 12 ? 'PM' : 'AM')],
  ['pm', (d) => (d.getUTCHours() >= 12 ? 'pm' : 'am')],
  ['1', (d) => String(d.getUTCMonth() + 1)],
  ['2', (d) => String(d.getUTCDate())],
  ['3', (d) => String(hour12(d))],
  ['4', (d) => String(d.getUTCMinutes())],
  ['5', (d) => String(d.getUTCSeconds())],
];

function hour12(d: Date): number {
  const h = d.getUTCHours() % 12;
  return h === 0 ? 12 : h;
}

function dayOfYear(d: Date): number {
  return Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86400000) + 1;
}

/** Formats `date` (taken as UTC; `nanos` its sub-second part) with Go layout `layout`. */
export function formatGoTime(date: Date, layout: string, nanos = date.getUTCMilliseconds() * 1e6): string {
  let out = '';
  let i = 0;
  while (i < layout.length) {
    const frac = /^[.,](0+|9+)(?![0-9])/.exec(layout.slice(i));
    if (frac) {
      const digits = frac[1]!;
      const full = pad(nanos, 9).slice(0, digits.length);
      if (digits[0] === '0') out += layout[i]! + full;
      else {
        const trimmed = full.replace(/0+$/, '');
        if (trimmed) out += layout[i]! + trimmed;
      }
      i += frac[0].length;
      continue;
    }
    const el = ELEMENTS.find(([k]) => layout.startsWith(k, i));
    if (el) {
      out += el[1](date);
      i += el[0].length;
      continue;
    }
    out += layout[i]!;
    i += 1;
  }
  return out;
}

/** Go's time.RFC3339 layout. */
export const RFC3339 = '2006-01-02T15:04:05Z07:00';

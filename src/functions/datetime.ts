/**
 * Date and time functions: formatdate, timeadd (cty stdlib), timestamp, legacy_isotime,
 * legacy_strftime (Packer's). Timestamps are RFC 3339 as cty parses them (with cty's messages);
 * a timestamp keeps its UTC offset through `timeadd` and `formatdate`.
 */
import { T, Value } from '../values/value.js';
import { define, param } from './support.js';
import { FunctionArgError, FunctionError } from './types.js';

const string = T.string;

/** An instant with the UTC offset it was written in. `nanos` is the fraction of the second. */
export interface Timestamp {
  /** Seconds since 1970-01-01T00:00:00Z. */
  epoch: number;
  nanos: number;
  /** Offset east of UTC, in seconds; `utc` when written as `Z`. */
  offset: number;
  utc: boolean;
}

class TimeParseError extends Error {}

/** Parses an RFC 3339 timestamp as cty's `parseTimestamp` does, with its messages. */
export function parseTimestamp(ts: string): Timestamp {
  let pos = 0;
  const rest = (): string => ts.slice(pos);
  const num = (digits: number, what: string): number => {
    const s = ts.slice(pos, pos + digits);
    if (!new RegExp(`^[0-9]{${digits}}$`).test(s)) {
      if (rest() === '') throw new TimeParseError(`not a valid RFC3339 timestamp: end of string before ${what}`);
      throw new TimeParseError(`not a valid RFC3339 timestamp: cannot use ${JSON.stringify(rest())} as ${what}`);
    }
    pos += digits;
    return Number(s);
  };
  const sep = (ch: string): void => {
    if (ts[pos] === ch) {
      pos++;
      return;
    }
    if (ch === 'T') throw new TimeParseError("not a valid RFC3339 timestamp: missing required time introducer 'T'");
    if (rest() === '') throw new TimeParseError(`not a valid RFC3339 timestamp: end of string where ${JSON.stringify(ch)} is expected`);
    throw new TimeParseError(`not a valid RFC3339 timestamp: found ${JSON.stringify(rest())} where ${JSON.stringify(ch)} is expected`);
  };
  // A field out of range is reported, as Go does, with the text after it.
  const range = (ok: boolean, what: string): void => {
    if (!ok) throw new TimeParseError(`not a valid RFC3339 timestamp: cannot use ${JSON.stringify(rest())} as ${what}`);
  };
  const year = num(4, 'year');
  sep('-');
  const month = num(2, 'month');
  range(month >= 1 && month <= 12, 'month');
  sep('-');
  const day = num(2, 'day of month');
  const daysIn = new Date(Date.UTC(2000, month, 0)).getUTCDate() - (month === 2 && !isLeap(year) ? 1 : 0);
  range(day >= 1 && day <= daysIn, 'day of month');
  sep('T');
  // Go's layout element "15" takes one or two digits (the others exactly two).
  const hour = num(/^[0-9](?![0-9])/.test(rest()) ? 1 : 2, 'hour');
  range(hour < 24, 'hour');
  sep(':');
  const minute = num(2, 'minute');
  range(minute < 60, 'minute');
  sep(':');
  const second = num(2, 'second');
  range(second < 60, 'second');
  let nanos = 0;
  const frac = /^[.,]([0-9]+)/.exec(rest());
  if (frac) {
    nanos = Number(frac[1]!.slice(0, 9).padEnd(9, '0'));
    pos += frac[0].length;
  }
  let offset = 0;
  let utc = false;
  if (ts[pos] === 'Z') {
    utc = true;
    pos++;
  } else {
    const m = /^([+-])([0-9]{2}):([0-9]{2})/.exec(rest());
    if (!m) {
      if (rest() === '') throw new TimeParseError('not a valid RFC3339 timestamp: end of string before UTC offset');
      throw new TimeParseError(`not a valid RFC3339 timestamp: cannot use ${JSON.stringify(rest())} as UTC offset`);
    }
    offset = (Number(m[2]) * 3600 + Number(m[3]) * 60) * (m[1] === '-' ? -1 : 1);
    utc = offset === 0;
    pos += m[0].length;
  }
  if (pos < ts.length) throw new TimeParseError(`not a valid RFC3339 timestamp: extra text: ${JSON.stringify(rest())}`);
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return { epoch: d.getTime() / 1000 - offset, nanos, offset, utc };
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Calendar fields of a timestamp in its own offset. */
interface Civil {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number; // 0 = Sunday
  yearDay: number;
}

function civil(t: Timestamp): Civil {
  const d = new Date((t.epoch + t.offset) * 1000);
  const jan1 = new Date(0);
  jan1.setUTCFullYear(d.getUTCFullYear(), 0, 1);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: d.getUTCDay(),
    yearDay: Math.floor((d.getTime() - jan1.getTime()) / 86400000) + 1,
  };
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** The offset as Go writes it: `sep` between hours and minutes; `z` writes UTC as "Z". */
function offsetText(t: Timestamp, sep: string, z: boolean): string {
  if (z && t.utc) return 'Z';
  const abs = Math.abs(t.offset);
  return `${t.offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 3600))}${sep}${pad(Math.floor((abs % 3600) / 60))}`;
}

/** Go's time.Format(time.RFC3339). */
export function formatRfc3339(t: Timestamp): string {
  const c = civil(t);
  return `${pad(c.year, 4)}-${pad(c.month)}-${pad(c.day)}T${pad(c.hour)}:${pad(c.minute)}:${pad(c.second)}${offsetText(t, ':', true)}`;
}

function splitDateFormat(format: string): string[] {
  const tokens: string[] = [];
  const isVerb = (c: string | undefined): boolean => c !== undefined && /[A-Za-z]/.test(c);
  let i = 0;
  while (i < format.length) {
    const c = format[i]!;
    let j = i + 1;
    if (c === "'") {
      if (format[i + 1] === "'") j = i + 2;
      else {
        j = format.length;
        for (let k = i + 1; k < format.length; k++) {
          if (format[k] === "'") {
            if (format[k + 1] === "'") {
              k++;
              continue;
            }
            j = k + 1;
            break;
          }
        }
      }
    } else if (isVerb(c)) {
      while (format[j] === c) j++;
    } else {
      while (j < format.length && format[j] !== "'" && !isVerb(format[j])) j++;
    }
    tokens.push(format.slice(i, j));
    i = j;
  }
  return tokens;
}

function formatDate(format: string, t: Timestamp): string {
  const c = civil(t);
  let out = '';
  const bad = (tok: string, why: string): never => {
    throw new FunctionArgError(0, `invalid date format verb ${JSON.stringify(tok)}${why ? `: ${why}` : ''}`);
  };
  for (const tok of splitDateFormat(format)) {
    const n = tok.length;
    if (tok[0] === "'") {
      if (n === 1 || tok[n - 1] !== "'") throw new FunctionArgError(0, "unterminated literal '");
      out += n === 2 ? "'" : tok.slice(1, -1).replace(/''/g, "'");
      continue;
    }
    if (!/[A-Za-z]/.test(tok[0]!)) {
      out += tok;
      continue;
    }
    switch (tok[0]) {
      case 'Y':
        if (n === 2) out += pad(c.year % 100);
        else if (n === 4) out += pad(c.year, 4);
        else bad(tok, 'year must either be "YY" or "YYYY"');
        break;
      case 'M':
        if (n === 1) out += String(c.month);
        else if (n === 2) out += pad(c.month);
        else if (n === 3) out += MONTHS[c.month - 1]!.slice(0, 3);
        else if (n === 4) out += MONTHS[c.month - 1]!;
        else bad(tok, 'month must be "M", "MM", "MMM", or "MMMM"');
        break;
      case 'D':
        if (n === 1) out += String(c.day);
        else if (n === 2) out += pad(c.day);
        else bad(tok, 'day of month must either be "D" or "DD"');
        break;
      case 'E':
        if (n === 3) out += DAYS[c.weekday]!.slice(0, 3);
        else if (n === 4) out += DAYS[c.weekday]!;
        else bad(tok, 'day of week must either be "EEE" or "EEEE"');
        break;
      case 'h':
        if (n === 1) out += String(c.hour);
        else if (n === 2) out += pad(c.hour);
        else bad(tok, '24-hour must either be "h" or "hh"');
        break;
      case 'H': {
        const h = c.hour % 12 === 0 ? 12 : c.hour % 12;
        if (n === 1) out += String(h);
        else if (n === 2) out += pad(h);
        else bad(tok, '12-hour must either be "H" or "HH"');
        break;
      }
      case 'A':
      case 'a': {
        if (n !== 2) bad(tok, `must be "${tok[0]}${tok[0]}"`);
        const pm = c.hour >= 12;
        out += tok[0] === 'A' ? (pm ? 'PM' : 'AM') : pm ? 'pm' : 'am';
        break;
      }
      case 'm':
        if (n === 1) out += String(c.minute);
        else if (n === 2) out += pad(c.minute);
        else bad(tok, 'minute must either be "m" or "mm"');
        break;
      case 's':
        if (n === 1) out += String(c.second);
        else if (n === 2) out += pad(c.second);
        else bad(tok, 'second must either be "s" or "ss"');
        break;
      case 'Z':
        if (n === 1) out += offsetText(t, ':', true);
        else if (n === 3) out += t.utc ? 'UTC' : offsetText(t, '', false);
        else if (n === 4) out += offsetText(t, '', false);
        else if (n === 5) out += offsetText(t, ':', false);
        else bad(tok, 'time zone must be "Z", "ZZZ", "ZZZZ", or "ZZZZZ"');
        break;
      default:
        bad(tok, '');
    }
  }
  return out;
}

function timestampArg(v: Value, index: number): Timestamp {
  try {
    return parseTimestamp(v.asString());
  } catch (e) {
    if (e instanceof TimeParseError) throw new FunctionArgError(index, e.message);
    throw e;
  }
}

export const formatdate = define({
  params: [param('format', string), param('time', string)],
  returnType: string,
  impl: ([f, t]) => Value.string(formatDate(f!.asString(), timestampArg(t!, 1))),
});

const UNITS: Record<string, bigint> = { ns: 1n, us: 1000n, 'µs': 1000n, 'μs': 1000n, ms: 1000000n, s: 1000000000n, m: 60000000000n, h: 3600000000000n };

/** Go's time.ParseDuration, in nanoseconds; throws with Go's message. */
export function parseDuration(s: string): bigint {
  const quoted = JSON.stringify(s);
  let rest = s;
  let neg = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    neg = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') throw new Error(`time: invalid duration ${quoted}`);
  let total = 0n;
  while (rest !== '') {
    const m = /^([0-9]*)(?:\.([0-9]*))?/.exec(rest)!;
    if (m[0] === '' || m[0] === '.') throw new Error(`time: invalid duration ${quoted}`);
    rest = rest.slice(m[0].length);
    const u = /^[^0-9.]*/.exec(rest)![0];
    if (u === '') throw new Error(`time: missing unit in duration ${quoted}`);
    const unit = UNITS[u];
    if (unit === undefined) throw new Error(`time: unknown unit ${JSON.stringify(u)} in duration ${quoted}`);
    rest = rest.slice(u.length);
    const whole = BigInt(m[1] || '0');
    const fracDigits = m[2] ?? '';
    let part = whole * unit;
    if (fracDigits !== '') part += (BigInt(fracDigits) * unit) / 10n ** BigInt(fracDigits.length);
    total += part;
  }
  return neg ? -total : total;
}

export const timeadd = define({
  params: [param('timestamp', string), param('duration', string)],
  returnType: string,
  impl: ([ts, dur]) => {
    // cty reports both faults as errors of the call, not of one argument.
    let t: Timestamp;
    let d: bigint;
    try {
      t = parseTimestamp(ts!.asString());
      d = parseDuration(dur!.asString());
    } catch (e) {
      throw new FunctionError((e as Error).message);
    }
    const totalNanos = BigInt(t.epoch) * 1000000000n + BigInt(t.nanos) + d;
    const epoch = totalNanos / 1000000000n - (totalNanos % 1000000000n < 0n ? 1n : 0n);
    const nanos = Number(totalNanos - epoch * 1000000000n);
    return Value.string(formatRfc3339({ ...t, epoch: Number(epoch), nanos }));
  },
});

function nowTimestamp(): Timestamp {
  const ms = Date.now();
  return { epoch: Math.floor(ms / 1000), nanos: (ms % 1000) * 1000000, offset: 0, utc: true };
}

export const timestamp = define({
  params: [],
  returnType: string,
  impl: () => Value.string(formatRfc3339(nowTimestamp())),
});

/** The time Packer's legacy functions report: when the process started (UTC). */
const initTime = nowTimestamp();

/** Go's time.Format with a reference-time layout ("2006-01-02T15:04:05Z07:00"). */
export function goTimeFormat(layout: string, t: Timestamp): string {
  const c = civil(t);
  const h12 = c.hour % 12 === 0 ? 12 : c.hour % 12;
  const fracDigits = String(t.nanos).padStart(9, '0');
  const table: [string, () => string][] = [
    ['January', () => MONTHS[c.month - 1]!],
    ['Jan', () => MONTHS[c.month - 1]!.slice(0, 3)],
    ['Monday', () => DAYS[c.weekday]!],
    ['Mon', () => DAYS[c.weekday]!.slice(0, 3)],
    ['MST', () => (t.utc ? 'UTC' : offsetText(t, '', false))],
    ['2006', () => pad(c.year, 4)],
    ['Z07:00', () => offsetText(t, ':', true)],
    ['Z0700', () => offsetText(t, '', true)],
    ['Z07', () => (t.utc ? 'Z' : offsetText(t, '', false).slice(0, 3))],
    ['-07:00', () => offsetText(t, ':', false)],
    ['-0700', () => offsetText(t, '', false)],
    ['-07', () => offsetText(t, '', false).slice(0, 3)],
    ['002', () => pad(c.yearDay, 3)],
    ['01', () => pad(c.month)],
    ['02', () => pad(c.day)],
    ['_2', () => String(c.day).padStart(2, ' ')],
    ['03', () => pad(h12)],
    ['04', () => pad(c.minute)],
    ['05', () => pad(c.second)],
    ['06', () => pad(c.year % 100)],
    ['15', () => pad(c.hour)],
    ['PM', () => (c.hour >= 12 ? 'PM' : 'AM')],
    ['pm', () => (c.hour >= 12 ? 'pm' : 'am')],
    ['1', () => String(c.month)],
    ['2', () => String(c.day)],
    ['3', () => String(h12)],
    ['4', () => String(c.minute)],
    ['5', () => String(c.second)],
  ];
  let out = '';
  let i = 0;
  outer: while (i < layout.length) {
    const frac = /^[.,](0+|9+)(?![0-9])/.exec(layout.slice(i));
    if (frac) {
      const n = frac[1]!.length;
      let digits = fracDigits.slice(0, n);
      if (frac[1]![0] === '9') digits = digits.replace(/0+$/, '');
      out += digits === '' ? '' : frac[0][0] + digits;
      i += frac[0].length;
      continue;
    }
    for (const [tok, f] of table) {
      if (layout.startsWith(tok, i)) {
        out += f();
        i += tok.length;
        continue outer;
      }
    }
    out += layout[i];
    i++;
  }
  return out;
}

/** The strftime verbs github.com/jehiah/go-strftime knows, as Go layout elements. */
const STRFTIME: Record<string, string> = {
  B: 'January', b: 'Jan', m: '01', A: 'Monday', a: 'Mon', d: '02', H: '15', I: '03', M: '04', S: '05',
  Y: '2006', y: '06', p: 'PM', Z: 'MST', z: '-0700',
};

/**
 * strftime as github.com/jehiah/go-strftime (which Packer uses) does it: the format is split at
 * every `%`, each piece whose first letter is a known verb has that letter replaced by a Go layout
 * element (so the text before the first `%` is read the same way), other pieces keep their `%`,
 * and the whole result is formatted as a Go layout — Go's reference-time digits in literal text
 * are therefore replaced too, as in Packer.
 */
export function strftime(format: string, t: Timestamp): string {
  let layout = '';
  for (const chunk of format.split('%')) {
    if (chunk === '') continue;
    const verb = STRFTIME[chunk[0]!];
    layout += verb !== undefined ? verb + chunk.slice(1) : `%${chunk}`;
  }
  return goTimeFormat(layout, t);
}

function legacy(name: string, render: (format: string) => string) {
  return define({
    params: [],
    varParam: param('format', string),
    returnType: string,
    impl: (args) => {
      if (args.length > 1) throw new FunctionArgError(1, `too many values, 1 needed: ${name} takes at most one format argument`);
      return Value.string(args.length === 0 ? formatRfc3339(initTime) : render(args[0]!.asString()));
    },
  });
}

export const legacy_isotime = legacy('legacy_isotime', (f) => goTimeFormat(f, initTime));
export const legacy_strftime = legacy('legacy_strftime', (f) => strftime(f, initTime));

/**
 * Go (RE2) regular expressions, matched in linear time by re2js (a JavaScript port of RE2): the
 * pattern syntax is RE2's own (`(?P<name>…)`, flags, `\A`, `\z`, `\Q…\E`, POSIX classes, `\pL`),
 * and no pattern can take exponential time on any input — JavaScript's backtracking engine took
 * seconds on a 28-character value for a common validation pattern, and blocked the event loop
 * (and so SIGTERM) meanwhile.
 *
 * `GoRegex` looks like a global RegExp to its callers (`exec` from `lastIndex`, match arrays with
 * `index` and `groups`, indices in UTF-16 code units), and iterates as Go's `FindAll…` does: an
 * empty match right after the previous match is skipped (so `regexall("a*", "baaa")` is `["",
 * "aaa"]`, with no extra empty match at the end). Replacement follows Go's `ReplaceAllString` and
 * its `$1` / `${name}` template rules.
 */
import type { RE2JS } from 're2js';
import { lazyRequire } from '../lazy-require.js';

/** re2js (260 KB of code) is loaded by the first regular expression, not at every start-up. */
const re2js = lazyRequire<typeof import('re2js')>('re2js');

/** A pattern that cannot be compiled; `reason` says why. */
export class RegexSyntaxError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * A compiled pattern. `exec` is stateful like a global RegExp's: it searches from `lastIndex` and
 * leaves `lastIndex` at the end of the match; setting `lastIndex` to 0 starts a new iteration.
 */
export class GoRegex {
  private index = 0;
  /** End of the previous match of the current iteration (Go's prevMatchEnd), -1 before the first. */
  private prevEnd = -1;
  private readonly groupNames: string[];

  constructor(
    readonly source: string,
    private readonly re: RE2JS,
  ) {
    this.groupNames = Array.from({ length: re.groupCount() }, () => '');
    for (const [name, i] of Object.entries(re.namedGroups())) this.groupNames[i - 1] = name;
  }

  get lastIndex(): number {
    return this.index;
  }

  set lastIndex(value: number) {
    this.index = value;
    if (value === 0) this.prevEnd = -1;
  }

  /** Names of the capture groups in order ('' for an unnamed group). */
  get names(): readonly string[] {
    return this.groupNames;
  }

  /** The next match from `lastIndex` as Go's FindAll would give it, or null (and `lastIndex` 0). */
  exec(input: string): RegExpExecArray | null {
    let pos = this.index;
    for (;;) {
      const m = pos <= input.length ? this.findAt(input, pos) : null;
      if (!m) {
        this.lastIndex = 0;
        return null;
      }
      const skip = m.index === m.end && m.index === this.prevEnd; // an empty match abutting the previous one
      this.prevEnd = m.end;
      if (!skip) {
        this.index = m.end;
        return m.array;
      }
      pos = m.end + runeWidth(input, m.end);
    }
  }

  /** The leftmost match starting at or after `pos` (UTF-16 offsets), with its groups. */
  findAt(input: string, pos: number): { index: number; end: number; array: RegExpExecArray } | null {
    const matcher = this.re.matcher(input);
    if (!matcher.find(pos)) return null;
    const groups: (string | undefined)[] = [];
    for (let g = 0; g <= this.groupNames.length; g++) groups.push(matcher.start(g) < 0 ? undefined : (matcher.group(g) ?? undefined));
    const named = this.groupNames.some((n) => n !== '')
      ? Object.fromEntries(this.groupNames.map((n, i) => [n, groups[i + 1]] as const).filter(([n]) => n !== ''))
      : undefined;
    const array = Object.assign(groups, { index: matcher.start(), input, groups: named }) as unknown as RegExpExecArray;
    return { index: matcher.start(), end: matcher.end(), array };
  }
}

/** The UTF-16 length of the character at `pos` (1 past the end, as Go moves past the input). */
function runeWidth(s: string, pos: number): number {
  return pos < s.length && s.codePointAt(pos)! > 0xffff ? 2 : 1;
}

/** Compiles an RE2 pattern. (`global` is accepted for the callers' sake: every GoRegex iterates.) */
export function compileGoRegex(pattern: string, _global = false): GoRegex {
  try {
    return new GoRegex(pattern, re2js().RE2JS.compile(pattern));
  } catch (e) {
    if (e instanceof re2js().RE2JSException) {
      const error = 'error' in e && typeof e.error === 'string' ? e.error : e.message.replace(/^error parsing regexp: /, '');
      throw new RegexSyntaxError(error);
    }
    throw e;
  }
}

/** Names of a pattern's capture groups in order ('' for an unnamed group). */
export function captureGroupNames(re: GoRegex): string[] {
  return [...re.names];
}

/** Expands a Go replacement template (`$1`, `${1}`, `$name`, `${name}`, `$$`) for one match. */
export function expandGoTemplate(template: string, match: RegExpExecArray, names: readonly string[]): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== '$') {
      out += c;
      continue;
    }
    if (template[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string | undefined;
    let end = i + 1;
    if (template[i + 1] === '{') {
      const close = template.indexOf('}', i + 2);
      const inner = close < 0 ? '' : template.slice(i + 2, close);
      if (close >= 0 && /^[A-Za-z0-9_]+$/.test(inner)) {
        name = inner;
        end = close + 1;
      }
    } else {
      const m = /^[A-Za-z0-9_]+/.exec(template.slice(i + 1));
      if (m) {
        name = m[0];
        end = i + 1 + m[0].length;
      }
    }
    if (name === undefined) {
      out += '$';
      continue;
    }
    if (/^[0-9]+$/.test(name)) out += match[Number(name)] ?? '';
    else {
      const idx = names.indexOf(name);
      out += idx >= 0 ? (match[idx + 1] ?? '') : '';
    }
    i = end - 1;
  }
  return out;
}

/** `re.ReplaceAllString(s, template)`: Go's loop (no replacement for an empty match right after a match). */
export function goReplaceAll(re: GoRegex, s: string, template: string): string {
  const names = captureGroupNames(re);
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= s.length) {
    const m = re.findAt(s, searchPos);
    if (!m) break;
    out += s.slice(lastMatchEnd, m.index);
    if (m.end > lastMatchEnd || m.index === 0) out += expandGoTemplate(template, m.array, names);
    lastMatchEnd = m.end;
    const width = runeWidth(s, searchPos);
    searchPos = searchPos + width > m.end ? searchPos + width : searchPos + 1 > m.end ? searchPos + 1 : m.end;
  }
  return out + s.slice(lastMatchEnd);
}

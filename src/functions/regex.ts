/**
 * Go (RE2) regular expressions on JavaScript's engine: the pattern syntax is translated
 * (`(?P<name>…)`, leading `(?i)`-style flags, `\A`, `\z`, `\Q…\E`, POSIX classes, `\pL`), and
 * Go's `$1` / `${name}` replacement templates are expanded with Go's rules.
 */

/** A pattern that cannot be compiled; `reason` says why. */
export class RegexSyntaxError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\x00-\\x7F', blank: '\\t ', cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9', graph: '!-~', lower: 'a-z', print: ' -~', punct: '!-\\/:-@\\[-`{-~', space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z', word: '0-9A-Za-z_', xdigit: '0-9A-Fa-f',
};

/** RE2's `\\s`: ASCII whitespace without `\\v` (JavaScript's `\\s` also matches Unicode spaces). */
const RE2_SPACE = '\\t\\n\\f\\r ';

const GENERAL_CATEGORIES = new Set(
  'C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs'.split(' '),
);

function escapeLiteral(ch: string): string {
  return /[A-Za-z0-9]/.test(ch) ? ch : `\\u{${ch.codePointAt(0)!.toString(16)}}`;
}

/** Translates an RE2 pattern to a JavaScript RegExp (always with the `u` flag). */
export function compileGoRegex(pattern: string, global = false): RegExp {
  let flags = 'u' + (global ? 'g' : '');
  let src = pattern;
  const lead = /^\(\?([imsU]+)\)/.exec(src);
  if (lead) {
    for (const f of lead[1]!) {
      if (f === 'U') throw new RegexSyntaxError('ungreedy mode (?U) is not supported');
      if (!flags.includes(f)) flags += f;
    }
    src = src.slice(lead[0].length);
  }
  const chars = [...src];
  let out = '';
  let inClass = false;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\\') {
      const n = chars[i + 1];
      if (n === undefined) throw new RegexSyntaxError('trailing backslash at end of expression');
      i++;
      if (n === 'Q') {
        let j = i + 1;
        while (j < chars.length && !(chars[j] === '\\' && chars[j + 1] === 'E')) out += escapeLiteral(chars[j++]!);
        i = j + 1;
        continue;
      }
      if (!inClass && n === 'A') out += '(?<![\\s\\S])';
      else if (!inClass && n === 'z') out += '(?![\\s\\S])';
      else if (n === 's') out += inClass ? RE2_SPACE : `[${RE2_SPACE}]`;
      else if (n === 'S') {
        if (inClass) throw new RegexSyntaxError('\\S inside a character class is not supported');
        out += `[^${RE2_SPACE}]`;
      } else if (n === 'p' || n === 'P') {
        let name: string;
        if (chars[i + 1] === '{') {
          const close = chars.indexOf('}', i + 2);
          if (close < 0) throw new RegexSyntaxError('invalid character class range: missing }');
          name = chars.slice(i + 2, close).join('');
          i = close;
        } else name = chars[++i] ?? '';
        const negated = name.startsWith('^');
        const bare = negated ? name.slice(1) : name;
        const property = GENERAL_CATEGORIES.has(bare) || bare === 'Any' ? bare : `Script=${bare}`;
        out += `\\${(n === 'P') !== negated ? 'P' : 'p'}{${property === 'Any' ? 'Any' : property}}`;
      } else if (/[A-Za-z0-9]/.test(n)) out += `\\${n}`;
      else out += escapeLiteral(n);
      continue;
    }
    if (inClass) {
      if (c === '[' && chars[i + 1] === ':') {
        const rest = chars.slice(i + 2).join('');
        const end = rest.indexOf(':]');
        const name = end < 0 ? rest : rest.slice(0, end);
        const cls = POSIX[name];
        if (end < 0 || cls === undefined) throw new RegexSyntaxError(`invalid character class range: [:${name}:]`);
        out += cls;
        i += [...name].length + 3;
        continue;
      }
      if (c === ']') inClass = false;
      out += c === '[' ? '\\[' : c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (chars[i + 1] === '^') out += chars[++i];
      if (chars[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(' && chars[i + 1] === '?' && chars[i + 2] === 'P' && chars[i + 3] === '<') {
      out += '(?<';
      i += 3;
      continue;
    }
    if (c === '(' && chars[i + 1] === '?' && /[imsU-]/.test(chars[i + 2] ?? '')) {
      throw new RegexSyntaxError('flags inside an expression are not supported; put them at the start, as (?i)');
    }
    if (c === '.') {
      out += flags.includes('s') ? '[\\s\\S]' : '[^\\n]';
      continue;
    }
    out += c;
  }
  try {
    return new RegExp(out, flags);
  } catch (e) {
    const msg = (e as Error).message;
    throw new RegexSyntaxError(msg.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '').toLowerCase());
  }
}

/** Names of a pattern's capture groups in order ('' for an unnamed group). */
export function captureGroupNames(re: RegExp): string[] {
  const names: string[] = [];
  const src = re.source;
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') {
      if (src[i + 1] !== '?') names.push('');
      else if (src[i + 2] === '<' && src[i + 3] !== '=' && src[i + 3] !== '!') names.push(/^\(\?<([^>]*)>/.exec(src.slice(i))![1]!);
    }
  }
  return names;
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

/** `re.ReplaceAllString(s, template)` with Go's template rules. */
export function goReplaceAll(re: RegExp, s: string, template: string): string {
  const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
  const names = captureGroupNames(g);
  let out = '';
  let last = 0;
  let prevEnd = -1;
  for (let m = g.exec(s); m; m = g.exec(s)) {
    const empty = m[0].length === 0;
    // Go ignores an empty match that abuts the preceding match.
    if (!(empty && m.index === prevEnd)) {
      out += s.slice(last, m.index) + expandGoTemplate(template, m, names);
      last = m.index + m[0].length;
      prevEnd = last;
    }
    if (empty) {
      if (g.lastIndex >= s.length) break;
      g.lastIndex += s.codePointAt(g.lastIndex)! > 0xffff ? 2 : 1;
    }
  }
  return out + s.slice(last);
}

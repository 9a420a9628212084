/** String functions (cty stdlib and Packer's `startswith`, `endswith`, `strcontains`). Lengths
 * and offsets count grapheme clusters; case mapping is per character, as Go's strings package does. */
import { T, Value } from '../values/value.js';
import { captureGroupNames, compileGoRegex, goReplaceAll, RegexSyntaxError, type GoRegex } from './regex.js';
import { define, graphemes, intArg, param, strings } from './support.js';
import { FunctionArgError, FunctionError, type FunctionDef } from './types.js';

const string = T.string;

function stringToString(name: string, f: (s: string) => string): FunctionDef {
  return define({ params: [param(name, string)], returnType: string, impl: ([s]) => Value.string(f(s!.asString())) });
}

/** Maps each character on its own (Go's unicode.ToUpper/ToLower), never changing the length. */
function mapChars(s: string, f: (ch: string) => string): string {
  let out = '';
  for (const ch of s) {
    const m = f(ch);
    out += [...m].length === 1 ? m : ch;
  }
  return out;
}

export const upper = stringToString('str', (s) => mapChars(s, (c) => c.toUpperCase()));
export const lower = stringToString('str', (s) => mapChars(s, (c) => c.toLowerCase()));

const GO_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';
const leadingSpace = new RegExp(`^[${GO_SPACE}]+`, 'u');
const trailingSpace = new RegExp(`[${GO_SPACE}]+$`, 'u');
const isGoSpace = new RegExp(`^[${GO_SPACE}]$`, 'u');

export const trimspace = stringToString('str', (s) => s.replace(leadingSpace, '').replace(trailingSpace, ''));
export const chomp = stringToString('str', (s) => s.replace(/(?:\r\n?|\n)*$/, ''));
export const strrev = stringToString('str', (s) => graphemes(s).reverse().join(''));

function isTitleSeparator(ch: string): boolean {
  const c = ch.codePointAt(0)!;
  if (c <= 0x7f) return !/[0-9A-Za-z_]/.test(ch);
  if (/^[\p{L}\p{Nd}]$/u.test(ch)) return false;
  return isGoSpace.test(ch);
}

export const title = stringToString('str', (s) => {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    const up = ch.toUpperCase();
    out += isTitleSeparator(prev) && [...up].length === 1 ? up : ch;
    prev = ch;
  }
  return out;
});

export const trim = define({
  params: [param('str', string), param('cutset', string)],
  returnType: string,
  impl: ([s, cut]) => {
    const set = new Set(cut!.asString());
    const chars = [...s!.asString()];
    let a = 0;
    let b = chars.length;
    while (a < b && set.has(chars[a]!)) a++;
    while (b > a && set.has(chars[b - 1]!)) b--;
    return Value.string(chars.slice(a, b).join(''));
  },
});

export const trimprefix = define({
  params: [param('str', string), param('prefix', string)],
  returnType: string,
  impl: ([s, p]) => {
    const str = s!.asString();
    const prefix = p!.asString();
    return Value.string(str.startsWith(prefix) ? str.slice(prefix.length) : str);
  },
});

export const trimsuffix = define({
  params: [param('str', string), param('suffix', string)],
  returnType: string,
  impl: ([s, p]) => {
    const str = s!.asString();
    const suffix = p!.asString();
    return Value.string(suffix !== '' && str.endsWith(suffix) ? str.slice(0, str.length - suffix.length) : str);
  },
});

function stringTest(second: string, f: (s: string, t: string) => boolean): FunctionDef {
  return define({
    params: [param('str', string), param(second, string)],
    returnType: T.bool,
    impl: ([s, t]) => Value.bool(f(s!.asString(), t!.asString())),
  });
}

export const startswith = stringTest('prefix', (s, p) => s.startsWith(p));
export const endswith = stringTest('suffix', (s, p) => s.endsWith(p));
export const strcontains = stringTest('substr', (s, p) => s.includes(p));

export const indent = define({
  params: [param('spaces', T.number), param('str', string)],
  returnType: string,
  impl: (args) => {
    const pad = ' '.repeat(Math.max(0, intArg(args, 0)));
    return Value.string(args[1]!.asString().split('\n').join(`\n${pad}`));
  },
});

export const join = define({
  params: [param('separator', string)],
  varParam: param('lists', T.list(string)),
  returnType: string,
  impl: ([sep, ...lists]) => {
    if (lists.length === 0) throw new FunctionError('at least one list is required');
    if (!lists.every((l) => l.isWhollyKnown)) return Value.unknown(string);
    const items: string[] = [];
    lists.forEach((list, li) => {
      list.elements().forEach((e, ei) => {
        if (e.isNull) {
          throw new FunctionArgError(
            li + 1,
            lists.length > 1 ? `element ${ei} of list ${li + 1} is null; cannot concatenate null values` : `element ${ei} is null; cannot concatenate null values`,
          );
        }
        items.push(e.asString());
      });
    });
    return Value.string(items.join(sep!.asString()));
  },
});

export const split = define({
  params: [param('separator', string), param('str', string)],
  returnType: T.list(string),
  impl: ([sep, s]) => {
    const separator = sep!.asString();
    const str = s!.asString();
    return strings(separator === '' ? [...str] : str.split(separator));
  },
});

export const replace = define({
  params: [param('str', string), param('substr', string), param('replace', string)],
  returnType: string,
  impl: ([s, sub, rep]) => {
    const substr = sub!.asString();
    const str = s!.asString();
    if (substr === '') {
      // Go's strings.Replace with an empty old string inserts the replacement around every character.
      const chars = [...str];
      return Value.string(rep!.asString() + chars.map((c) => c + rep!.asString()).join(''));
    }
    return Value.string(str.split(substr).join(rep!.asString()));
  },
});

export const regex_replace = define({
  params: [param('str', string), param('substr', string), param('replace', string)],
  returnType: string,
  impl: ([s, sub, rep]) => {
    let re: GoRegex;
    try {
      re = compileGoRegex(sub!.asString(), true);
    } catch (e) {
      if (e instanceof RegexSyntaxError) throw new FunctionError(`error parsing regexp: ${e.reason}: \`${sub!.asString()}\``);
      throw e;
    }
    return Value.string(goReplaceAll(re, s!.asString(), rep!.asString()));
  },
});

type RegexShape = { kind: 'string' } | { kind: 'tuple'; count: number } | { kind: 'object'; names: string[] };

function compilePattern(pattern: string): { re: GoRegex; shape: RegexShape } {
  let re: GoRegex;
  try {
    re = compileGoRegex(pattern, true);
  } catch (e) {
    if (e instanceof RegexSyntaxError) throw new FunctionArgError(0, `invalid regexp pattern: ${e.reason} in ${pattern}`);
    throw e;
  }
  const names = captureGroupNames(re);
  const named = names.filter((n) => n !== '');
  const unnamed = names.length - named.length;
  if (names.length === 0) return { re, shape: { kind: 'string' } };
  if (unnamed > 0 && named.length > 0) throw new FunctionArgError(0, 'invalid regexp pattern: cannot mix both named and unnamed capture groups');
  if (unnamed > 0) return { re, shape: { kind: 'tuple', count: unnamed } };
  return { re, shape: { kind: 'object', names: named } };
}

function matchResult(m: RegExpExecArray, shape: RegexShape): Value {
  const group = (s: string | undefined): Value => (s === undefined ? Value.null(string) : Value.string(s));
  if (shape.kind === 'string') return Value.string(m[0]);
  if (shape.kind === 'tuple') return Value.tuple(m.slice(1).map(group));
  return Value.object(new Map(shape.names.map((n) => [n, group(m.groups?.[n])])));
}

function shapeType(shape: RegexShape): import('../values/value.js').Type {
  if (shape.kind === 'string') return string;
  if (shape.kind === 'tuple') return T.tuple(Array.from({ length: shape.count }, () => string));
  return T.object(new Map(shape.names.map((n) => [n, string])));
}

export const regex = define({
  params: [param('pattern', string), param('string', string)],
  impl: ([p, s]) => {
    const { re, shape } = compilePattern(p!.asString());
    re.lastIndex = 0;
    const m = re.exec(s!.asString());
    if (!m) throw new FunctionArgError(1, 'pattern did not match any part of the given string');
    return matchResult(m, shape);
  },
});

export const regexall = define({
  params: [param('pattern', string), param('string', string)],
  impl: ([p, s]) => {
    const { re, shape } = compilePattern(p!.asString());
    const str = s!.asString();
    const out: Value[] = [];
    re.lastIndex = 0;
    for (let m = re.exec(str); m; m = re.exec(str)) {
      out.push(matchResult(m, shape));
      if (m[0].length === 0) {
        if (re.lastIndex >= str.length) break;
        re.lastIndex += str.codePointAt(re.lastIndex)! > 0xffff ? 2 : 1;
      }
    }
    return Value.list(out, shapeType(shape));
  },
});

export const substr = define({
  params: [param('str', string), param('offset', T.number), param('length', T.number)],
  returnType: string,
  impl: (args) => {
    const clusters = graphemes(args[0]!.asString());
    let offset = intArg(args, 1);
    const length = intArg(args, 2);
    if (offset < 0) offset = Math.max(0, offset + clusters.length);
    else if (length === 0) return Value.string('');
    if (offset >= clusters.length) return Value.string('');
    return Value.string((length < 0 ? clusters.slice(offset) : clusters.slice(offset, offset + length)).join(''));
  },
});

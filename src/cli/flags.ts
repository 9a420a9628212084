/**
 * Command-line flags written Packer's (Go's `flag` package) way: one or two dashes, then
 * `-name=value` or `-name value` for value flags; `-name`, `-name=true` or `-name=false` for
 * booleans. Parsing stops at the first non-flag argument or at `--`. Repeatable flags (`-var`)
 * collect every occurrence in order.
 *
 * No npm parser does Go-style single-dash long flags with these rules (minimist and yargs read
 * `-var` as three short flags), so this small parser is hand-written; see docs/dependencies.md.
 */
import { UsageError } from '../errors.js';

/**
 * `-h`, `-help` or `--help` anywhere before `--`: the command's usage is wanted (on stdout, exit
 * 0). It carries the names of the flags the command parses, so a test can check that the usage
 * lists exactly those.
 */
export class HelpRequested extends UsageError {
  constructor(readonly flagNames: readonly string[]) {
    super('');
  }
}

const isHelp = (arg: string): boolean => arg === '-h' || arg === '-help' || arg === '--help' || arg === '--h';

export type FlagSpec =
  | { kind: 'bool'; default?: boolean }
  | { kind: 'string'; default?: string }
  | { kind: 'int'; default?: number }
  | { kind: 'duration'; default?: number }
  /** Repeatable; every occurrence is kept in order. */
  | { kind: 'list' };

export type FlagSpecs = Record<string, FlagSpec>;

export type FlagValues<S extends FlagSpecs> = {
  [K in keyof S]: S[K] extends { kind: 'bool' }
    ? boolean
    : S[K] extends { kind: 'string' }
      ? string | undefined
      : S[K] extends { kind: 'int' | 'duration' }
        ? number | undefined
        : string[];
};

export interface ParsedFlags<S extends FlagSpecs> {
  flags: FlagValues<S>;
  /** Flags in the order given, for options whose relative order matters (-var / -var-file). */
  ordered: { name: string; value: string }[];
  args: string[];
}

/** Parses a Go duration ("1m30s", "500ms", "2h", "10" meaning seconds is refused) to milliseconds. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '0') return 0;
  // Go accepts both micro signs (U+00B5, U+03BC); written as escapes to keep the bundle ASCII.
  const re = /(\d+(?:\.\d+)?)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/gy;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, '\u00b5s': 1e-3, '\u03bcs': 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * unit[m[2]!]!;
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== s.length) return undefined;
  return total;
}

export function parseFlags<S extends FlagSpecs>(argv: readonly string[], specs: S): ParsedFlags<S> {
  const flags: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    flags[name] = spec.kind === 'list' ? [] : spec.kind === 'bool' ? (spec.default ?? false) : spec.default;
  }
  const ordered: { name: string; value: string }[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    if (name === 'h' || name === 'help') throw new HelpRequested(Object.keys(specs));
    const spec = specs[name];
    if (!spec) throw new UsageError(`flag provided but not defined: -${name}`);
    if (spec.kind === 'bool') {
      if (value === undefined) flags[name] = true;
      else if (/^(1|t|T|TRUE|true|True)$/.test(value)) flags[name] = true;
      else if (/^(0|f|F|FALSE|false|False)$/.test(value)) flags[name] = false;
      else throw new UsageError(`invalid boolean value "${value}" for -${name}`);
      ordered.push({ name, value: String(flags[name]) });
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: -${name}`);
      value = argv[++i]!;
    }
    ordered.push({ name, value });
    switch (spec.kind) {
      case 'string':
        flags[name] = value;
        break;
      case 'int': {
        if (!/^-?\d+$/.test(value)) throw new UsageError(`invalid value "${value}" for flag -${name}: parse error`);
        flags[name] = Number(value);
        break;
      }
      case 'duration': {
        const ms = parseDuration(value);
        if (ms === undefined) throw new UsageError(`invalid value "${value}" for flag -${name}: expected a duration such as 30s, 5m or 1h30m`);
        flags[name] = ms;
        break;
      }
      case 'list':
        (flags[name] as string[]).push(value);
        break;
    }
  }
  const afterDash = argv[i - 1] === '--';
  const args = argv.slice(i);
  if (!afterDash) misplacedFlags(args, specs);
  return { flags: flags as FlagValues<S>, ordered, args };
}

/**
 * Go's flag rules stop at the first argument that is not a flag, so `validate t.pkr.hcl
 * -syntax-only` would take `-syntax-only` for a second template. A help flag there still asks
 * for help; a flag of the command there is refused with an explanation of the order.
 */
function misplacedFlags(args: readonly string[], specs: FlagSpecs): void {
  const end = args.indexOf('--');
  const checked = end >= 0 ? args.slice(0, end) : args;
  if (checked.some(isHelp)) throw new HelpRequested(Object.keys(specs));
  const flag = checked.slice(1).find((a) => /^--?[^-=]/.test(a) && Object.hasOwn(specs, a.replace(/^--?/, '').split('=')[0]!));
  if (flag === undefined) return;
  throw new UsageError(
    `The flag ${flag} comes after ${JSON.stringify(args[0])}: flags must come before the other arguments ` +
      `(builder COMMAND [options] ARGS...), since flag parsing stops at the first argument that is not a flag, as in Packer.`,
  );
}

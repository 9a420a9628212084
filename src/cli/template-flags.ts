/**
 * The flags that every template command shares, the way Packer spells them:
 * `-var 'name=value'` and `-var-file=path` (repeatable; their relative order is kept, since a
 * later one wins) with `-use-sequential-evaluation` (current Packer's fallback order for locals and
 * data blocks: src/template/prereqs.ts), and `-only` / `-except` (comma-separated build-name
 * globs, repeatable).
 */
import { UsageError } from '../errors.js';
import type { FlagSpecs, ParsedFlags } from './flags.js';
import type { VariableInput } from '../template/loader.js';

export const varFlagSpecs = {
  var: { kind: 'list' },
  'var-file': { kind: 'list' },
  'use-sequential-evaluation': { kind: 'bool' },
} as const satisfies FlagSpecs;

export const buildFilterFlagSpecs = {
  only: { kind: 'list' },
  except: { kind: 'list' },
} as const satisfies FlagSpecs;

/** Usage lines, their descriptions starting at `column` (the command's other flags' column); a
 * flag too long for the column has its description on the next line. */
function flagUsage(lines: readonly (readonly [string, string])[], column: number): string {
  return lines.map(([flag, text]) => (`  ${flag}`.length < column ? `  ${flag}`.padEnd(column) : `  ${flag}\n${' '.repeat(column)}`) + text).join('\n');
}

export function varFlagsUsageAt(column: number): string {
  return flagUsage(
    [
      ["-var 'key=value'", 'Variable for templates, can be used multiple times.'],
      ['-var-file=path', 'JSON or HCL2 file containing user variables, can be used multiple times.'],
      ['-use-sequential-evaluation', 'Evaluate every data block before the locals, as older Packer did.'],
    ],
    column,
  );
}

export function buildFilterFlagsUsageAt(column: number): string {
  return flagUsage(
    [
      ['-only=foo,bar,baz', 'Only run the builds with these full names (globs allowed).'],
      ['-except=foo,bar,baz', 'Run all builds and post-processors other than these (globs allowed).'],
    ],
    column,
  );
}

export const varFlagsUsage = varFlagsUsageAt(25);
export const buildFilterFlagsUsage = buildFilterFlagsUsageAt(25);

/** The -var / -var-file flags in the order given on the command line. */
export function variableInputs(parsed: ParsedFlags<FlagSpecs>): VariableInput[] {
  const out: VariableInput[] = [];
  for (const { name, value } of parsed.ordered) {
    if (name === 'var') {
      const eq = value.indexOf('=');
      if (eq <= 0) throw new UsageError(`invalid value "${value}" for flag -var: expected 'name=value'`);
      out.push({ kind: 'var', name: value.slice(0, eq).trim(), value: value.slice(eq + 1) });
    } else if (name === 'var-file') {
      out.push({ kind: 'file', path: value });
    }
  }
  return out;
}

/** `-only=a,b -only=c` → ['a', 'b', 'c']. */
export function splitList(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

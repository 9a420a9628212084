/**
 * `inspect` of a legacy JSON template, in Packer 1.6.6's layout (packer.Core.InspectConfig, "JSON
 * mode"): the description, the required variables, the optional ones with their defaults as
 * written (not rendered; sensitive ones as `<sensitive>`), the builders by name (padded to the
 * longest, the type in parentheses when it differs from the name), the provisioners' types in
 * order, and the closing note. Post-processors and the error-cleanup provisioner are not listed,
 * as in Packer.
 *
 * Only what Packer 1.6.6 checks before inspecting is checked: the template parses and the var
 * files can be read. `-var` values and unset required variables change nothing.
 *
 * Packer masks a variable when its default equals a sensitive variable's default at that moment
 * of a Go map walk, so whether a non-sensitive variable sharing a sensitive default is masked
 * depends on Go's random map order; builder masks exactly the variables `sensitive-variables`
 * names, which is one of the outputs Packer gives.
 */
import { isAbsolute, relative } from 'node:path';
import { formatDiagnostics, hasErrors, type SourceLookup } from '../../diagnostics.js';
import { machineLine } from '../../ui/ui.js';
import type { VariableInput } from '../loader.js';
import { readLegacyTemplateFile, type LegacyTemplate } from './parse.js';
import { readLegacyInputs, type LegacyInputs } from './variables.js';

export const INSPECT_NOTE =
  "Note: If your build names contain user variables or template\nfunctions such as 'timestamp', these are processed at build time,\nand therefore only show in their raw form here.";

/** One line Packer's UI prints: `say` text (human), and its machine-readable record. */
export interface InspectLine {
  say?: string;
  machine?: { type: string; fields: string[] };
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Go's len(): bytes of UTF-8. */
const goLen = (s: string): number => Buffer.byteLength(s, 'utf8');
/** `s` padded with spaces to `width` bytes, as Packer pads with strings.Repeat(" ", max-len(k)). */
const padGo = (s: string, width: number): string => s + ' '.repeat(Math.max(0, width - goLen(s)));

/** The lines Packer 1.6.6 writes, in order. */
export function legacyInspectLines(t: LegacyTemplate): InspectLine[] {
  const out: InspectLine[] = [];
  const say = (text: string): void => void out.push({ say: text });
  const machine = (type: string, ...fields: string[]): void => void out.push({ machine: { type, fields } });
  say('Packer Inspect: JSON mode');
  if (t.description) {
    say('Description:\n');
    say(`${t.description}\n`);
  }
  if (t.variables.length === 0) {
    say('Variables:\n');
    say('  <No variables>');
  } else {
    const sensitive = new Set(t.sensitiveVariables);
    const shown = (name: string, def: string | undefined): string => (sensitive.has(name) ? '<sensitive>' : (def ?? ''));
    const names = t.variables.map((v) => v.name).sort(byCodePoint);
    const byName = new Map(t.variables.map((v) => [v.name, v]));
    const required = names.filter((n) => byName.get(n)!.default === undefined);
    if (required.length > 0) {
      say('Required variables:\n');
      for (const n of required) {
        machine('template-variable', n, shown(n, undefined), '1');
        say(`  ${n}`);
      }
      say('');
    }
    say('Optional variables and their defaults:\n');
    const width = Math.max(...names.map(goLen));
    for (const n of names) {
      const def = byName.get(n)!.default;
      if (def === undefined) continue;
      machine('template-variable', n, shown(n, def), '0');
      say(`  ${padGo(n, width)} = ${shown(n, def)}`);
    }
  }
  say('');
  say('Builders:\n');
  if (t.builders.length === 0) say('  <No builders>');
  else {
    const builders = [...t.builders].sort((a, b) => byCodePoint(a.name, b.name));
    const width = Math.max(...builders.map((b) => goLen(b.name)));
    for (const b of builders) {
      machine('template-builder', b.name, b.type);
      say(`  ${padGo(b.name, width)}${b.name !== b.type ? ` (${b.type})` : ''}`);
    }
  }
  say('');
  say('Provisioners:\n');
  if (t.provisioners.length === 0) say('  <No provisioners>');
  for (const p of t.provisioners) {
    machine('template-provisioner', p.type);
    say(`  ${p.type}`);
  }
  say(`\n${INSPECT_NOTE}`);
  return out;
}

/** The human-readable text (machine records are not shown). */
export function formatLegacyInspect(t: LegacyTemplate): string {
  return legacyInspectLines(t)
    .filter((l) => l.say !== undefined)
    .map((l) => `${l.say}\n`)
    .join('');
}

export interface LegacyCommandResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** The legacy template at `fullPath` read as Packer 1.6.6 reads it before inspect or console:
 * parsed, and its var files read. Diagnostics are formatted for stderr. */
export function readLegacyForCommand(
  fullPath: string,
  inputs: readonly VariableInput[],
  cwd: string,
): { template?: LegacyTemplate; inputs?: LegacyInputs; stderr: string } {
  const rel = relative(cwd, fullPath);
  const name = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : fullPath;
  const texts = new Map<string, string>();
  const sources: SourceLookup = (f) => texts.get(f);
  const parsed = readLegacyTemplateFile(fullPath, name, texts);
  if (!parsed.template || hasErrors(parsed.diagnostics)) return { stderr: formatDiagnostics(parsed.diagnostics, sources) };
  const read = readLegacyInputs(inputs, cwd);
  for (const [k, v] of read.texts) texts.set(k, v);
  const stderr = read.diagnostics.length > 0 ? formatDiagnostics(read.diagnostics, sources) : '';
  if (hasErrors(read.diagnostics)) return { stderr };
  return { template: parsed.template, inputs: read, stderr };
}

/** `inspect` of the legacy template at `fullPath`; `machineReadable` as Packer's -machine-readable. */
export function inspectLegacy(fullPath: string, inputs: readonly VariableInput[], cwd: string, machineReadable: boolean, now = new Date()): LegacyCommandResult {
  const { template, stderr } = readLegacyForCommand(fullPath, inputs, cwd);
  if (!template) return { stdout: '', stderr, code: 1 };
  const lines = legacyInspectLines(template);
  const stdout = machineReadable
    ? lines.map((l) => (l.machine ? machineLine(now, '', l.machine.type, l.machine.fields) : machineLine(now, '', 'ui', ['say', l.say ?? '']))).join('')
    : formatLegacyInspect(template);
  return { stdout, stderr, code: 0 };
}

/**
 * HCL's `ContextString`: what Packer prints after "on FILE line N, in …:" in a diagnostic.
 *
 * - Native syntax: the header of the top-level block that contains the offset, as `build`,
 *   `source "null" "basic"` or `variable "region"` (labels quoted); nothing outside a block.
 * - JSON syntax: the path of object keys and array indexes, from the root, down to the innermost
 *   object or array that contains the offset (`count`, `build.provisioner[0]`).
 *
 * The file is parsed again from its text (only when a diagnostic is printed); a file that no
 * longer parses gives what could be read, or nothing.
 */
import type { JsonValue } from './ast.js';
import { parseJsonConfig } from './json.js';
import { parseConfig } from './parser.js';

const contains = (r: { start: { byte: number }; end: { byte: number } }, offset: number): boolean => offset >= r.start.byte && offset < r.end.byte;

export function contextString(filename: string, source: string, offset: number): string | undefined {
  return contextFinder(filename, source)(offset);
}

/**
 * The context strings of one file: parses it once, for every diagnostic printed in it (parsing it
 * again for each one made printing N diagnostics of an N-line file quadratic).
 */
export function contextFinder(filename: string, source: string): (offset: number) => string | undefined {
  if (filename.endsWith('.json')) {
    const { file } = parseJsonConfig(source, filename);
    const body = file.body;
    if (body.kind !== 'json') return () => undefined;
    return (offset) => {
      const text = jsonSteps(body.value, offset).join('').replace(/^\./, '');
      return text === '' ? undefined : text;
    };
  }
  const { file } = parseConfig(source, filename);
  const body = file.body;
  if (body.kind !== 'native') return () => undefined;
  return (offset) => {
    const block = body.blocks.find((b) => contains(b.range, offset));
    if (!block) return undefined;
    return [block.type, ...block.labels.map((l) => JSON.stringify(l))].join(' ');
  };
}

function jsonSteps(v: JsonValue, offset: number): string[] {
  const nested = (x: JsonValue): boolean => (x.kind === 'object' || x.kind === 'array') && contains(x.range, offset);
  if (v.kind === 'object') {
    const p = v.props.find((prop) => nested(prop.value));
    return p ? [`.${p.name}`, ...jsonSteps(p.value, offset)] : [];
  }
  if (v.kind === 'array') {
    const i = v.items.findIndex(nested);
    return i >= 0 ? [`[${i}]`, ...jsonSteps(v.items[i]!, offset)] : [];
  }
  return [];
}

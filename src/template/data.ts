/**
 * `data "TYPE" "NAME" { … }` blocks. They are parsed and kept; builder has no data sources yet,
 * so every data source type is unknown and reported as such.
 */
import { errorDiag, type Diagnostic } from '../diagnostics.js';
import type { Block } from '../hcl/ast.js';
import type { DataSourceDef } from './model.js';
import { defRange, placeString } from './ranges.js';

/** The data source types builder knows. */
export const KNOWN_DATA_SOURCES: ReadonlySet<string> = new Set();

export function decodeDataBlock(block: Block, dataSources: DataSourceDef[]): Diagnostic[] {
  const [type, name] = block.labels as [string, string];
  const range = defRange(block);
  const existing = dataSources.find((d) => d.type === type && d.name === name);
  if (existing) {
    return [errorDiag('Duplicate data block', `This data block has the same type and name as a previous block declared at ${placeString(existing.range)}.`, range)];
  }
  dataSources.push({ type, name, body: block.body, range });
  if (!KNOWN_DATA_SOURCES.has(type)) {
    return [
      errorDiag(
        `Unknown data source type "${type}"`,
        `builder has no data source of type "${type}"; it does not support data sources yet. ` +
          'Replace the data block with a variable or a local holding the value.',
        block.labelRanges[0] ?? range,
      ),
    ];
  }
  return [];
}

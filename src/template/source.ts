/**
 * `source "TYPE" "NAME" { … }` blocks. The body is kept as it is and evaluated per build by
 * `evaluateConfig`, because it may use values known only while building. Whether TYPE is a known
 * builder is checked by `validate` against the builder registry.
 */
import { errorDiag, type Diagnostic } from '../diagnostics.js';
import type { Block } from '../hcl/ast.js';
import type { SourceDef } from './model.js';
import { defRange, placeString } from './ranges.js';

export function decodeSourceBlock(block: Block, sources: Map<string, SourceDef>): Diagnostic[] {
  const [type, name] = block.labels as [string, string];
  const key = `${type}.${name}`;
  const existing = sources.get(key);
  if (existing) {
    return [
      errorDiag(
        'Duplicate source block',
        `This source block has the same builder type and name as a previous block declared at ${placeString(existing.range)}. ` +
          'Each source must have a unique name per builder type.',
        defRange(block),
      ),
    ];
  }
  sources.set(key, { type, name, body: block.body, range: defRange(block) });
  return [];
}

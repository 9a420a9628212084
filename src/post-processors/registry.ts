/** The post-processors by type name. */
import type { PostProcessorDef } from '../core/component.js';
import { artificePostProcessor } from './artifice.js';
import { checksumPostProcessor } from './checksum.js';
import { compressPostProcessor } from './compress.js';
import { manifestPostProcessor } from './manifest.js';
import { shellLocalPostProcessor } from './shell-local.js';

function registry(defs: readonly PostProcessorDef<unknown>[]): ReadonlyMap<string, PostProcessorDef<unknown>> {
  const map = new Map<string, PostProcessorDef<unknown>>();
  for (const def of defs) {
    if (map.has(def.type)) throw new Error(`post-processor type "${def.type}" registered twice`);
    map.set(def.type, def);
  }
  return map;
}

export const postProcessors = registry([
  manifestPostProcessor,
  checksumPostProcessor,
  compressPostProcessor,
  shellLocalPostProcessor,
  artificePostProcessor,
]);

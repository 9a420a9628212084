/** The builders by source type. */
import type { BuilderDef } from '../core/component.js';
import { fileBuilder } from './file.js';
import { nullBuilder } from './null.js';

function registry(defs: readonly BuilderDef<unknown>[]): ReadonlyMap<string, BuilderDef<unknown>> {
  const map = new Map<string, BuilderDef<unknown>>();
  for (const def of defs) {
    if (map.has(def.type)) throw new Error(`builder type "${def.type}" registered twice`);
    map.set(def.type, def);
  }
  return map;
}

export const builders = registry([nullBuilder, fileBuilder]);

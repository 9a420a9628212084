/** The provisioners by type name. */
import type { ProvisionerDef } from '../core/component.js';
import { breakpointProvisioner } from './breakpoint.js';
import { fileProvisioner } from './file.js';
import { shellProvisioner } from './shell.js';
import { shellLocalProvisioner } from './shell-local.js';

function registry(defs: readonly ProvisionerDef<unknown>[]): ReadonlyMap<string, ProvisionerDef<unknown>> {
  const map = new Map<string, ProvisionerDef<unknown>>();
  for (const def of defs) {
    if (map.has(def.type)) throw new Error(`provisioner type "${def.type}" registered twice`);
    map.set(def.type, def);
  }
  return map;
}

export const provisioners = registry([shellLocalProvisioner, shellProvisioner, fileProvisioner, breakpointProvisioner]);

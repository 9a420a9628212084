/**
 * The communicators by type name (the `communicator` attribute of a source; Packer's default is
 * "ssh"). A caller passes a definition's `prepare` result back to the same definition's `connect`.
 */
import type { CommunicatorDef } from '../core/component.js';
import { noneCommunicator } from './none.js';
import { sshCommunicator } from './ssh.js';

function registry(defs: readonly CommunicatorDef[]): ReadonlyMap<string, CommunicatorDef> {
  const map = new Map<string, CommunicatorDef>();
  for (const def of defs) {
    if (map.has(def.type)) throw new Error(`communicator type "${def.type}" registered twice`);
    map.set(def.type, def);
  }
  return map;
}

export const communicators = registry([noneCommunicator, sshCommunicator]);

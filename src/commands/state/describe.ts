/**
 * Recorded instances and locks in plain words, for the `state` commands: "container 3f2a1b2c3d4e
 * from image debian:12", "instance of the null builder (host 10.0.0.5)", not the record's raw
 * fields. The builder ids are Packer's (src/builders/*); an instance of a builder this table does
 * not know is named by its id and builder id.
 */
import type { LockInfo } from '../../state/interfaces.js';
import type { BuildState, InstanceState, JsonValue } from '../../state/types.js';

const text = (v: JsonValue | undefined): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** What the instance is, as a noun phrase ("container 3f2a1b2c3d4e from image debian:12"). */
export function describeInstance(i: InstanceState): string {
  switch (i.builder_id) {
    case 'packer.docker': {
      const image = text(i.metadata.image);
      return `container ${i.id.slice(0, 12)}${image ? ` from image ${image}` : ''}`;
    }
    case 'fnoeding.null': {
      const host = text(i.metadata.host);
      return `instance of the null builder${host ? ` (host ${host})` : ''}`;
    }
    case 'packer.file':
      return `file ${text(i.metadata.target) ?? i.id}`;
    default:
      return `instance ${i.id} of builder ${i.builder_id}${i.provider ? ` (${i.provider})` : ''}`;
  }
}

/** A build is running when its status is a running one and a run holds its lock. */
export function isRunning(b: BuildState, key: string, locks: readonly LockInfo[]): boolean {
  const active = b.status === 'creating' || b.status === 'provisioning' || b.status === 'post_processing';
  return active && locks.some((l) => l.scope === 'build' && l.build === key);
}

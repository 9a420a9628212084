/**
 * Chains: what an instance has been through. The state of an instance after provisioner k is
 * identified by its chain: the source's fingerprint followed by the fingerprints of provisioners
 * 1..k as they were applied to it. A run may continue at provisioner k+1 only on an instance (or a
 * snapshot) whose chain equals the template's chain through provisioner k.
 *
 * Contracts:
 * - A step's identity is its type, name and fingerprint (`stepId`): two steps with the same
 *   identity do the same thing. `sameStep` compares identities.
 * - `chainHash(source, steps)` is "sha256:<hex>" of the source fingerprint and the identities of
 *   `steps` in order; it is what a snapshot records (StepState.snapshot.chain) and what the planner
 *   compares it with. It is stable: the same inputs give the same hash in every version.
 */
import { createHash } from 'node:crypto';

/** The parts of a step that make its identity. */
export interface StepIdentity {
  type: string;
  name: string;
  fingerprint: string;
}

/** A step's identity as one string. */
export function stepId(s: StepIdentity): string {
  return JSON.stringify([s.type, s.name, s.fingerprint]);
}

export function sameStep(a: StepIdentity, b: StepIdentity): boolean {
  return a.type === b.type && a.name === b.name && a.fingerprint === b.fingerprint;
}

/** The hash of the chain of `source` then `steps` (see the module comment). */
export function chainHash(source: string, steps: readonly StepIdentity[]): string {
  const h = createHash('sha256').update(`chain v1\nsource ${source}\n`);
  for (const s of steps) h.update(`step ${stepId(s)}\n`);
  return `sha256:${h.digest('hex')}`;
}

/** chainHash through each step: result[k] is the chain through steps[0..k]. */
export function chainHashes(source: string, steps: readonly StepIdentity[]): string[] {
  return steps.map((_, k) => chainHash(source, steps.slice(0, k + 1)));
}

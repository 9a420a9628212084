/** Counters kept in builds (the `attempts` of the first provisioner), and how a child makes a client. */
import { newBuild, newStep, type BuildState } from '../../../src/state/types.js';

export interface ClientSpec {
  /** file:// URL of the module. */
  module: string;
  export: string;
  args: unknown[];
}

/** A build's counter. */
export function counter(build: BuildState | undefined): number {
  return build?.provisioners[0]?.attempts ?? 0;
}

/** The build with its counter one higher (created when absent). */
export function bump(b: BuildState | undefined, name: string): BuildState {
  const build = b ?? { ...newBuild(name, 'null'), provisioners: [newStep('shell')] };
  build.provisioners[0]!.attempts += 1;
  return build;
}


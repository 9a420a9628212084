/**
 * What `builder state rm` does with the instance a failed build kept, decided by the builder that
 * made it (the builder registry, by the build's recorded source type):
 *   - destroy:            the builder can destroy an instance from its record (destroyRecorded);
 *   - nothing-to-destroy: the instance outlives the build (null: the host it connects to), so
 *                         forgetting the build forgets only the record of its steps;
 *   - leave:              no builder here can destroy it; the user is told to remove it.
 */
import type { CommandContext } from '../cli/command.js';
import type { BuildState } from '../state/types.js';
import { builders } from '../builders/registry.js';

export type KeptInstanceFate = 'destroy' | 'nothing-to-destroy' | 'leave';

export function keptInstanceFate(build: BuildState): KeptInstanceFate {
  const builder = builders.get(build.type);
  if (builder?.instanceOutlivesBuild) return 'nothing-to-destroy';
  return builder?.destroyRecorded ? 'destroy' : 'leave';
}

/** Destroys the kept instance of a build whose fate is 'destroy'. */
export async function destroyKeptInstance(_key: string, build: BuildState, ctx: CommandContext): Promise<void> {
  const builder = builders.get(build.type);
  const instance = build.instance;
  if (!instance || !builder?.destroyRecorded) throw new Error(`no ${build.type} builder can destroy the kept instance`);
  await builder.destroyRecorded({ id: instance.id, metadata: instance.metadata }, { cwd: ctx.cwd, env: ctx.env, signal: ctx.signal });
}

/**
 * The inputs of one bound build as the planner compares them with the state: the source's and
 * each step's fingerprint, computed from the bind pass's evaluation (src/plan/bind.ts) — nothing
 * is evaluated again here.
 *
 * Contracts:
 * - A step's fingerprint covers its type, name, evaluated configuration and the content of every
 *   local file it declares through `inputFiles` (provisioners and post-processors alike);
 *   post-processors also declare the files they write (`outputFiles`), which the planner checks.
 * - The state's lineage is the salt for sensitive values (see fingerprint.ts).
 */
import type { BoundBuild, BoundPostProcessor, BoundProvisioner } from './bind.js';
import { fingerprint } from './fingerprint.js';
import type { BuildInputs, PlannedStep } from './plan.js';


export function buildInputs(bound: BoundBuild, salt: string, cwd: string): BuildInputs {
  const names = { buildName: bound.packerBuildName, builderType: bound.builderType };
  const step = (s: BoundProvisioner | BoundPostProcessor): PlannedStep => {
    const def: { inputFiles?(c: unknown): string[]; outputFiles?(c: unknown, n: typeof names): string[] } = s.def;
    const files = s.prepared !== undefined ? (def.inputFiles?.(s.prepared) ?? []) : [];
    const outputs = s.prepared !== undefined ? def.outputFiles?.(s.prepared, names) : undefined;
    return {
      type: s.type,
      name: s.name,
      fingerprint: fingerprint({ identity: { type: s.type, name: s.name }, config: s.evaluated.config, sensitive: s.evaluated.sensitiveValues, files }, salt, cwd),
      ...(outputs ? { outputs } : {}),
    };
  };
  const builder = bound.source.def;
  return {
    key: bound.name,
    name: bound.name,
    builderType: bound.builderType,
    sourceFingerprint: fingerprint({ identity: { type: bound.builderType }, config: bound.source.evaluated.config, sensitive: bound.source.evaluated.sensitiveValues }, salt, cwd),
    provisioners: bound.provisioners.map((s) => step(s)),
    postProcessorChains: bound.postProcessors.map((chain) => chain.map((s) => step(s))),
    canReconnect: typeof builder.reconnect === 'function',
    instanceOutlivesBuild: builder.instanceOutlivesBuild === true,
  };
}

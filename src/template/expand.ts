/**
 * The builds a template would run (Packer's `GetBuilds`): every source of every build block, named
 * the way Packer names it, with `-only` / `-except` applied to the full names and each
 * provisioner's and post-processor's own `only` / `except` applied to the source.
 *
 * Naming (Packer's CoreBuild.Name): "<build name>.<type>.<name>", or "<type>.<name>" when the build
 * block has no `name`; <name> is the name given by an inner `source { name = … }` if any.
 */
import { minimatch } from 'minimatch';
import type { BuildDef, BuildSourceRef, PlannedBuild, PostProcessorDef, StepMeta, Template } from './model.js';

/** `<type>.<local name>`: what provisioner `only`/`except` lists refer to. */
export function sourceUsageName(ref: BuildSourceRef): string {
  return `${ref.type}.${ref.localName}`;
}

/** Packer's full build name. */
export function fullBuildName(build: BuildDef, ref: BuildSourceRef): string {
  if (ref.legacyName !== undefined) return ref.legacyName;
  return build.name ? `${build.name}.${sourceUsageName(ref)}` : sourceUsageName(ref);
}

/** True when `name` matches one of the globs, as -only/-except and -replace match build names. */
export function matchesAny(name: string, globs: readonly string[]): boolean {
  return globs.some((g) => minimatch(name, g, { dot: true }));
}

/** Packer's OnlyExcept.Skip: a step runs for a source unless `only` omits it or `except` names it. */
export function skipsSource(meta: StepMeta, usage: string): boolean {
  if (meta.only.length > 0) return !meta.only.includes(usage);
  return meta.except.includes(usage);
}

/** Lists the builds to run. `only` and `except` are globs matched against full build names; a
 * post-processor whose `name` (or type, when unnamed) matches an `except` glob is left out too. */
export function expandBuilds(template: Template, only: readonly string[] = [], except: readonly string[] = []): PlannedBuild[] {
  const out: PlannedBuild[] = [];
  for (const build of template.builds) {
    for (const ref of build.sources) {
      const sourceDef = template.sources.get(`${ref.type}.${ref.sourceName}`);
      if (!sourceDef) continue; // reported while loading
      const name = fullBuildName(build, ref);
      if (only.length > 0 && !matchesAny(name, only)) continue;
      if (except.length > 0 && matchesAny(name, except)) continue;
      const usage = sourceUsageName(ref);
      const keepPostProcessor = (p: PostProcessorDef): boolean =>
        !skipsSource(p, usage) && !(except.length > 0 && matchesAny(p.name ?? p.type, except));
      out.push({
        name,
        build,
        source: ref,
        sourceDef,
        provisioners: build.provisioners.filter((p) => !skipsSource(p, usage)),
        errorCleanupProvisioner:
          build.errorCleanupProvisioner && !skipsSource(build.errorCleanupProvisioner, usage) ? build.errorCleanupProvisioner : undefined,
        postProcessors: build.postProcessors.map((chain) => chain.filter(keepPostProcessor)).filter((chain) => chain.length > 0),
      });
    }
  }
  return out;
}

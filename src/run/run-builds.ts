/**
 * Runs the builds of one `builder build`: in parallel (at most `parallel` at once; 0 = all), each
 * with its own coloured UI, then prints Packer's summary: "==> Wait completed after …", the errors
 * of failed builds, and the artifacts of successful ones (with their machine-readable records).
 * On SIGINT/SIGTERM every running build is cancelled (its steps' process groups are killed and
 * its cleanups run) and the run ends with "Cleanly cancelled builds after being interrupted.".
 */
import { setMaxListeners } from 'node:events';
import type { Artifact, StepContext } from '../sdk/component.js';
import { runBuild, type BuildHooks, type BuildResult, type BuildSpec, type ResumePoint } from './build-runner.js';
import type { OnErrorMode } from './runner.js';
import type { RunUi } from '../ui/ui.js';
import { formatDuration } from '../ui/duration.js';

/** Milliseconds on a monotonic clock (process.hrtime: the global `performance` loads perf_hooks, about
 * 1 ms of start-up). */
function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export interface RunBuildsOptions {
  ui: RunUi;
  builds: readonly BuildSpec[];
  /** Builds at once; 0 means all. */
  parallel: number;
  signal: AbortSignal;
  onError: OnErrorMode;
  debug?: boolean;
  /** See RunStepsOptions.heartbeatMs. */
  heartbeatMs?: number;
  /** The context shared by all steps (cwd, env with PACKER_RUN_UUID, run uuid, sensitive, force). */
  context: Omit<StepContext, 'ui' | 'signal' | 'buildName' | 'builderType'>;
  /** Checkpoint hooks per build (issue 5). */
  hooksFor?(build: BuildSpec): BuildHooks | undefined;
  /** Where a build resumes (issue 5). */
  resumeFor?(build: BuildSpec): ResumePoint | undefined;
  /** Keep a failed build's instance for a resume (the stateful run's policy); default: destroy it. */
  keepInstanceOnFailure?(build: BuildSpec): boolean;
  /** Called when a build has ended, before the next one starts on this worker (issue 5: the
   * build's final artifacts are recorded in the state). */
  onBuildEnd?(build: BuildSpec, result: BuildResult): Promise<void>;
  /** The labels a build's builder puts on its instance (StepContext.instanceLabels). */
  instanceLabelsFor?(build: BuildSpec): Readonly<Record<string, string>> | undefined;
  /** A build's snapshot labels per provisioner (BuildRunOptions.snapshotLabels); undefined: none. */
  snapshotLabelsFor?(build: BuildSpec): ((index: number) => Readonly<Record<string, string>> | undefined) | undefined;
  /** Builds that are up to date (issue 5): not run, reported with their recorded artifacts. Read
   * once the builds have ended (a shared run learns of them while it claims). */
  upToDate?: readonly { build: BuildSpec; artifacts: Artifact[] }[];
  /** Where each worker gets its next build (issue 11: claimed one at a time in a run shared by
   * many runners); undefined when none is left for this process. Every build it gives is one of
   * `builds`. Default: `builds`, in order. */
  nextBuild?(): Promise<BuildSpec | undefined>;
  /** Aborted when this process must give a build up (see BuildRunOptions.abandon). */
  abandonFor?(build: BuildSpec): AbortSignal | undefined;
}

export interface RunBuildsResult {
  exitCode: number;
  results: Map<string, BuildResult>;
  interrupted: boolean;
}

export async function runBuilds(opts: RunBuildsOptions): Promise<RunBuildsResult> {
  const { ui, builds } = opts;
  const uis = builds.map((b, i) => ui.build(b.name, i));
  if (ui.colored) {
    uis.forEach((u, i) => u.sayPlain(`${builds[i]!.name}: output will be in this color.`));
    if (builds.length > 0) ui.say('');
  }
  let interruptSaid = false;
  const onAbort = (): void => {
    if (interruptSaid) return;
    interruptSaid = true;
    ui.error('Cancelling build after receiving interrupt');
  };
  // Every running build listens on the run's signal (its step's process, its timeout), so more than
  // ten builds at once are expected, not a leak: no "MaxListenersExceededWarning" for them.
  setMaxListeners(0, opts.signal);
  opts.signal.addEventListener('abort', onAbort, { once: true });

  const started = monotonicMs();
  const results = new Map<string, BuildResult>();
  const limit = opts.parallel > 0 && !opts.debug ? opts.parallel : opts.debug ? 1 : builds.length;
  let next = 0;
  const indexOf = new Map(builds.map((b, i) => [b.name, i]));
  const take = opts.nextBuild ?? (async () => builds[next++]);
  const worker = async (): Promise<void> => {
    for (;;) {
      if (opts.nextBuild && opts.signal.aborted) break; // an interrupted shared run claims nothing more
      const build = await take();
      if (!build) break;
      const i = indexOf.get(build.name)!;
      const bui = uis[i]!;
      if (opts.signal.aborted) {
        results.set(build.name, { artifacts: [], cancelled: true, error: new Error('Build was cancelled.') });
        continue;
      }
      const t0 = monotonicMs();
      const r = await runBuild(build, {
        ui: bui,
        signal: opts.signal,
        onError: opts.onError,
        debug: opts.debug,
        heartbeatMs: opts.heartbeatMs,
        hooks: opts.hooksFor?.(build),
        resume: opts.resumeFor?.(build),
        keepInstanceOnFailure: opts.keepInstanceOnFailure?.(build),
        abandon: opts.abandonFor?.(build),
        snapshotLabels: opts.snapshotLabelsFor?.(build),
        context: {
          ...opts.context,
          env: { ...opts.context.env, PACKER_BUILD_NAME: build.packerBuildName, PACKER_BUILDER_TYPE: build.builderType },
          instanceLabels: opts.instanceLabelsFor?.(build),
        },
      });
      await opts.onBuildEnd?.(build, r);
      const took = formatDuration(monotonicMs() - t0);
      if (r.error) bui.errorPlain(`Build '${build.name}' errored after ${took}: ${r.error.message}`);
      else bui.sayPlain(`Build '${build.name}' finished after ${took}.`);
      results.set(build.name, r);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, builds.length)) }, worker));
  opts.signal.removeEventListener('abort', onAbort);

  ui.say(`\n==> Wait completed after ${formatDuration(monotonicMs() - started)}`);
  if (opts.signal.aborted) {
    ui.say('Cleanly cancelled builds after being interrupted.');
    return { exitCode: 1, results, interrupted: true };
  }
  for (const { build, artifacts } of opts.upToDate ?? []) results.set(build.name, { artifacts, cancelled: false });
  const all = [...(opts.upToDate ?? []).map((u) => u.build), ...builds];
  printSummary(ui, all, results);
  const failed = [...results.values()].some((r) => r.error);
  return { exitCode: failed ? 1 : 0, results, interrupted: false };
}

function printSummary(ui: RunUi, builds: readonly BuildSpec[], results: Map<string, BuildResult>): void {
  const errored = builds.filter((b) => results.get(b.name)?.error);
  if (errored.length > 0) {
    ui.machine('', 'error-count', String(errored.length));
    ui.error("\n==> Some builds didn't complete successfully and had errors:");
    for (const b of errored) {
      const err = results.get(b.name)!.error!;
      ui.machine(b.name, 'error', err.message);
      ui.error(`--> ${b.name}: ${err.message}`);
    }
  }
  const succeeded = builds.filter((b) => {
    const r = results.get(b.name);
    return r && !r.error && r.artifacts.length > 0;
  });
  if (succeeded.length === 0) {
    ui.say('\n==> Builds finished but no artifacts were created.');
    return;
  }
  ui.say('\n==> Builds finished. The artifacts of successful builds are:');
  for (const b of succeeded) {
    const artifacts = results.get(b.name)!.artifacts;
    ui.machine(b.name, 'artifact-count', String(artifacts.length));
    artifacts.forEach((a: Artifact, i) => {
      const n = String(i);
      ui.machine(b.name, 'artifact', n, 'builder-id', a.builderId);
      ui.machine(b.name, 'artifact', n, 'id', a.id);
      ui.machine(b.name, 'artifact', n, 'string', a.description);
      ui.machine(b.name, 'artifact', n, 'files-count', String(a.files.length));
      a.files.forEach((f, fi) => ui.machine(b.name, 'artifact', n, 'file', String(fi), f));
      ui.machine(b.name, 'artifact', n, 'end');
      ui.say(`--> ${b.name}: ${a.description}`);
    });
  }
}

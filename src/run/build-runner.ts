/**
 * Runs one build: the builder's lifecycle as steps (create → connect → provisioners → finish,
 * with Packer's cleanup provisioner), then the post-processor chains with Packer's keep/delete
 * rules. The steps go through `runSteps` (src/run/runner.ts), so `-on-error`, `-debug`,
 * cancellation and cleanups in reverse apply; every boundary is reported to `hooks`, the single
 * place where checkpoints are written.
 *
 * Step ids (stable, recorded in checkpoints): "create", "connect", "provision" (Packer's
 * StepProvision: its cleanup runs the error-cleanup-provisioner), "provisioner.N", "finish",
 * "post-processor.C.N" (chain C, position N).
 */
import { CancelledError, toError } from '../errors.js';
import type { Artifact, BuilderDef, BuildUi, BuildValues, Communicator, ConnectionInfo, InstanceRecord, PostProcessorDef, ProvisionerDef, StepContext } from '../sdk/component.js';
import { runSteps, withPauseBefore, withRetries, withTimeout, type OnErrorMode, type Step, type StepObserver } from './runner.js';
import type { TargetedUi } from '../ui/ui.js';
import { BUILD_CONTEXT_KEYS } from '../template/model.js';

export interface ProvisionerSpec {
  type: string;
  name?: string;
  def: ProvisionerDef<unknown>;
  /** Evaluates and prepares the configuration with the build's values; throws on errors. */
  configure(values: BuildValues): unknown;
  pauseBefore?: number;
  maxRetries?: number;
  timeout?: number;
}

export interface PostProcessorSpec {
  type: string;
  name?: string;
  def: PostProcessorDef<unknown>;
  configure(values: BuildValues): unknown;
  /** The `keep_input_artifact` meta-argument, when given. */
  keepInputArtifact?: boolean;
  /** What "Running post-processor:" names, when not "NAME (type TYPE)" (legacy JSON templates: the type of an unnamed one). */
  label?: string;
}

/** A build ready to run: its builder configuration prepared, its steps resolved to components. */
export interface BuildSpec {
  /** Packer's full name, the output prefix: "<build>.<type>.<name>" or "<type>.<name>". */
  name: string;
  /** PACKER_BUILD_NAME: the source's name in the build. */
  packerBuildName: string;
  /** PACKER_BUILDER_TYPE: the source type. */
  builderType: string;
  builder: BuilderDef<unknown>;
  builderConfig: unknown;
  provisioners: ProvisionerSpec[];
  errorCleanupProvisioner?: ProvisionerSpec;
  postProcessors: PostProcessorSpec[][];
}

export type BuildStatus = 'creating' | 'provisioning' | 'post_processing' | 'complete' | 'failed';

/** Told about everything a checkpoint records. Promises are awaited before the build goes on. */
export interface BuildHooks extends StepObserver {
  onBuildStatus?(status: BuildStatus, error?: Error): void | Promise<void>;
  onInstance?(instance: InstanceRecord): void | Promise<void>;
  /** The builder's `destroy` of the instance succeeded (as a cleanup). */
  onInstanceDestroyed?(): void | Promise<void>;
  onArtifact?(stepId: string, artifact: Artifact): void | Promise<void>;
  /** A snapshot of the instance was taken after provisioner `stepId` completed. */
  onSnapshot?(stepId: string, snapshotId: string): void | Promise<void>;
}

/** Where a resumed build starts (issue 5): the kept instance and the steps already done. */
export interface ResumePoint {
  /** Reconnect to this instance instead of creating one. */
  instance?: InstanceRecord;
  /** Ids of steps that completed earlier and are not run again. */
  skip: ReadonlySet<string>;
  /** The artifacts recorded for skipped "finish" / post-processor steps, by step id. */
  artifacts?: ReadonlyMap<string, Artifact>;
  /** Chains before this index completed earlier: they are not run again; the recorded artifact
   * of each one's last post-processor is reported, and the builder's artifact is kept. */
  skipChainsBefore?: number;
  /** Start a new instance from this snapshot (BuilderDef.snapshots) instead of creating one. */
  snapshot?: string;
}

export interface BuildRunOptions {
  ui: TargetedUi;
  signal: AbortSignal;
  onError: OnErrorMode;
  debug?: boolean;
  /** See RunStepsOptions.heartbeatMs. */
  heartbeatMs?: number;
  hooks?: BuildHooks;
  resume?: ResumePoint;
  /** Keep the instance when the build fails, for a later resume (issue 5); default: destroy it. */
  keepInstanceOnFailure?: boolean;
  /**
   * Aborted when this process must give the build up (issue 11: its lease was lost, so another
   * runner may already be resuming on its instance). The running step is stopped as on an
   * interrupt, but NO cleanup runs — no destroy, no cleanup provisioner, no artifact removal,
   * whatever `-on-error` says — and the hooks hear nothing more (nothing more is written). The
   * result's error is the signal's reason, with `abandoned` set.
   */
  abandon?: AbortSignal;
  /** The context every step gets, less its UI and signal. */
  context: Omit<StepContext, 'ui' | 'signal' | 'buildName' | 'builderType'>;
  /** When the builder offers snapshots: the labels of the snapshot to take after provisioner
   * `index` completed (undefined: take none). Absent: no snapshots. */
  snapshotLabels?(index: number): Readonly<Record<string, string>> | undefined;
}

export interface BuildResult {
  artifacts: Artifact[];
  error?: Error;
  cancelled: boolean;
  /** Given up through `abandon`: nothing of it was recorded or cleaned up after. */
  abandoned?: boolean;
  /** The builder's artifact was kept (Packer's keep rules): it is `artifacts[0]`. A
   * post-processor may pass its input on as its own artifact, so the same object can appear
   * again later in the list; only this says which one is the builder's. */
  builderArtifactKept?: boolean;
}

/** Hooks that say nothing more once `signal` is aborted (a build given up writes nothing more). */
function silencedAfter(hooks: BuildHooks, signal: AbortSignal): BuildHooks {
  const out: BuildHooks = {};
  // Every hook, whichever BuildHooks gains: a hook left out here would write after the lease is lost.
  for (const name of Object.keys(hooks) as (keyof BuildHooks)[]) {
    const f = hooks[name] as ((...a: unknown[]) => void | Promise<void>) | undefined;
    if (f) (out as Record<string, unknown>)[name] = (...a: unknown[]) => (signal.aborted ? undefined : f.apply(hooks, a));
  }
  return out;
}

/** The result of a build given up through `abandon`. */
function abandonedResult(abandon: AbortSignal): BuildResult {
  return { artifacts: [], error: toError(abandon.reason), cancelled: false, abandoned: true };
}

/** Packer's MultiError text. */
export function multiError(errors: readonly Error[]): Error {
  return new Error(`${errors.length} error(s) occurred:\n\n${errors.map((e) => `* ${e.message}`).join('\n')}`);
}

/** How a snapshot is said (a line that starts with one of STATE_EVENT_PHRASES). */
const SNAPSHOT_SAID = 'Snapshot after provisioner ';

/** Every usual `build.*` key as Packer renders it when its builder did not give it. */
const UNKNOWN_BUILD_VALUES: BuildValues = Object.fromEntries(BUILD_CONTEXT_KEYS.map((k) => [k, '<unknown>']));

/** Packer's placeholder for generated values a builder does not provide. */
const NOT_IMPLEMENTED = 'ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER';

/** The `build.*` values of a connected build. */
export function buildValues(runUuid: string, instance: InstanceRecord | undefined, info: ConnectionInfo | undefined): BuildValues {
  return {
    ID: instance?.id ?? '',
    Host: info?.host ?? '',
    Port: info?.port !== undefined ? String(info.port) : '',
    User: info?.user ?? '',
    Password: info?.password ?? '',
    ConnType: info?.type ?? '',
    PackerRunUUID: runUuid,
    PackerHTTPAddr: NOT_IMPLEMENTED,
    PackerHTTPIP: NOT_IMPLEMENTED,
    PackerHTTPPort: NOT_IMPLEMENTED,
    SSHPublicKey: info?.sshPublicKey ?? '',
    SSHPrivateKey: info?.sshPrivateKey ?? '',
    WinRMPassword: '',
  };
}

interface BuildState {
  instance?: InstanceRecord;
  comm?: Communicator;
  conn?: ConnectionInfo;
  /** `build.*` values the builder gave (BuilderDef.connect), instead of those builder derives. */
  generated?: BuildValues;
  artifact?: Artifact;
  provisionFailed: boolean;
}

export async function runBuild(spec: BuildSpec, given: BuildRunOptions): Promise<BuildResult> {
  const abandon = given.abandon;
  const opts: BuildRunOptions = abandon
    ? { ...given, signal: AbortSignal.any([given.signal, abandon]), hooks: given.hooks && silencedAfter(given.hooks, abandon) }
    : given;
  const { ui, hooks } = opts;
  const stepCtx = (signal: AbortSignal, stepUi: BuildUi = ui): StepContext => ({
    ...opts.context,
    ui: stepUi,
    signal,
    buildName: spec.name,
    builderType: spec.builderType,
  });
  const state: BuildState = { provisionFailed: false };
  // A builder that gives its own values (a plugin builder's hook data) gives all of them: a usual
  // key it lacks (a builder that sends none, as Packer's file builder) reads `<unknown>`, as
  // Packer 1.6.6 prints it.
  const values = (): BuildValues => state.generated ? { ...UNKNOWN_BUILD_VALUES, ...state.generated } : buildValues(opts.context.runUuid, state.instance, state.conn);
  const maskSecrets = (): void => {
    ui.addSensitive([state.conn?.password, state.conn?.sshPrivateKey].filter((s): s is string => !!s));
  };

  const runProvisioner = async (p: ProvisionerSpec, signal: AbortSignal, stepUi: BuildUi): Promise<void> => {
    const config = p.configure(values());
    await p.def.run(config, { ...stepCtx(signal, stepUi), comm: state.comm, conn: state.conn });
  };

  // `-debug` names, in Packer's style: StepCreateDocker, StepConnect, StepProvision, StepFinishDocker.
  const typeName = spec.builderType.replace(/(^|[-_])(\w)/g, (_m, _sep: string, c: string) => c.toUpperCase());
  const lastProvisioner = spec.provisioners.length - 1;
  /** After provisioner `i` completed: a snapshot when the run asks for one. A failed snapshot is
   * said and the build goes on (it only costs a later rebuild time). */
  const takeSnapshot = async (s: BuildState, i: number, signal: AbortSignal): Promise<void> => {
    const snapshots = spec.builder.snapshots;
    const labels = snapshots && s.instance && !signal.aborted ? opts.snapshotLabels?.(i) : undefined;
    if (!snapshots || !labels || !s.instance) return;
    try {
      const { id } = await snapshots.take(spec.builderConfig, s.instance, labels, stepCtx(signal));
      ui.say(`${SNAPSHOT_SAID}${i + 1}: ${id}`);
      await hooks?.onSnapshot?.(`provisioner.${i}`, id);
    } catch (err) {
      ui.error(`${SNAPSHOT_SAID}${i + 1} failed: ${toError(err).message}`);
    }
  };

  const steps: Step<BuildState>[] = [
    {
      id: 'create',
      debugName: `StepCreate${typeName}`,
      async run(s, signal) {
        const resumeAt = opts.resume?.instance;
        const fromSnapshot = opts.resume?.snapshot;
        if (fromSnapshot !== undefined && spec.builder.snapshots) {
          s.instance = await spec.builder.snapshots.startFrom(spec.builderConfig, fromSnapshot, stepCtx(signal));
          await hooks?.onInstance?.(s.instance);
          return;
        }
        if (resumeAt && spec.builder.reconnect && (await spec.builder.reconnect(spec.builderConfig, resumeAt, stepCtx(signal)))) {
          s.instance = resumeAt;
          return;
        }
        s.instance = await spec.builder.create(spec.builderConfig, stepCtx(signal));
        await hooks?.onInstance?.(s.instance);
      },
      async cleanup(s, info) {
        if (!s.instance || (info.failed && opts.keepInstanceOnFailure)) return;
        try {
          await spec.builder.destroy(spec.builderConfig, s.instance, stepCtx(new AbortController().signal));
          await hooks?.onInstanceDestroyed?.();
        } catch (err) {
          ui.error(`Error cleaning up: ${toError(err).message}`);
          throw err;
        }
      },
    },
    {
      id: 'connect',
      name: 'StepConnect',
      debugName: 'StepConnect',
      async run(s, signal) {
        const r = await spec.builder.connect(spec.builderConfig, s.instance!, stepCtx(signal));
        s.comm = r.comm;
        s.conn = r.info;
        s.generated = r.values;
        maskSecrets();
      },
      async cleanup(s) {
        await s.comm?.close();
        s.comm = undefined;
      },
    },
    {
      id: 'provision',
      name: 'StepProvision',
      ...(lastProvisioner < 0 ? { debugName: 'StepProvision' } : { debugCleanupName: 'StepProvision' }),
      cleanupWithCleanupProvisioner: true,
      async run() {},
      async cleanup(s) {
        if (!s.provisionFailed) return;
        if (!spec.builder.provisionsWithoutStep) ui.say('Provisioning step had errors: Running the cleanup provisioner, if present...');
        const p = spec.errorCleanupProvisioner;
        if (!p) return;
        try {
          await runProvisioner(p, new AbortController().signal, ui);
        } catch (err) {
          ui.error(`Error running the cleanup provisioner: ${toError(err).message}`);
        }
      },
    },
    ...spec.provisioners.map((p, i): Step<BuildState> => {
      const id = `provisioner.${i}`;
      let step: Step<BuildState> = {
        id,
        name: 'StepProvision',
        provisioner: p.type,
        ...(i === lastProvisioner ? { debugName: 'StepProvision' } : {}),
        async run(s, signal) {
          try {
            await runProvisioner(p, signal, ui);
          } catch (err) {
            s.provisionFailed = true;
            throw err;
          }
        },
      };
      if (p.timeout) step = withTimeout(step, p.timeout, ui);
      if (p.pauseBefore) step = withPauseBefore(step, p.pauseBefore, ui);
      if (p.maxRetries) step = withRetries(step, p.maxRetries, ui, hooks);
      // A retried provisioner that finally succeeds has not failed the provisioning.
      const decorated = step;
      return {
        ...decorated,
        async run(s, signal) {
          await decorated.run(s, signal);
          s.provisionFailed = false;
          await takeSnapshot(s, i, signal);
        },
      };
    }),
    {
      id: 'finish',
      debugName: `StepFinish${typeName}`,
      async run(s, signal) {
        const recorded = opts.resume?.artifacts?.get('finish');
        s.artifact = recorded ?? (await spec.builder.finish(spec.builderConfig, s.instance!, stepCtx(signal)));
        // A recorded one too (a resume on the builder's recorded artifact): it is recorded again
        // when the build ends with it kept.
        if (s.artifact) await hooks?.onArtifact?.('finish', s.artifact);
      },
    },
  ];

  // The build's status changes before the first step of each phase starts (even when earlier
  // steps are skipped on resume), so a checkpoint never shows a step of a later phase running
  // under an earlier status.
  let provisioning = false;
  const observer: StepObserver = {
    async onStepStart(id, attempt) {
      if (!provisioning && id.startsWith('provisioner.')) {
        provisioning = true;
        await hooks?.onBuildStatus?.('provisioning');
      }
      await hooks?.onStepStart?.(id, attempt);
    },
    onStepEnd: (id, outcome) => hooks?.onStepEnd?.(id, outcome),
  };
  await hooks?.onBuildStatus?.('creating');
  try {
    await runSteps(steps, state, {
      signal: opts.signal,
      // Read when a step has failed: a build given up runs no cleanup ("abort" skips them all).
      get onError(): OnErrorMode {
        return abandon?.aborted ? 'abort' : opts.onError;
      },
      ui,
      observer,
      skip: opts.resume?.skip,
      debug: opts.debug,
      heartbeatMs: opts.heartbeatMs,
    });
  } catch (err) {
    if (abandon?.aborted) return abandonedResult(abandon);
    const error = toError(err);
    await hooks?.onBuildStatus?.('failed', error);
    return { artifacts: [], error, cancelled: error instanceof CancelledError || opts.signal.aborted };
  }

  const builderArtifact = state.artifact;
  if (!builderArtifact) {
    await hooks?.onBuildStatus?.('complete');
    return { artifacts: [], cancelled: false };
  }
  if (spec.postProcessors.length > 0) await hooks?.onBuildStatus?.('post_processing');
  const { artifacts, errors, keptOriginal } = await runPostProcessors(spec, builderArtifact, opts, stepCtx, values);
  const kept = keptOriginal ? { builderArtifactKept: true } : {};
  if (abandon?.aborted) return abandonedResult(abandon);
  if (opts.signal.aborted) {
    const error = new CancelledError();
    await hooks?.onBuildStatus?.('failed', error);
    return { artifacts: [], error, cancelled: true };
  }
  if (errors.length > 0) {
    const error = multiError(errors);
    await hooks?.onBuildStatus?.('failed', error);
    return { artifacts, error, cancelled: false, ...kept };
  }
  await hooks?.onBuildStatus?.('complete');
  return { artifacts, cancelled: false, ...kept };
}

/** Where the post-processor steps of one build keep their work (the runner's context). */
interface PostProcessing {
  /** The artifact each chain passes on, by chain; undefined once the chain failed. */
  prior: (Artifact | undefined)[];
  artifacts: Artifact[];
  errors: Error[];
  keepOriginal: boolean;
}

/** Packer's post-processor loop, as steps of the runner ("post-processor.C.N"): each chain starts
 * from the builder's artifact; a failure ends its chain (the later chains still run);
 * intermediate artifacts are kept or destroyed by `keep`; the builder's artifact is kept if the
 * first post-processor of any chain keeps it (or there are no post-processors). Chains before
 * `resume.skipChainsBefore` completed earlier: their steps are reported skipped and their recorded
 * last artifact is reported again (a chain is re-run whole or not at all). */
async function runPostProcessors(
  spec: BuildSpec,
  builderArtifact: Artifact,
  opts: BuildRunOptions,
  stepCtx: (signal: AbortSignal, ui?: BuildUi) => StepContext,
  values: () => BuildValues,
): Promise<{ artifacts: Artifact[]; errors: Error[]; keptOriginal: boolean }> {
  const { hooks, ui } = opts;
  const skipBefore = opts.resume?.skipChainsBefore ?? 0;
  const pp: PostProcessing = { prior: spec.postProcessors.map(() => builderArtifact), artifacts: [], errors: [], keepOriginal: spec.postProcessors.length === 0 };
  const skip = new Set<string>();
  const steps: Step<PostProcessing>[] = [];
  spec.postProcessors.forEach((chain, c) => {
    if (c < skipBefore) {
      pp.keepOriginal = true;
      chain.forEach((_, i) => skip.add(`post-processor.${c}.${i}`));
      return;
    }
    chain.forEach((p, i) => {
      const id = `post-processor.${c}.${i}`;
      steps.push({
        id,
        debugName: `post-processor '${p.name ?? p.type}'`,
        when: (ctx) => ctx.prior[c] !== undefined,
        async run(ctx, signal) {
          ui.say(`Running post-processor: ${p.label ?? `${p.name ?? ''} (type ${p.type})`}`);
          const input = ctx.prior[c]!;
          const config = p.configure(values());
          const result = await p.def.run(config, input, stepCtx(signal, ui.withTarget(`${spec.name} (${p.type})`)));
          await hooks?.onArtifact?.(id, result.artifact);
          await passOn(ctx, c, i, input, result, p.keepInputArtifact);
        },
        onFailure(ctx, error) {
          ctx.prior[c] = undefined;
          ctx.errors.push(new Error(`Post-processor failed: ${error.message}`));
        },
      });
    });
  });
  const passOn = async (ctx: PostProcessing, c: number, i: number, input: Artifact, result: { artifact: Artifact; keep: boolean; forceOverride: boolean }, userKeep: boolean | undefined): Promise<void> => {
    let keep = result.keep;
    if (userKeep !== undefined && !(result.keep && !userKeep && result.forceOverride)) keep = userKeep;
    if (i === 0) {
      if (keep) ctx.keepOriginal = true;
    } else if (keep) {
      ctx.artifacts.push(input);
    } else {
      try {
        await input.destroy();
      } catch (err) {
        ctx.errors.push(new Error(`Failed cleaning up prior artifact: ${toError(err).message}; pp is ${spec.postProcessors[c]![i]!.type}`));
      }
    }
    ctx.prior[c] = result.artifact;
    if (i === spec.postProcessors[c]!.length - 1) ctx.artifacts.push(result.artifact);
  };
  // The steps of chains that completed earlier: the runner reports them `skipped`, in order.
  const skipped: Step<PostProcessing>[] = [...skip].map((id) => ({ id, run: async () => undefined }));
  try {
    await runSteps([...skipped, ...steps], pp, { signal: opts.signal, onError: 'cleanup', ui, observer: hooks, skip: new Set(skipped.map((s) => s.id)), heartbeatMs: opts.heartbeatMs });
  } catch (err) {
    if (!(err instanceof CancelledError)) throw err;
  }
  if (opts.abandon?.aborted) return { artifacts: [], errors: [], keptOriginal: false }; // given up: nothing is removed
  for (let c = 0; c < skipBefore && c < spec.postProcessors.length; c++) {
    const id = `post-processor.${c}.${spec.postProcessors[c]!.length - 1}`;
    const last = opts.resume?.artifacts?.get(id);
    if (!last) continue;
    pp.artifacts.splice(c, 0, last);
    await hooks?.onArtifact?.(id, last); // recorded again under its step, not as a new one
  }
  const { artifacts, errors } = pp;
  if (pp.keepOriginal) artifacts.unshift(builderArtifact);
  else {
    try {
      await builderArtifact.destroy();
    } catch (err) {
      errors.push(new Error(`Error destroying builder artifact: ${toError(err).message}`));
    }
  }
  return { artifacts, errors, keptOriginal: pp.keepOriginal };
}

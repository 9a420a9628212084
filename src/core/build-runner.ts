/**
 * Runs one build: the builder's lifecycle as steps (create → connect → provisioners → finish,
 * with Packer's cleanup provisioner), then the post-processor chains with Packer's keep/delete
 * rules. The steps go through `runSteps` (src/core/runner.ts), so `-on-error`, `-debug`,
 * cancellation and cleanups in reverse apply; every boundary is reported to `hooks`, the single
 * place where checkpoints are written.
 *
 * Step ids (stable, recorded in checkpoints): "create", "connect", "provision" (Packer's
 * StepProvision: its cleanup runs the error-cleanup-provisioner), "provisioner.N", "finish",
 * "post-processor.C.N" (chain C, position N).
 */
import type { Artifact, BuilderDef, BuildUi, Communicator, ConnectionInfo, InstanceRecord, PostProcessorDef, ProvisionerDef, StepContext } from './component.js';
import { CancelledError, runSteps, toError, withPauseBefore, withRetries, withTimeout, type OnErrorMode, type Step, type StepObserver } from './runner.js';
import type { TargetedUi } from '../ui/ui.js';

/** The values a step's configuration may refer to once the build has connected (`build.*`). */
export type BuildValues = Record<string, string>;

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
  onArtifact?(stepId: string, artifact: Artifact): void | Promise<void>;
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
}

export interface BuildRunOptions {
  ui: TargetedUi;
  signal: AbortSignal;
  onError: OnErrorMode;
  debug?: boolean;
  hooks?: BuildHooks;
  resume?: ResumePoint;
  /** Keep the instance when the build fails, for a later resume (issue 5); default: destroy it. */
  keepInstanceOnFailure?: boolean;
  /** The context every step gets, less its UI and signal. */
  context: Omit<StepContext, 'ui' | 'signal' | 'buildName' | 'builderType'>;
}

export interface BuildResult {
  artifacts: Artifact[];
  error?: Error;
  cancelled: boolean;
}

/** Packer's MultiError text. */
export function multiError(errors: readonly Error[]): Error {
  return new Error(`${errors.length} error(s) occurred:\n\n${errors.map((e) => `* ${e.message}`).join('\n')}`);
}

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
  artifact?: Artifact;
  provisionFailed: boolean;
}

export async function runBuild(spec: BuildSpec, opts: BuildRunOptions): Promise<BuildResult> {
  const { ui, hooks } = opts;
  const stepCtx = (signal: AbortSignal, stepUi: BuildUi = ui): StepContext => ({
    ...opts.context,
    ui: stepUi,
    signal,
    buildName: spec.name,
    builderType: spec.builderType,
  });
  const state: BuildState = { provisionFailed: false };
  const values = (): BuildValues => buildValues(opts.context.runUuid, state.instance, state.conn);
  const maskSecrets = (): void => {
    ui.addSensitive([state.conn?.password, state.conn?.sshPrivateKey].filter((s): s is string => !!s));
  };

  const runProvisioner = async (p: ProvisionerSpec, signal: AbortSignal, stepUi: BuildUi): Promise<void> => {
    const config = p.configure(values());
    await p.def.run(config, { ...stepCtx(signal, stepUi), comm: state.comm, conn: state.conn });
  };

  const steps: Step<BuildState>[] = [
    {
      id: 'create',
      async run(s, signal) {
        const resumeAt = opts.resume?.instance;
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
        } catch (err) {
          ui.error(`Error cleaning up: ${toError(err).message}`);
          throw err;
        }
      },
    },
    {
      id: 'connect',
      name: 'StepConnect',
      async run(s, signal) {
        const r = await spec.builder.connect(spec.builderConfig, s.instance!, stepCtx(signal));
        s.comm = r.comm;
        s.conn = r.info;
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
        },
      };
    }),
    {
      id: 'finish',
      async run(s, signal) {
        const recorded = opts.resume?.artifacts?.get('finish');
        s.artifact = recorded ?? (await spec.builder.finish(spec.builderConfig, s.instance!, stepCtx(signal)));
        if (s.artifact && !recorded) await hooks?.onArtifact?.('finish', s.artifact);
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
      onError: opts.onError,
      ui,
      observer,
      skip: opts.resume?.skip,
      debug: opts.debug,
    });
  } catch (err) {
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
  const { artifacts, errors } = await runPostProcessors(spec, builderArtifact, opts, stepCtx, values);
  if (opts.signal.aborted) {
    const error = new CancelledError();
    await hooks?.onBuildStatus?.('failed', error);
    return { artifacts: [], error, cancelled: true };
  }
  if (errors.length > 0) {
    const error = multiError(errors);
    await hooks?.onBuildStatus?.('failed', error);
    return { artifacts, error, cancelled: false };
  }
  await hooks?.onBuildStatus?.('complete');
  return { artifacts, cancelled: false };
}

/** Packer's post-processor loop: each chain starts from the builder's artifact; a failure ends its
 * chain; intermediate artifacts are kept or destroyed by `keep`; the builder's artifact is kept
 * if the first post-processor of any chain keeps it (or there are no post-processors). */
async function runPostProcessors(
  spec: BuildSpec,
  builderArtifact: Artifact,
  opts: BuildRunOptions,
  stepCtx: (signal: AbortSignal, ui?: BuildUi) => StepContext,
  values: () => BuildValues,
): Promise<{ artifacts: Artifact[]; errors: Error[] }> {
  const { hooks, ui } = opts;
  const artifacts: Artifact[] = [];
  const errors: Error[] = [];
  let keepOriginal = spec.postProcessors.length === 0;
  chains: for (const [c, chain] of spec.postProcessors.entries()) {
    if (c < (opts.resume?.skipChainsBefore ?? 0)) {
      keepOriginal = true;
      const last = opts.resume?.artifacts?.get(`post-processor.${c}.${chain.length - 1}`);
      for (const i of chain.keys()) await hooks?.onStepEnd?.(`post-processor.${c}.${i}`, { status: 'skipped', attempts: 0 });
      if (last) artifacts.push(last);
      continue;
    }
    let prior = builderArtifact;
    for (const [i, pp] of chain.entries()) {
      if (opts.signal.aborted) break chains;
      const id = `post-processor.${c}.${i}`;
      ui.say(`Running post-processor: ${pp.label ?? `${pp.name ?? ''} (type ${pp.type})`}`);
      const recorded = opts.resume?.skip.has(id) ? opts.resume.artifacts?.get(id) : undefined;
      let result: { artifact: Artifact; keep: boolean; forceOverride: boolean };
      if (recorded) {
        result = { artifact: recorded, keep: true, forceOverride: true };
        await hooks?.onStepEnd?.(id, { status: 'skipped', attempts: 0 });
      } else {
        await hooks?.onStepStart?.(id, 1);
        try {
          const config = pp.configure(values());
          result = await pp.def.run(config, prior, stepCtx(opts.signal, ui.withTarget(`${spec.name} (${pp.type})`)));
        } catch (err) {
          const error = toError(err);
          await hooks?.onStepEnd?.(id, { status: 'failed', attempts: 1, error });
          errors.push(new Error(`Post-processor failed: ${error.message}`));
          continue chains;
        }
        await hooks?.onStepEnd?.(id, { status: 'complete', attempts: 1 });
        await hooks?.onArtifact?.(id, result.artifact);
      }
      let keep = result.keep;
      if (pp.keepInputArtifact !== undefined && !(result.keep && !pp.keepInputArtifact && result.forceOverride)) {
        keep = pp.keepInputArtifact;
      }
      if (i === 0) {
        if (keep) keepOriginal = true;
      } else if (keep) {
        artifacts.push(prior);
      } else {
        try {
          await prior.destroy();
        } catch (err) {
          errors.push(new Error(`Failed cleaning up prior artifact: ${toError(err).message}; pp is ${pp.type}`));
        }
      }
      prior = result.artifact;
    }
    artifacts.push(prior);
  }
  if (keepOriginal) artifacts.unshift(builderArtifact);
  else {
    try {
      await builderArtifact.destroy();
    } catch (err) {
      errors.push(new Error(`Error destroying builder artifact: ${toError(err).message}`));
    }
  }
  return { artifacts, errors };
}

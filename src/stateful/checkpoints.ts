/**
 * Durable checkpoints: the build runner's hooks (src/run/build-runner.ts) written to the state.
 *
 * Contracts:
 * - Every hook is one `StateManager.update` of this build only (`updateStep`, of one step record,
 *   for a step's start and end, so a checkpoint's cost does not grow with the number of steps):
 *   applied to the latest version of the state under the short write lock and persisted before
 *   the hook resolves, so builds of one run (or of other processes) never lose each other's
 *   updates, and every record survives a crash of this process (SIGKILL) from then on.
 * - Flushed to the disk (fdatasync) before the hook resolves are the records whose loss to a power
 *   failure would matter: the instance (something now exists outside that a later run must find or
 *   destroy), a step's end (a step recorded complete must not run again: the next step starts only
 *   once it is on disk) and the build's artifacts, written after its final status. The
 *   others — the record laid out for the run, the build's status changes, a step's start — are
 *   persisted without a flush of their own: the next flushed record flushes them with it, and the
 *   end of the run (StateManager.close, a durable write of the whole state) flushes whatever is
 *   left. Lost to a power failure, each reads as the record before it, which the planner treats
 *   alike (a `running` step and a `pending` one both re-run; a build with no instance recorded
 *   starts fresh).
 * - `onStepStart` does not wait for its record: it is written while the step starts (in the time
 *   the step's process takes to start, when this process would otherwise wait), and `onStepEnd`
 *   waits for it — and fails with its error, if writing it failed — before recording the end. A
 *   process killed in between leaves the step `pending`, which is re-run like `running`.
 * - `beginBuild` lays out the record for the planned run: a fresh build starts from a new record;
 *   a resumed build keeps the records of the steps it skips and resets the others to `pending`
 *   with their new fingerprints.
 * - The instance is recorded as soon as the builder created it, and cleared only when the runner
 *   reports it destroyed (`onInstanceDestroyed`); `keep_on_failure` says whether a failed run left
 *   it for a later resume.
 * - A step cancelled by SIGINT/SIGTERM is recorded as failed with the error "interrupted". A step
 *   whose process was SIGKILLed stays `running`; the planner treats it as interrupted.
 * - A snapshot taken after a provisioner (`onSnapshot`) is recorded on its step with the chain
 *   through it (src/plan/chain.ts), flushed: an image now exists that a later run may start from.
 *   A restart from a snapshot keeps the records of the steps before the first it runs, with their
 *   snapshots.
 * - Error texts are saved with the values of sensitive variables replaced by `<sensitive>`.
 * - Only the final artifacts of a build are recorded (intermediate post-processor artifacts may be
 *   deleted by Packer's keep rules), each with the id of the step that made it and a content hash.
 */
import type { Artifact, InstanceRecord } from '../sdk/component.js';
import type { BuildHooks, BuildStatus } from '../run/build-runner.js';
import { CancelledError } from '../errors.js';
import type { StepOutcome } from '../run/runner.js';
import { artifactFilesHash, sharedOutputFiles } from '../plan/fingerprint.js';
import { chainHash } from '../plan/chain.js';
import type { BuildInputs, BuildPlan, PlannedStep } from '../plan/plan.js';
import type { StateManager } from '../state/manager.js';
import { newBuild, newStep, type ArtifactState, type BuildState, type JsonValue, type StepState } from '../state/types.js';

export interface CheckpointTarget {
  state: StateManager;
  /** The build's key in the state. */
  key: string;
  /** The build block's name and the source type (the state's `name` and `type`). */
  buildName: string;
  builderType: string;
  /** Packer's builder id, e.g. "fnoeding.null". */
  builderId: string;
  inputs: BuildInputs;
  /** A failed run keeps its instance for a later resume. */
  keepInstanceOnFailure: boolean;
  /** The instance stays usable after the build completed (see BuilderDef.instanceOutlivesBuild). */
  instanceOutlivesBuild: boolean;
  cwd: string;
  /** Values of sensitive variables: replaced by `<sensitive>` in error texts before they are saved. */
  sensitive?: readonly string[];
  now?: () => string;
}

const nowIso = (): string => new Date().toISOString();

/** Writes the record the planned run starts from. */
export async function beginBuild(t: CheckpointTarget, plan: BuildPlan): Promise<void> {
  const now = (t.now ?? nowIso)();
  const { inputs } = t;
  await t.state.update(t.key, (draft) => {
    const resume = plan.action === 'resume' && draft !== undefined;
    // A restart from a snapshot keeps the records (and snapshots) of the steps the snapshot holds.
    const fromSnapshot = plan.action === 'restart-from-snapshot' && draft !== undefined;
    const b: BuildState = resume || fromSnapshot ? draft : newBuild(t.buildName, t.builderType);
    b.name = t.buildName;
    b.type = t.builderType;
    b.status = 'pending';
    b.fingerprint = inputs.sourceFingerprint;
    b.inputs = { ...(inputs.sourceInputs ?? {}) };
    b.post_processor_chains = inputs.postProcessorChains.map((c) => c.length);
    b.error = '';
    b.started_at = now;
    b.completed_at = '';
    // A step that will run again on a resumed build keeps its attempt count and last error while
    // its configuration is unchanged, so the record tells how often it was tried across runs.
    const keepStep = (old: StepState | undefined, keep: boolean, p: PlannedStep): StepState => {
      if (keep && old) return old;
      const again = resume && old !== undefined && old.type === p.type && old.fingerprint === p.fingerprint;
      return { ...newStep(p.type, p.name), fingerprint: p.fingerprint, inputs: { ...(p.inputs ?? {}) }, ...(again ? { attempts: old.attempts, error: old.error } : {}) };
    };
    b.provisioners = inputs.provisioners.map((p, i) => keepStep(b.provisioners[i], (resume || fromSnapshot) && i < plan.firstProvisioner, p));
    const post: StepState[] = [];
    inputs.postProcessorChains.forEach((chain, c) => {
      for (const p of chain) post.push(keepStep(b.post_processors[post.length], resume && c < plan.firstChain, p));
    });
    if (fromSnapshot) post.length = 0;
    b.post_processors = post;
    b.artifacts = resume ? b.artifacts.filter((a) => isSkippedChainArtifact(a, plan)) : [];
    if (!resume) b.instance = null;
    return b;
  }, NOT_FLUSHED);
}

/** Options of the records that are persisted but not flushed (see the module comment). */
const NOT_FLUSHED = { durable: false } as const;

/** True for a recorded artifact made by a post-processor chain that the resumed run skips. */
function isSkippedChainArtifact(a: ArtifactState, plan: BuildPlan): boolean {
  const m = /^post-processor\.(\d+)\./.exec(String(a.metadata.step ?? ''));
  return m !== null && Number(m[1]) < plan.firstChain;
}

/** Index into `provisioners` or `post_processors` of a runner step id, if it is one. */
export function stepSlot(id: string, inputs: BuildInputs): { list: 'provisioners' | 'post_processors'; index: number } | undefined {
  let m = /^provisioner\.(\d+)$/.exec(id);
  if (m) return { list: 'provisioners', index: Number(m[1]) };
  m = /^post-processor\.(\d+)\.(\d+)$/.exec(id);
  if (m) {
    const chain = Number(m[1]);
    const offset = inputs.postProcessorChains.slice(0, chain).reduce((n, c) => n + c.length, 0);
    return { list: 'post_processors', index: offset + Number(m[2]) };
  }
  return undefined;
}

function errorText(error: Error | undefined, sensitive: readonly string[] = []): string {
  if (!error) return '';
  if (error instanceof CancelledError || error.name === 'CancelledError') return 'interrupted';
  let text = error.message;
  for (const s of [...sensitive].filter((v) => v !== '').sort((a, b) => b.length - a.length)) text = text.split(s).join('<sensitive>');
  return text;
}

/** The hooks that checkpoint one build into the state. */
export type CheckpointHooks = BuildHooks & { recordArtifacts(artifacts: readonly Artifact[], builderArtifactKept?: boolean): Promise<void> };

export function checkpointHooks(t: CheckpointTarget): CheckpointHooks {
  const now = t.now ?? nowIso;
  const madeBy = new Map<Artifact, string>();
  /** The record of the latest step start, being written (see the module comment). */
  let startRecorded: Promise<unknown> = Promise.resolve();
  const updateStep = (id: string, fn: (s: StepState) => void, durable = true): Promise<unknown> => {
    const slot = stepSlot(id, t.inputs);
    if (!slot) return Promise.resolve();
    return t.state.updateStep(t.key, slot.list, slot.index, fn, { durable });
  };
  return {
    async onBuildStatus(status: BuildStatus, error?: Error) {
      await t.state.update(t.key, (b) => {
        if (!b) return;
        b.status = status;
        if (status === 'failed') {
          b.error = errorText(error, t.sensitive);
          // An instance the runner did not destroy stays recorded (kept for a resume, or left by
          // -on-error=abort): a later fresh run or `state rm` destroys it.
          if (b.instance) b.instance.keep_on_failure = t.keepInstanceOnFailure;
          // The host a builder connects to (null) is not destroyed by a cleanup: without a keep,
          // forgetting it is what makes the next run start over, as Packer would.
          if (b.instance && !t.keepInstanceOnFailure && t.instanceOutlivesBuild) b.instance = null;
        }
        if (status === 'complete') {
          b.error = '';
          b.completed_at = now();
          if (b.instance) b.instance.keep_on_failure = false;
        }
      }, NOT_FLUSHED);
    },
    async onInstance(instance: InstanceRecord) {
      await t.state.update(t.key, (b) => {
        if (!b) return;
        b.instance = {
          id: instance.id,
          builder_id: t.builderId,
          provider: t.builderType,
          created_at: now(),
          metadata: toJsonRecord(instance.metadata),
          keep_on_failure: t.keepInstanceOnFailure,
        };
      });
    },
    async onInstanceDestroyed() {
      // The host a builder connects to (null) is not destroyed by its `destroy`: its record stays,
      // so a later run can resume on it.
      if (t.instanceOutlivesBuild) return;
      await t.state.update(t.key, (b) => {
        if (b) b.instance = null;
      });
    },
    onStepStart(id: string, attempt: number) {
      startRecorded = updateStep(
        id,
        (s) => {
          s.status = 'running';
          s.attempts += 1;
          if (attempt <= 1 || s.started_at === '') s.started_at = now();
          s.ended_at = '';
          s.error = '';
        },
        NOT_FLUSHED.durable,
      );
      startRecorded.catch(() => undefined); // reported by onStepEnd
    },
    async onStepEnd(id: string, outcome: StepOutcome) {
      await startRecorded;
      await updateStep(id, (s) => {
        // A step skipped because an earlier run completed it stays recorded as complete.
        if (outcome.status === 'skipped' && s.status === 'complete') return;
        s.status = outcome.status;
        s.ended_at = now();
        s.error = outcome.status === 'failed' ? errorText(outcome.error, t.sensitive) : '';
      });
    },
    async onSnapshot(stepId: string, snapshotId: string) {
      const slot = stepSlot(stepId, t.inputs);
      if (slot?.list !== 'provisioners') return;
      const chain = chainHash(t.inputs.sourceFingerprint, t.inputs.provisioners.slice(0, slot.index + 1));
      await updateStep(stepId, (s) => {
        s.snapshot = { id: snapshotId, chain };
      });
    },
    onArtifact(stepId: string, artifact: Artifact) {
      madeBy.set(artifact, stepId);
    },
    /** Records the build's final artifacts (call once the build ended); `builderArtifactKept`:
     * the first is the builder's (BuildResult.builderArtifactKept), recorded with step "finish"
     * even when a post-processor passed the same object on as its own. */
    async recordArtifacts(artifacts: readonly Artifact[], builderArtifactKept = false) {
      const outputs = sharedOutputFiles(t.inputs, t.cwd);
      const records = artifacts.map((a, i): ArtifactState => {
        const step = builderArtifactKept && i === 0 ? 'finish' : madeBy.get(a) ?? '';
        return {
          id: a.id,
          builder_id: a.builderId,
          type: step === 'finish' ? t.builderType : String(a.state.type ?? step),
          files: [...a.files],
          metadata: { step, description: a.description },
          hash: artifactFilesHash(a.files, t.cwd, outputs),
        };
      });
      await t.state.update(t.key, (b) => {
        if (!b) return;
        const kept = b.artifacts.filter((old) => !records.some((r) => r.metadata.step === old.metadata.step && r.metadata.step !== ''));
        b.artifacts = [...kept, ...records];
      });
    },
  };
}

/** Drops whatever in instance metadata is not JSON (it never holds secrets: builders' contract). */
function toJsonRecord(data: Record<string, unknown>): Record<string, JsonValue> {
  return JSON.parse(JSON.stringify(data ?? {})) as Record<string, JsonValue>;
}

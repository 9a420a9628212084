/**
 * The step runner: Packer's multistep, typed.
 *
 * A build is a list of steps. Each step has a stable `id` (what a checkpoint records), an optional
 * Packer step name (what `-on-error=ask` and `-on-error=abort` print), optional `-debug` names, `run(ctx, signal)`
 * and an optional `cleanup(ctx, outcome)`. Contracts:
 * - Steps run in order; the first error stops the run. Errors are thrown, never stored.
 * - Every step whose `run` was called (including the one that failed) gets its `cleanup` called,
 *   in reverse order, once the run ends — unless `-on-error` says to leave things as they are.
 *   Cleanups run even when the run was cancelled; they get no signal and must finish.
 * - Cancellation is the `AbortSignal`: a step that sees it aborted rejects; the runner then
 *   cleans up and rethrows a `CancelledError`.
 * - `observer` is told about every step boundary (start, end with outcome and attempts). It is the
 *   one place where durable checkpoints are written (issue 5); its promises are awaited, so a
 *   checkpoint is on disk before the next step starts.
 * - `resume.skip` lists ids of steps that already completed in an earlier run: they are not run
 *   again (the observer hears `skipped`), and their cleanups do not run.
 *
 * The meta-arguments `pause_before`, `max_retries` and `timeout` are decorators that wrap a step
 * (`withPauseBefore`, `withRetries`, `withTimeout`); `-on-error` is a mode of the runner.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { CancelledError, toError, UserError } from '../errors.js';
import { asDuration } from '../sdk/go-duration.js';
import type { BuildUi } from '../sdk/component.js';
import { goDuration } from '../ui/go-duration.js';
import { log } from '../log.js';

/** What `-on-error` asks for when a step fails. */
export type OnErrorMode = 'cleanup' | 'abort' | 'ask' | 'run-cleanup-provisioner';
export const ON_ERROR_MODES: readonly OnErrorMode[] = ['cleanup', 'abort', 'ask', 'run-cleanup-provisioner'];

export interface StepOutcome {
  status: 'complete' | 'failed' | 'skipped';
  /** How many times `run` was called (retries and `ask` retries count). */
  attempts: number;
  error?: Error;
}

/** What a cleanup is told about the run it cleans up after. */
export interface CleanupInfo {
  /** The run failed (a step threw) or was cancelled. */
  failed: boolean;
  cancelled: boolean;
}

export interface Step<C> {
  /** Stable identifier, e.g. "create", "connect", "provisioner.2", "finish". */
  readonly id: string;
  /** Packer's step name ("StepConnect", "StepProvision"); steps without one are not named in
   * `-on-error=abort` messages. */
  readonly name?: string;
  /** The name `-debug` pauses give this step, as Packer's ("Pausing after run of step
   * 'StepConnect'", "Pausing before cleanup of step …"); a step without one is not paused after. */
  readonly debugName?: string;
  /** The name of the pause before this step's cleanup, when it is not `debugName` (the part of a
   * Packer step that owns the cleanup, run before the parts that pause after the run). */
  readonly debugCleanupName?: string;
  /** A provisioner's step: `-debug` pauses before it, naming the provisioner (Packer's "Pausing
   * before the next provisioner"), and its heartbeat names it. */
  readonly provisioner?: string;
  /** The step's cleanup still runs under `-on-error=run-cleanup-provisioner` (Packer's StepProvision). */
  readonly cleanupWithCleanupProvisioner?: boolean;
  run(ctx: C, signal: AbortSignal): Promise<void>;
  cleanup?(ctx: C, info: CleanupInfo): Promise<void>;
  /** When present and false, the step is passed over: not run, and the observer hears nothing
   * (its record stays as it was: a post-processor after a failed one of its chain never ran). */
  when?(ctx: C): boolean;
  /** When present, a failure of this step does not stop the run: the observer hears `failed`,
   * this is called with the error, and the next step runs (a post-processor chain's failure
   * ends only its chain, as in Packer). */
  onFailure?(ctx: C, error: Error): void;
}

/** Told about every step boundary; the place where checkpoints are written. */
export interface StepObserver {
  onStepStart?(id: string, attempt: number): void | Promise<void>;
  onStepEnd?(id: string, outcome: StepOutcome): void | Promise<void>;
}

export interface RunStepsOptions {
  signal: AbortSignal;
  onError: OnErrorMode;
  /** Where the runner's own messages go (abort, ask, debug). */
  ui: BuildUi;
  observer?: StepObserver;
  /** Steps that completed in an earlier run and are not run again. */
  skip?: ReadonlySet<string>;
  /** `-debug`: waits for Enter after each named step, before its cleanup and before each
   * provisioner (see Step.debugName). */
  debug?: boolean;
  /** When set, a step still running after this long says so, and again at every multiple
   * ("Still running step 'StepConnect'... 1m0s elapsed"); build sets it on a terminal or with
   * -timestamp-ui (HEARTBEAT_MS). */
  heartbeatMs?: number;
}

/** How often a long step says it is still running. */
export const HEARTBEAT_MS = 60_000;

/** The environment variable that sets the heartbeat interval (a Go duration such as "2s"): a knob
 * for tests and operators, documented in docs/design.md "Progress". */
export const HEARTBEAT_ENV = 'BUILDER_HEARTBEAT_INTERVAL';

/** The heartbeat interval for a run: `BUILDER_HEARTBEAT_INTERVAL` when set (a Go duration greater
 * than zero), else HEARTBEAT_MS. A value that is not such a duration is a UserError naming it. */
export function heartbeatInterval(env: NodeJS.ProcessEnv): number {
  const raw = env[HEARTBEAT_ENV];
  if (raw === undefined || raw === '') return HEARTBEAT_MS;
  const ms = asDuration(raw);
  if (ms === undefined || ms <= 0) throw new UserError('ENV_INVALID', `${HEARTBEAT_ENV}=${JSON.stringify(raw)} is not a duration greater than zero (for example "30s" or "1m"); unset it for the default of 1m0s.`);
  return ms;
}

/** What a heartbeat and `-debug` call a step. */
function stepLabel(step: Step<unknown>): string {
  if (step.provisioner !== undefined) return `provisioner '${step.provisioner}'`;
  return `step '${step.debugName ?? step.name ?? step.id}'`;
}

/** Starts the heartbeat of one step; returns its stop. The elapsed time counts the beats, so the
 * lines are the same on a fast or a slow machine. */
function heartbeat(ui: BuildUi, label: string, everyMs: number): () => void {
  let beats = 0;
  const timer = setInterval(() => {
    beats++;
    ui.say(`Still running ${label}... ${goDuration(beats * everyMs)} elapsed`);
  }, everyMs);
  return () => clearInterval(timer);
}

/** Runs steps in order, then the cleanups of those that ran, in reverse. Throws the step's error. */
export async function runSteps<C>(steps: readonly Step<C>[], ctx: C, opts: RunStepsOptions): Promise<void> {
  const ran: Step<C>[] = [];
  let failure: { step: Step<C>; error: Error } | undefined;
  let abortCleanup = false;
  for (const step of steps) {
    if (opts.signal.aborted) {
      failure = { step, error: new CancelledError() };
      break;
    }
    if (opts.skip?.has(step.id)) {
      await opts.observer?.onStepEnd?.(step.id, { status: 'skipped', attempts: 0 });
      continue;
    }
    if (step.when && !step.when(ctx)) continue;
    if (opts.debug && step.provisioner !== undefined) {
      await opts.ui.ask?.(`Pausing before the next provisioner '${step.provisioner}'. Press enter to continue.`);
    }
    ran.push(step);
    let attempts = 0;
    for (;;) {
      attempts++;
      await opts.observer?.onStepStart?.(step.id, attempts);
      if (log.on) log.debug('runner', `running ${stepLabel(step as Step<unknown>)} (${step.id}, attempt ${attempts})`);
      const stopBeat = opts.heartbeatMs ? heartbeat(opts.ui, stepLabel(step as Step<unknown>), opts.heartbeatMs) : undefined;
      try {
        try {
          await step.run(ctx, opts.signal);
        } finally {
          stopBeat?.();
        }
        if (log.on) log.debug('runner', `${step.id} complete; checkpoint`);
        await opts.observer?.onStepEnd?.(step.id, { status: 'complete', attempts });
        if (opts.debug && step.debugName !== undefined) {
          await opts.ui.ask?.(`Pausing after run of step '${step.debugName}'. Press enter to continue.`);
        }
        break;
      } catch (err) {
        const error = opts.signal.aborted ? new CancelledError() : toError(err);
        if (log.on) log.debug('runner', `${step.id} failed: ${error.message}`);
        if (opts.onError === 'ask' && !opts.signal.aborted) {
          const answer = await askWhatToDo(opts.ui, step, error);
          if (answer === 'retry') continue;
          if (answer === 'abort') abortCleanup = true;
        }
        await opts.observer?.onStepEnd?.(step.id, { status: 'failed', attempts, error });
        if (step.onFailure && !opts.signal.aborted) {
          step.onFailure(ctx, error);
          break;
        }
        failure = { step, error };
        break;
      }
    }
    if (failure) break;
  }
  const info: CleanupInfo = { failed: failure !== undefined, cancelled: opts.signal.aborted };
  if (failure && (opts.onError === 'abort' || opts.onError === 'run-cleanup-provisioner' || abortCleanup)) {
    await abortWithoutCleanup(ran, ctx, info, failure, opts);
  } else {
    for (const step of ran.reverse()) {
      const cleanupName = step.debugCleanupName ?? step.debugName;
      if (opts.debug && cleanupName !== undefined && step.cleanup) {
        await opts.ui.ask?.(`Pausing before cleanup of step '${cleanupName}'. Press enter to continue.`);
      }
      await runCleanup(step, ctx, info);
    }
  }
  if (failure) throw failure.error;
}

/** Packer's abortStep: says why, skips the cleanups (except the cleanup provisioner's, if asked). */
async function abortWithoutCleanup<C>(
  ran: Step<C>[],
  ctx: C,
  info: CleanupInfo,
  failure: { step: Step<C>; error: Error },
  opts: RunStepsOptions,
): Promise<void> {
  let logged = false;
  for (const step of [...ran].reverse()) {
    if (opts.onError === 'run-cleanup-provisioner' && step.cleanupWithCleanupProvisioner) {
      await runCleanup(step, ctx, info);
      continue;
    }
    if (!logged) {
      if (opts.onError !== 'ask') opts.ui.error(failure.error.message);
      opts.ui.error(info.cancelled ? 'Interrupted, aborting...' : `Step "${failure.step.name ?? failure.step.id}" failed, aborting...`);
      logged = true;
    } else if (step.name && step.cleanup && step.name !== failure.step.name) {
      // Steps sharing the failed step's Packer name are parts of that one Packer step.
      opts.ui.error(`aborted: skipping cleanup of step "${step.name}"`);
    }
  }
}

async function runCleanup<C>(step: Step<C>, ctx: C, info: CleanupInfo): Promise<void> {
  if (!step.cleanup) return;
  try {
    await step.cleanup(ctx, info);
  } catch {
    // A cleanup that fails must not hide the error that caused the run to stop, nor stop the
    // remaining cleanups; the cleanup itself reports what went wrong through the UI.
  }
}

/** Packer's -on-error=ask prompt. With no terminal the answer is "clean up". */
async function askWhatToDo<C>(ui: BuildUi, step: Step<C>, error: Error): Promise<'cleanup' | 'abort' | 'retry'> {
  ui.error(error.message);
  ui.say(`Step "${step.name ?? step.id}" failed`);
  for (;;) {
    const line = await ui.ask?.('[c] Clean up and exit, [a] abort without cleanup, or [r] retry step (build may fail even if retry succeeds)?');
    if (line === undefined) return 'cleanup';
    const c = `${line.toLowerCase()}c`[0];
    if (c === 'c') return 'cleanup';
    if (c === 'a') return 'abort';
    if (c === 'r') return 'retry';
    ui.say(`Incorrect input: ${JSON.stringify(line)}`);
  }
}


// ---- decorators for the provisioner meta-arguments ---------------------------------------------

/** `pause_before`: "Pausing 10s before the next provisioner..." then waits (cancellable). */
export function withPauseBefore<C>(step: Step<C>, ms: number, ui: BuildUi): Step<C> {
  if (!(ms > 0)) return step;
  return {
    ...step,
    async run(ctx, signal) {
      ui.say(`Pausing ${goDuration(ms)} before the next provisioner...`);
      await delay(ms, undefined, { signal }).catch(() => {
        throw new CancelledError();
      });
      await step.run(ctx, signal);
    },
  };
}

/** `timeout`: the step gets a signal that aborts after `ms`; it then fails with a message naming
 * the timeout (Packer prints "Cancelling provisioner after a timeout..."). */
export function withTimeout<C>(step: Step<C>, ms: number, ui: BuildUi): Step<C> {
  if (!(ms > 0)) return step;
  return {
    ...step,
    async run(ctx, signal) {
      ui.say(`Setting a ${goDuration(ms)} timeout for the next provisioner...`);
      const timer = new AbortController();
      const t = setTimeout(() => timer.abort(new TimeoutError(ms)), ms);
      const combined = AbortSignal.any([signal, timer.signal]);
      try {
        await step.run(ctx, combined);
        if (timer.signal.aborted && !signal.aborted) throw timer.signal.reason as Error;
      } catch (err) {
        if (timer.signal.aborted && !signal.aborted) {
          ui.error('Cancelling provisioner after a timeout...');
          throw new TimeoutError(ms, toError(err));
        }
        throw err;
      } finally {
        clearTimeout(t);
      }
    },
  };
}

export class TimeoutError extends Error {
  constructor(ms: number, cause?: Error) {
    super(`Timeout: the provisioner did not finish within its timeout of ${goDuration(ms)} and was stopped` +
      (cause && !(cause instanceof TimeoutError) ? ` (${cause.message.split('\n')[0]})` : ''));
    this.name = 'TimeoutError';
  }
}

/** Backoff between retries: Packer's linear backoff, 0s, 2s, 4s, … at most 2 minutes. */
export const RETRY_BACKOFF_MS = 2000;

/** `max_retries`: retries a failed step up to `maxRetries` more times, saying so, with backoff.
 * The observer hears `onStepStart(id, attempt)` for every retry (attempt 2, 3, …). */
export function withRetries<C>(
  step: Step<C>,
  maxRetries: number,
  ui: BuildUi,
  observer?: StepObserver,
  backoffMs = RETRY_BACKOFF_MS,
): Step<C> {
  if (!(maxRetries > 0)) return step;
  return {
    ...step,
    async run(ctx, signal) {
      let left = maxRetries;
      for (let attempt = 0; ; attempt++) {
        try {
          await step.run(ctx, signal);
          return;
        } catch (err) {
          if (signal.aborted || left <= 0) throw err;
          ui.say(`Provisioner failed with ${JSON.stringify(toError(err).message)}, retrying with ${left} trie(s) left`);
          left--;
          const wait = Math.min(backoffMs * attempt, 120_000);
          if (wait > 0) {
            await delay(wait, undefined, { signal }).catch(() => {
              throw new CancelledError();
            });
          }
          await observer?.onStepStart?.(step.id, attempt + 2);
        }
      }
    },
  };
}

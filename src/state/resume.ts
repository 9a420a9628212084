/**
 * Where a recorded build would resume: the first step that did not finish. A step that is
 * `running` in the state was interrupted (its process died mid-step), so it is a resume point
 * like a `pending` or `failed` one — never treated as done.
 */
import type { BuildState, StepState, StepStatus } from './types.js';

const UNFINISHED: ReadonlySet<StepStatus> = new Set(['pending', 'running', 'failed']);

/** Index of the first step that is pending, running (interrupted) or failed; -1 when all finished. */
export function firstUnfinishedStep(steps: readonly StepState[]): number {
  return steps.findIndex((s) => UNFINISHED.has(s.status));
}

export interface ResumePoint {
  phase: 'provisioners' | 'post_processors';
  index: number;
  step: StepState;
}

/** The step a build would resume at, or undefined when every step finished. */
export function resumePoint(build: BuildState): ResumePoint | undefined {
  for (const phase of ['provisioners', 'post_processors'] as const) {
    const index = firstUnfinishedStep(build[phase]);
    if (index >= 0) return { phase, index, step: build[phase][index]! };
  }
  return undefined;
}

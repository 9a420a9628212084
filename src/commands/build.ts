/**
 * `builder build [flags] TEMPLATE`: runs every build of a template, the way `packer build` does —
 * same flags, same output, same artifacts; exit 0 when every build succeeded, 1 otherwise.
 * Templates are checked completely (like `validate`) before anything runs.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from '../cli/command.js';
import { UsageError } from '../errors.js';
import { parseFlags } from '../cli/flags.js';
import { buildFilterFlagSpecs, buildFilterFlagsUsage, splitList, varFlagSpecs, varFlagsUsage, variableInputs } from '../cli/template-flags.js';
import { bindBuilds } from '../plan/bind.js';
import { nativeComponents } from '../components.js';
import type { BuildSpec } from '../run/build-runner.js';
import type { StepContext } from '../sdk/component.js';
import { runBuilds } from '../run/run-builds.js';
import { ON_ERROR_MODES, type OnErrorMode } from '../run/runner.js';
import { formatDiagnostics, hasErrors } from '../diagnostics.js';
import { expandBuilds } from '../template/expand.js';
import { loadTemplate } from '../template/loader.js';
import { LineReader } from '../ui/line-reader.js';
import { planRun, prepareStatefulRun, runnable } from '../stateful/stateful-run.js';
import { keptAfterFailureMessage, planMessage } from '../stateful/messages.js';
import type { BuildPlan } from '../plan/plan.js';
import { openState } from '../state/open.js';
import { resolveStateLocation, stateRmCommand } from '../state/location.js';
import { templateRef } from '../state/identity.js';
import { colorEnabled, RunUi } from '../ui/ui.js';

const flagSpecs = {
  ...varFlagSpecs,
  ...buildFilterFlagSpecs,
  force: { kind: 'bool' },
  'parallel-builds': { kind: 'int', default: 0 },
  'on-error': { kind: 'string', default: 'cleanup' },
  color: { kind: 'bool', default: true },
  'timestamp-ui': { kind: 'bool' },
  'machine-readable': { kind: 'bool' },
  debug: { kind: 'bool' },
  plan: { kind: 'bool' },
  state: { kind: 'string' },
  workspace: { kind: 'string' },
  lock: { kind: 'bool', default: true },
  'lock-timeout': { kind: 'duration', default: 0 },
} as const;

export const buildCommand: Command = {
  name: ['build'],
  synopsis: 'Build image(s) from template',
  usage: `Usage: builder build [options] TEMPLATE

  Will execute multiple builds in parallel as defined in the template. The various artifacts
  created by the template will be outputted. TEMPLATE is a .pkr.hcl or .pkr.json file, or a folder.

Options:

  -color=false                  Disable color output. (Also NO_COLOR or PACKER_NO_COLOR.)
  -debug                        Debug mode enabled for builds: pause before each step.
  -force                        Force a build to continue if artifacts exist, deletes existing artifacts.
  -machine-readable             Produce machine-readable output.
  -on-error=[cleanup|abort|ask|run-cleanup-provisioner]
                                If the build fails do: clean up (default), abort, ask, or
                                run-cleanup-provisioner.
  -parallel-builds=1            Number of builds to run in parallel. 1 disables parallelization.
                                0 means no limit (default).
  -timestamp-ui                 Enable prefixing of each ui output with an RFC3339 timestamp.

State (what builder adds to Packer):

  -plan                         Print, for every selected build, whether it is up to date, would
                                resume on its kept instance (and from which step; the instance is
                                checked to be still there), or would be built from the start, and
                                why; run nothing.
  -force                        Also: ignore the recorded state and build from the start.
  -state=PATH|URL               The state (default: BUILDER_STATE or BUILDER_STATE_PATH, else
                                .packer.d/builder-state.json next to the template).
  -workspace=NAME               The workspace: its own builds, locks and lineage (default:
                                BUILDER_WORKSPACE, else the one \`builder workspace select\` chose).
  -lock=false                   Do not lock the state (unsafe when other runs share it).
  -lock-timeout=DURATION        Wait this long for a build another process is working on
                                (default 0s: refuse at once, naming the holder).
${buildFilterFlagsUsage}
${varFlagsUsage}`,
  async run(args, ctx) {
    const parsed = parseFlags(args, flagSpecs);
    const f = parsed.flags;
    if (parsed.args.length !== 1) {
      throw new UsageError(parsed.args.length === 0 ? 'build needs a TEMPLATE argument' : 'build takes exactly one TEMPLATE argument');
    }
    const onError = f['on-error'] ?? 'cleanup';
    if (!(ON_ERROR_MODES as readonly string[]).includes(onError)) {
      throw new UsageError(`-on-error has to be one of: ${ON_ERROR_MODES.join(', ')} (got "${onError}")`);
    }
    const parallel = f['parallel-builds'] ?? 0;
    if (parallel < 0) throw new UsageError('-parallel-builds must be 0 (no limit) or a positive number');

    const { template, diagnostics, sources } = loadTemplate(parsed.args[0]!, {
      inputs: variableInputs(parsed),
      env: ctx.env,
      cwd: ctx.cwd,
    });
    const diags = [...diagnostics];
    const only = splitList(f.only);
    const except = splitList(f.except);
    const planned = template && !hasErrors(diags) ? expandBuilds(template, only, except) : [];
    const bound = template && !hasErrors(diags) ? bindBuilds(template, planned, ctx.components ?? nativeComponents()) : undefined;
    if (bound) diags.push(...bound.diagnostics);
    if (diags.length > 0) ctx.stderr.write(formatDiagnostics(diags, sources));
    if (!template || !bound || hasErrors(diags)) return 1;

    const runUuid = randomUUID();
    const sensitive = bound.sensitive;
    const specs = bound.builds.map((b) => runnable(b, runUuid));
    const input = ctx.stdinIsTTY ? new LineReader(ctx.stdin) : undefined;
    const ui = new RunUi({
      out: ctx.stdout,
      color: colorEnabled(ctx.stdoutIsTTY, f.color, ctx.env) && !f['machine-readable'],
      timestamp: f['timestamp-ui'],
      machineReadable: f['machine-readable'],
      input,
    });
    ui.masker.add(sensitive);
    const context = {
      cwd: ctx.cwd,
      env: { ...ctx.env, PACKER_RUN_UUID: runUuid },
      runUuid,
      sensitive,
      force: f.force,
    };
    const location = resolveStateLocation({ state: f.state, workspace: f.workspace, template: templateRef(template, ctx.cwd), env: ctx.env, cwd: ctx.cwd });
    const warn = (message: string): void => void ctx.stderr.write(`Warning: ${message}\n`);
    const state = await openState(location, { lock: f.lock, lockTimeoutMs: f['lock-timeout'] ?? 0, onWarning: warn, write: !f.plan, signal: ctx.signal });
    const indexOf = new Map(specs.map((s, i) => [s.name, i]));
    const say = (name: string, message: string): void => ui.build(name, indexOf.get(name) ?? 0).say(message);
    const stepContext = (spec: BuildSpec, signal: AbortSignal): StepContext => ({
      ...context,
      ui: ui.build(spec.name, indexOf.get(spec.name) ?? 0),
      signal,
      buildName: spec.name,
      builderType: spec.builderType,
    });
    try {
      if (f.plan) {
        const plans = await planRun({ template, specs, state, force: f.force, cwd: ctx.cwd, stepContext, signal: ctx.signal });
        for (const [name, plan] of plans) say(name, planMessage(plan));
        ui.say(`\n${planSummary([...plans.values()])}`);
        return 0;
      }
      // A failed build keeps its instance for a resume, except under an explicit -on-error=cleanup
      // (Packer's behaviour: destroy now; the next run starts fresh).
      const explicitCleanup = parsed.ordered.some((o) => o.name === 'on-error' && o.value === 'cleanup');
      const run = await prepareStatefulRun({
        template,
        specs,
        state,
        force: f.force,
        cwd: ctx.cwd,
        keepInstanceOnFailure: !explicitCleanup,
        say,
        stepContext,
        signal: ctx.signal,
        runUuid,
        sensitive,
      });
      try {
        if (f.debug) ui.say('Debug mode enabled. Builds will not be parallelized.');
        const result = await runBuilds({
          ui,
          builds: run.toRun,
          upToDate: specs.filter((s) => run.upToDate.has(s.name)).map((s) => ({ build: s, artifacts: run.upToDate.get(s.name)! })),
          parallel,
          signal: ctx.signal,
          onError: onError as OnErrorMode,
          debug: f.debug,
          context,
          hooksFor: (b) => run.hooksFor(b),
          resumeFor: (b) => run.resumeFor(b),
          keepInstanceOnFailure: !explicitCleanup,
          onBuildEnd: async (b, r) => {
            await run.hooksFor(b)?.recordArtifacts(r.artifacts);
          },
        });
        if (run.toRun.length > 0) {
          // Flushed by state.close(), which writes the whole state durably.
          const lastRun = state.snapshot().last_run ?? { run_uuid: runUuid, started_at: '' };
          await state.setLastRun({ ...lastRun, completed_at: new Date().toISOString() }, { durable: false });
        }
        for (const b of run.toRun) {
          const rec = state.build(b.name);
          if (result.results.get(b.name)?.error && rec?.instance?.keep_on_failure) {
            ui.say(`\n==> ${b.name}: ${keptAfterFailureMessage(rec.instance, b.builder.instanceOutlivesBuild === true, stateRmCommand(location, b.name))}`);
          }
        }
        return result.exitCode;
      } finally {
        await run.release();
      }
    } finally {
      input?.close();
      await state.close();
    }
  },
};

/** The last line of `-plan`: how many builds would do what. */
function planSummary(plans: readonly BuildPlan[]): string {
  const count = (a: BuildPlan['action']): number => plans.filter((p) => p.action === a).length;
  return `Plan: ${count('fresh')} to build from the start, ${count('resume')} to resume, ${count('up-to-date')} up to date. Nothing was run (-plan).`;
}

/**
 * `builder build [flags] TEMPLATE`: runs every build of a template, the way `packer build` does —
 * same flags, same output, same artifacts; exit 0 when every build succeeded, 1 otherwise.
 * Templates are checked completely (like `validate`) before anything runs. What the state adds
 * (plan, resume, skip, locks, kept instances) is the stateful run's (src/stateful/stateful-run.ts);
 * `-plan` is `builder plan`.
 */
import type { Command } from '../cli/command.js';
import { UsageError } from '../errors.js';
import { parseFlags } from '../cli/flags.js';
import { buildFilterFlagsUsageAt, varFlagsUsageAt } from '../cli/template-flags.js';
import { setUpBuild, stateRunFlagSpecs, stateRunFlagsUsage } from '../cli/build-setup.js';
import { runBuilds } from '../run/run-builds.js';
import { heartbeatInterval, ON_ERROR_MODES, type OnErrorMode } from '../run/runner.js';
import { StatefulRun } from '../stateful/stateful-run.js';
import { keptAfterFailureMessage } from '../stateful/messages.js';
import { shellQuote } from '../state/errors.js';
import { printPlans, planFlagSpecs } from './plan.js';
import type { CommandContext } from '../cli/command.js';
import type { BuildSetup } from '../cli/build-setup.js';
import { checkSharedRunFlags, leaseOptions, SharedRun } from '../stateful/claims.js';
import { LeaseGuard } from '../stateful/lease-guard.js';

const flagSpecs = {
  ...stateRunFlagSpecs,
  ...planFlagSpecs,
  force: { kind: 'bool' },
  'parallel-builds': { kind: 'int', default: 0 },
  'on-error': { kind: 'string' },
  color: { kind: 'bool', default: true },
  'timestamp-ui': { kind: 'bool' },
  'machine-readable': { kind: 'bool' },
  debug: { kind: 'bool' },
  plan: { kind: 'bool' },
  'run-id': { kind: 'string' },
  runner: { kind: 'string' },
  'lease-ttl': { kind: 'duration' },
} as const;

export const buildCommand: Command = {
  name: ['build'],
  synopsis: 'Build image(s) from template',
  usage: `Usage: builder build [options] TEMPLATE

  Will execute multiple builds in parallel as defined in the template. The various artifacts
  created by the template will be outputted. TEMPLATE is a .pkr.hcl or .pkr.json file, or a folder.

Options:

  -color=false                  Disable color output. (Also NO_COLOR or PACKER_NO_COLOR.)
  -debug                        Debug mode enabled for builds: pause after each step.
  -force                        Force a build to continue if artifacts exist, deletes existing artifacts.
  -machine-readable             Produce machine-readable output.
  -on-error=[cleanup|abort|ask|run-cleanup-provisioner]
                                If the build fails do: clean up, abort, ask, or
                                run-cleanup-provisioner. Default: keep the instance of a builder
                                that can reconnect to it (the next run resumes on it), clean up
                                otherwise; -on-error=cleanup always cleans up, as Packer does.
  -parallel-builds=1            Number of builds to run in parallel. 1 disables parallelization.
                                0 means no limit (default).
  -timestamp-ui                 Enable prefixing of each ui output with an RFC3339 timestamp.

State (what builder adds to Packer):

  -plan                         Print the plan (as \`builder plan\`) and run nothing.
  -detailed-exitcode            With -plan: exit 0 when every build is up to date, 2 when some
                                build would run, 1 on an error.
  -json                         With -plan: print the plan as JSON (docs/design.md).
  -run-id=ID                    Share this run with every runner started with the same ID and
                                inputs (a PostgreSQL state): each build is claimed by one runner,
                                a dead runner's build is taken over; each runner exits with the
                                run's result. -parallel-builds then defaults to 1 per runner.
  -runner=NAME                  This runner's name in locks and messages (default: this host).
  -lease-ttl=DURATION           How long a PostgreSQL lock outlives its holder's last renewal
                                (default 30s); a runner that cannot renew in time stops its build.
  -snapshots=false              Take no snapshot after each step, and restart from none (builders
                                that offer snapshots, such as docker, take them by default).
                                Also \`snapshots = false\` in builder.hcl next to the template.
${stateRunFlagsUsage}
${buildFilterFlagsUsageAt(32)}
${varFlagsUsageAt(32)}`,
  async run(args, ctx) {
    const parsed = parseFlags(args, flagSpecs);
    const f = parsed.flags;
    const onError = f['on-error'];
    if (onError !== undefined && !(ON_ERROR_MODES as readonly string[]).includes(onError)) {
      throw new UsageError(`-on-error has to be one of: ${ON_ERROR_MODES.join(', ')} (got "${onError}")`);
    }
    const parallel = f['parallel-builds'] ?? 0;
    if (parallel < 0) throw new UsageError('-parallel-builds must be 0 (no limit) or a positive number');
    const runId = f['run-id'];
    checkSharedRunFlags(runId, f.runner, f['lease-ttl'], f.lock);

    const guard = new LeaseGuard(() => setup?.state.location ?? '');
    const lease = leaseOptions(runId, f.runner, f['lease-ttl'], (l) => guard.lost(l));
    // A long step says it is still running where someone watches: a terminal, or -timestamp-ui.
    const heartbeatMs = (ctx.stdoutIsTTY || f['timestamp-ui']) && !f['machine-readable'] ? heartbeatInterval(ctx.env) : undefined;
    const setup = await setUpBuild('build', parsed, ctx, { color: f.color, timestamp: f['timestamp-ui'], machineReadable: f['machine-readable'], force: f.force, write: !f.plan, lease });
    if (!setup) return 1;
    try {
      if (f.plan) return await printPlans(setup, f, ctx);
      const run = await StatefulRun.begin({
        template: setup.template,
        builds: setup.builds,
        state: setup.state,
        cwd: ctx.cwd,
        replace: setup.replace,
        ignore: setup.ignore,
        onError: onError as OnErrorMode | undefined,
        say: setup.say,
        stepContext: setup.stepContext,
        signal: ctx.signal,
        runUuid: setup.runUuid,
        sensitive: setup.sensitive,
        claimed: runId !== undefined,
        workspace: setup.location.workspace,
        snapshots: f.snapshots && !setup.snapshotsOff,
      });
      try {
        if (f.debug) setup.ui.say('Debug mode enabled. Builds will not be parallelized.');
        const shared = runId === undefined ? undefined : await joinSharedRun(runId, run, setup, ctx, lease.ttlMs);
        const result = await runBuilds({
          ui: setup.ui,
          builds: shared ? setup.builds : run.toRun,
          upToDate: shared ? shared.upToDate : setup.builds.filter((b) => run.upToDate.has(b.name)).map((b) => ({ build: b, artifacts: run.upToDate.get(b.name)! })),
          nextBuild: shared && (() => shared.next()),
          abandonFor: (b) => {
            const id = shared ? shared.lockIdFor(b.name) : run.lockIdFor(b);
            return id === undefined ? undefined : guard.signalFor(id, b.name);
          },
          parallel: shared && parallel === 0 ? 1 : parallel,
          signal: ctx.signal,
          onError: (onError ?? 'cleanup') as OnErrorMode,
          debug: f.debug,
          heartbeatMs,
          context: setup.context,
          hooksFor: (b) => run.hooksFor(b),
          resumeFor: (b) => run.resumeFor(b),
          keepInstanceOnFailure: (b) => run.keepFor(b),
          instanceLabelsFor: (b) => run.instanceLabelsFor(b),
          snapshotLabelsFor: (b) => run.snapshotLabelsFor(b),
          onBuildEnd: async (b, r) => {
            await run.buildEnded(b, r);
            await shared?.ended(b, r);
          },
        });
        const resume = resumeCommand(args);
        for (const { build, instance } of await run.end(result.results)) {
          setup.ui.say(`\n==> ${build.name}: ${keptAfterFailureMessage(instance, build.builder.instanceOutlivesBuild === true, resume, setup.rmCommand(build.name))}`);
        }
        if (!shared || result.interrupted) return result.exitCode;
        const outcome = await shared.outcome();
        setup.ui.say(`\n==> Run ${runId!}: ${outcome.summary}`);
        return outcome.exitCode;
      } finally {
        await run.release();
      }
    } finally {
      await setup.close();
    }
  },
};

/** Joins the shared run `runId` (src/stateful/claims.ts). */
function joinSharedRun(runId: string, run: StatefulRun, setup: BuildSetup, ctx: CommandContext, ttlMs = 30_000): Promise<SharedRun> {
  return SharedRun.join({
    runId,
    state: setup.state,
    run,
    builds: setup.builds,
    template: setup.template,
    cwd: ctx.cwd,
    ignore: setup.ignore,
    note: (m) => setup.ui.say(`==> Run ${runId}: ${m}`),
    pollMs: Math.min(1000, Math.floor(ttlMs / 3)),
    signal: ctx.signal,
  });
}

/** The command that resumes this run: the same one, less the flags that ignore the state
 * (`-replace`), so the hint really resumes. */
function resumeCommand(args: readonly string[]): string {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (/^--?replace=/.test(a)) continue;
    if (/^--?replace$/.test(a)) {
      i++;
      continue;
    }
    kept.push(a);
  }
  return ['builder', 'build', ...kept].map(shellQuote).join(' ');
}

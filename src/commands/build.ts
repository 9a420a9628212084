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
import { ON_ERROR_MODES, type OnErrorMode } from '../run/runner.js';
import { StatefulRun } from '../stateful/stateful-run.js';
import { keptAfterFailureMessage } from '../stateful/messages.js';
import { shellQuote } from '../state/errors.js';
import { printPlans, planFlagSpecs } from './plan.js';
import { userInfo } from 'node:os';
import type { CommandContext } from '../cli/command.js';
import type { BuildSetup } from '../cli/build-setup.js';
import type { LockInfo } from '../state/interfaces.js';
import type { LeaseOptions } from '../state/open.js';
import { SharedRun } from '../stateful/claims.js';
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
  -debug                        Debug mode enabled for builds: pause before each step.
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
          context: setup.context,
          hooksFor: (b) => run.hooksFor(b),
          resumeFor: (b) => run.resumeFor(b),
          keepInstanceOnFailure: (b) => run.keepFor(b),
          onBuildEnd: async (b, r) => {
            await run.buildEnded(b, r);
            await shared?.ended(b, r);
          },
        });
        const resume = resumeCommand(args);
        for (const { build, instance } of await run.end(result.results)) {
          setup.ui.say(`\n==> ${build.name}: ${keptAfterFailureMessage(instance, build.builder.instanceOutlivesBuild === true, resume, setup.rmCommand(build.name))}`);
        }
        return shared && !result.interrupted ? await sharedRunExit(shared, runId!, setup) : result.exitCode;
      } finally {
        await run.release();
      }
    } finally {
      await setup.close();
    }
  },
};

/** -run-id, -runner and -lease-ttl are checked before anything is loaded. */
function checkSharedRunFlags(runId: string | undefined, runner: string | undefined, ttl: number | undefined, lock: boolean): void {
  if (runId !== undefined && !/^[A-Za-z0-9._:-]{1,100}$/.test(runId)) throw new UsageError(`-run-id must be 1 to 100 letters, digits, ".", "_", ":" or "-" (got "${runId}")`);
  if (runner !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(runner)) throw new UsageError(`-runner must be 1 to 64 letters, digits, ".", "_" or "-" (got "${runner}")`);
  if (ttl !== undefined && ttl < 1000) throw new UsageError('-lease-ttl must be at least 1s');
  if (runId !== undefined && !lock) throw new UsageError('-run-id shares the run through the state\'s locks: it cannot be used with -lock=false');
}

/** How this runner holds its PostgreSQL leases: its name (a runner is another machine: its locks
 * are never judged by this host's processes, they only expire), the run, the TTL, the self-stop. */
function leaseOptions(runId: string | undefined, runner: string | undefined, ttlMs: number | undefined, onLost: (l: LockInfo) => void): LeaseOptions {
  const holder = runner === undefined ? (runId === undefined ? undefined : { run: runId }) : { who: `${userName()}@${runner}`, host: runner, run: runId };
  return { ttlMs, holder, onLost };
}

function userName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

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

/** The exit code of a shared run: the run's result, whichever runner ran its builds. */
async function sharedRunExit(shared: SharedRun, runId: string, setup: BuildSetup): Promise<number> {
  const o = await shared.outcome();
  const failed = o.failedBuilds;
  setup.ui.say(`\n==> Run ${runId}: ${o.done} build(s) done, ${o.failed} failed${failed.length > 0 ? ` (${failed.join(', ')})` : ''}, across all its runners.`);
  return o.failed > 0 || o.pending + o.claimed > 0 ? 1 : 0;
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

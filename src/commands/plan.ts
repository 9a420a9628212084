/**
 * `builder plan [flags] TEMPLATE` (and `builder build -plan`): for every selected build, what a
 * build would do — up to date, resume at step k, from the start, restart from a snapshot — which
 * steps would run and which be skipped, and what changed; builds the state holds that the
 * template no longer has are listed as orphaned. A build whose lock another run holds (in a shared
 * run, the runner working on it) names its holder. Nothing runs, nothing is locked or written.
 *
 * Exit codes: 0 (with -detailed-exitcode: nothing to build), 2 with -detailed-exitcode when some
 * build would run, 1 on an error. `-json` prints the plan as one JSON document (docs/design.md).
 */
import type { Command, CommandContext } from '../cli/command.js';
import { parseFlags, type FlagSpecs } from '../cli/flags.js';
import { buildFilterFlagsUsageAt, varFlagsUsageAt } from '../cli/template-flags.js';
import { setUpBuild, stateRunFlagSpecs, stateRunFlagsUsage, type BuildSetup } from '../cli/build-setup.js';
import { orphans } from '../plan/plan.js';
import { plansToJson } from '../plan/plan-json.js';
import { planHeldLine, planLines, planSummary } from '../stateful/messages.js';
import { planBuilds } from '../stateful/stateful-run.js';
import { fullBuildName } from '../template/expand.js';
import type { LockInfo } from '../state/interfaces.js';

export const planFlagSpecs = {
  'detailed-exitcode': { kind: 'bool' },
  json: { kind: 'bool' },
  snapshots: { kind: 'bool', default: true },
} as const satisfies FlagSpecs;

const flagSpecs = {
  ...stateRunFlagSpecs,
  ...planFlagSpecs,
  color: { kind: 'bool', default: true },
  'machine-readable': { kind: 'bool' },
} as const;

export const planCommand: Command = {
  name: ['plan'],
  synopsis: 'Show what a build would do, and why',
  usage: `Usage: builder plan [options] TEMPLATE

  Shows, for every build of the template, whether it is up to date, would resume on its kept
  instance (and from which step; the instance is checked to be still there), would restart from
  a snapshot, or would be built from the start — the steps that would run and be skipped, and
  what changed. A build another run is working on names who holds it (in a shared run, the
  runner). Runs nothing, locks nothing, writes nothing. Same as \`builder build -plan\`.

Options:

  -detailed-exitcode            Exit 0 when every build is up to date, 2 when some build would
                                run, 1 on an error.
  -json                         Print the plan as JSON (format documented in docs/design.md).
  -snapshots=false              Plan no restart from a snapshot (as \`build -snapshots=false\`).
  -color=false                  Disable color output.
  -machine-readable             Produce machine-readable output.
${stateRunFlagsUsage}
${buildFilterFlagsUsageAt(32)}
${varFlagsUsageAt(32)}`,
  async run(args, ctx) {
    const parsed = parseFlags(args, flagSpecs);
    const f = parsed.flags;
    const setup = await setUpBuild('plan', parsed, ctx, { color: f.color, timestamp: false, machineReadable: f['machine-readable'], force: false, write: false });
    if (!setup) return 1;
    try {
      return await printPlans(setup, f, ctx);
    } finally {
      await setup.close();
    }
  },
};

/** Plans every build of `setup`, prints the plans, and returns the exit code. */
export async function printPlans(setup: BuildSetup, f: { json: boolean; 'detailed-exitcode': boolean; snapshots: boolean }, ctx: CommandContext): Promise<number> {
  // The holders first: a build they hold may end while it is planned (then planned as ended).
  const held = setup.state.exists ? await setup.state.buildLocks() : new Map<string, LockInfo>();
  const plans = await planBuilds({
    template: setup.template,
    builds: setup.builds,
    state: setup.state,
    cwd: ctx.cwd,
    replace: setup.replace,
    ignore: setup.ignore,
    stepContext: setup.stepContext,
    signal: ctx.signal,
    snapshots: f.snapshots && !setup.snapshotsOff,
  });
  const all = [...plans.values()];
  const orphaned = orphans(setup.state.buildKeys(), setup.template.builds.flatMap((b) => b.sources.map((s) => fullBuildName(b, s))));
  if (f.json) {
    ctx.stdout.write(`${JSON.stringify(plansToJson(all, orphaned, held), null, 2)}\n`);
  } else {
    for (const plan of all) {
      const lines = planLines(plan);
      const lock = held.get(plan.name);
      if (lock) lines.splice(1, 0, planHeldLine(lock));
      for (const [i, line] of lines.entries()) (i === 0 ? setup.say : sayIndented(setup))(plan.name, line);
    }
    for (const o of orphaned) setup.ui.say(`Orphaned: ${o} is in the state but not in the template (forget it with: ${setup.rmCommand(o)})`);
    setup.ui.say(`\n${planSummary(all)}`);
  }
  const changes = all.some((p) => p.action !== 'up-to-date');
  return f['detailed-exitcode'] && changes ? 2 : 0;
}

function sayIndented(setup: BuildSetup): (name: string, line: string) => void {
  return (name, line) => setup.ui.build(name, setup.builds.findIndex((b) => b.name === name)).message(line);
}

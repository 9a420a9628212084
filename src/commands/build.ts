/**
 * `builder build [flags] TEMPLATE`: runs every build of a template, the way `packer build` does —
 * same flags, same output, same artifacts; exit 0 when every build succeeded, 1 otherwise.
 * Templates are checked completely (like `validate`) before anything runs.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from '../cli/command.js';
import { UsageError } from '../cli/errors.js';
import { parseFlags } from '../cli/flags.js';
import { buildFilterFlagSpecs, buildFilterFlagsUsage, splitList, varFlagSpecs, varFlagsUsage, variableInputs } from '../cli/template-flags.js';
import { buildSpecs } from '../core/build-specs.js';
import { runBuilds } from '../core/run-builds.js';
import { ON_ERROR_MODES, type OnErrorMode } from '../core/runner.js';
import { formatDiagnostics, hasErrors } from '../diagnostics.js';
import { checkBuilds } from '../template/check.js';
import { expandBuilds } from '../template/expand.js';
import { loadTemplate } from '../template/loader.js';
import { LineReader } from '../ui/line-reader.js';
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
    if (template && !hasErrors(diags)) diags.push(...checkBuilds(template, planned));
    if (diags.length > 0) ctx.stderr.write(formatDiagnostics(diags, sources));
    if (!template || hasErrors(diags)) return 1;

    const runUuid = randomUUID();
    const { specs, sensitive } = buildSpecs(template, planned, runUuid);
    const input = ctx.stdinIsTTY ? new LineReader(ctx.stdin) : undefined;
    const ui = new RunUi({
      out: ctx.stdout,
      color: colorEnabled(ctx.stdoutIsTTY, f.color, ctx.env) && !f['machine-readable'],
      timestamp: f['timestamp-ui'],
      machineReadable: f['machine-readable'],
      input,
    });
    ui.masker.add(sensitive);
    if (f.debug) ui.say('Debug mode enabled. Builds will not be parallelized.');
    try {
      const result = await runBuilds({
        ui,
        builds: specs,
        parallel,
        signal: ctx.signal,
        onError: onError as OnErrorMode,
        debug: f.debug,
        context: {
          cwd: ctx.cwd,
          env: { ...ctx.env, PACKER_RUN_UUID: runUuid },
          runUuid,
          sensitive,
          force: f.force,
        },
      });
      return result.exitCode;
    } finally {
      input?.close();
    }
  },
};

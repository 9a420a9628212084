/**
 * What `builder build` and `builder plan` share before anything runs: the template loaded, the
 * builds selected (-only/-except) and bound to the run's components (the one bind pass), each
 * builder configuration prepared for this run, the output, and the state opened. Template
 * problems are printed as diagnostics (file:line:col) and end the command with exit 1.
 */
import { randomUUID } from 'node:crypto';
import type { CommandContext } from './command.js';
import type { FlagSpecs, ParsedFlags } from './flags.js';
import { buildFilterFlagSpecs, splitList, variableInputs, varFlagSpecs } from './template-flags.js';
import { nativeComponents } from '../components.js';
import { formatDiagnostics, hasErrors } from '../diagnostics.js';
import { UsageError } from '../errors.js';
import { bindBuilds } from '../plan/bind.js';
import type { StepContext } from '../sdk/component.js';
import { runnable, type RunnableBuild } from '../stateful/stateful-run.js';
import type { StateManager } from '../state/manager.js';
import { openFileState } from '../state/open.js';
import { buildStatePath } from '../state/location.js';
import { expandBuilds, matchesAny } from '../template/expand.js';
import { loadTemplate } from '../template/loader.js';
import type { Template } from '../template/model.js';
import { colorEnabled, RunUi } from '../ui/ui.js';
import { LineReader } from '../ui/line-reader.js';

/** The flags of the state that `build` and `plan` share. */
export const stateRunFlagSpecs = {
  ...varFlagSpecs,
  ...buildFilterFlagSpecs,
  replace: { kind: 'list' },
  state: { kind: 'string' },
  lock: { kind: 'bool', default: true },
  'lock-timeout': { kind: 'duration', default: 0 },
} as const satisfies FlagSpecs;

export const stateRunFlagsUsage = `  -replace=BUILD                Build BUILD from the start whatever the state records (no resume,
                                no skip; globs allowed; repeatable). Terraform's -replace.
  -state=PATH                   The state file (default: BUILDER_STATE_PATH, else
                                .packer.d/builder-state.json next to the template).
  -lock=false                   Do not lock the state (unsafe when other runs share it).
  -lock-timeout=DURATION        Wait this long for a build another process is working on
                                (default 0s: refuse at once, naming the holder).`;

type StateRunFlags = ParsedFlags<typeof stateRunFlagSpecs & FlagSpecs>;

export interface BuildSetup {
  template: Template;
  builds: RunnableBuild[];
  /** Sensitive strings to mask in every output. */
  sensitive: string[];
  runUuid: string;
  ui: RunUi;
  input?: LineReader;
  state: StateManager;
  /** The context every step shares (the runner adds ui, signal and build names). */
  context: Omit<StepContext, 'ui' | 'signal' | 'buildName' | 'builderType'>;
  stepContext(b: RunnableBuild, signal: AbortSignal): StepContext;
  say(buildName: string, message: string): void;
  /** `-replace`: true for a build the user asked to build from the start. */
  replace(buildName: string): boolean;
  close(): Promise<void>;
}

/** Loads, binds and opens; undefined (diagnostics printed) when the template has errors. */
export async function setUpBuild(
  command: string,
  parsed: StateRunFlags,
  ctx: CommandContext,
  ui: { color: boolean; timestamp: boolean; machineReadable: boolean; force: boolean },
): Promise<BuildSetup | undefined> {
  if (parsed.args.length !== 1) {
    throw new UsageError(parsed.args.length === 0 ? `${command} needs a TEMPLATE argument` : `${command} takes exactly one TEMPLATE argument`);
  }
  const f = parsed.flags;
  const { template, diagnostics, sources } = loadTemplate(parsed.args[0]!, { inputs: variableInputs(parsed), env: ctx.env, cwd: ctx.cwd });
  const diags = [...diagnostics];
  const ok = template !== undefined && !hasErrors(diags);
  const planned = ok ? expandBuilds(template, splitList(f.only), splitList(f.except)) : [];
  const bound = ok ? bindBuilds(template, planned, ctx.components ?? nativeComponents()) : undefined;
  if (bound) diags.push(...bound.diagnostics);
  if (diags.length > 0) ctx.stderr.write(formatDiagnostics(diags, sources));
  if (!template || !bound || hasErrors(diags)) return undefined;

  const runUuid = randomUUID();
  const builds = bound.builds.map((b) => runnable(b, runUuid));
  const input = ctx.stdinIsTTY ? new LineReader(ctx.stdin) : undefined;
  const runUi = new RunUi({
    out: ctx.stdout,
    color: colorEnabled(ctx.stdoutIsTTY, ui.color, ctx.env) && !ui.machineReadable,
    timestamp: ui.timestamp,
    machineReadable: ui.machineReadable,
    input,
  });
  runUi.masker.add(bound.sensitive);
  const warn = (message: string): void => void ctx.stderr.write(`Warning: ${message}\n`);
  const statePath = buildStatePath(f.state, ctx.env, ctx.cwd, template.root);
  let state: StateManager;
  try {
    state = await openFileState({ path: statePath, lock: f.lock, lockTimeoutMs: f['lock-timeout'] ?? 0, onWarning: warn });
  } catch (err) {
    input?.close();
    throw err;
  }
  const context = { cwd: ctx.cwd, env: { ...ctx.env, PACKER_RUN_UUID: runUuid }, runUuid, sensitive: bound.sensitive, force: ui.force };
  const indexOf = new Map(builds.map((b, i) => [b.name, i]));
  const replaceGlobs = splitList(f.replace);
  return {
    template,
    builds,
    sensitive: bound.sensitive,
    runUuid,
    ui: runUi,
    input,
    state,
    context,
    stepContext: (b, signal) => ({ ...context, ui: runUi.build(b.name, indexOf.get(b.name) ?? 0), signal, buildName: b.name, builderType: b.builderType }),
    say: (name, message) => runUi.build(name, indexOf.get(name) ?? 0).say(message),
    replace: (name) => matchesAny(name, replaceGlobs),
    async close() {
      input?.close();
      await state.close();
    },
  };
}

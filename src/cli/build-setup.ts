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
import { componentsFor, type RunComponents } from '../components.js';
import { dataSourceLoading } from '../datasources/loading.js';
import { formatDiagnostics, hasErrors } from '../diagnostics.js';
import { UsageError, UserError, userSystemError } from '../errors.js';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseConfig } from '../hcl/parser.js';
import { bodyJustAttributes } from '../hcl/body.js';
import { evaluate } from '../hcl/eval.js';
import { placeString } from '../template/ranges.js';
import { bindBuilds, type BindResult } from '../plan/bind.js';
import type { StepContext } from '../sdk/component.js';
import { runnable, type RunnableBuild } from '../stateful/stateful-run.js';
import type { StateManager } from '../state/manager.js';
import { openState, type LeaseOptions } from '../state/open.js';
import { resolveStateLocation, stateRmCommand, type StateLocation } from '../state/location.js';
import { templateRef } from '../state/identity.js';
import { parseIgnorePaths } from '../plan/inputs.js';
import { expandBuilds, matchesAny } from '../template/expand.js';
import { loadTemplate } from '../template/loader.js';
import type { Template } from '../template/model.js';
import { colorEnabled, RunUi } from '../ui/ui.js';
import { LineReader } from '../ui/line-reader.js';
import { addLogSecrets } from '../log.js';

/** The flags of the state that `build` and `plan` share. */
export const stateRunFlagSpecs = {
  ...varFlagSpecs,
  ...buildFilterFlagSpecs,
  replace: { kind: 'list' },
  'ignore-changes': { kind: 'list' },
  state: { kind: 'string' },
  workspace: { kind: 'string' },
  lock: { kind: 'bool', default: true },
  'lock-timeout': { kind: 'duration', default: 0 },
} as const satisfies FlagSpecs;

export const stateRunFlagsUsage = `  -replace=BUILD                Build BUILD from the start whatever the state records (no resume,
                                no skip; globs allowed; repeatable). Terraform's -replace.
  -ignore-changes=PATH          Leave this attribute out of fingerprints, so a change to it alone
                                does not rebuild (Terraform's ignore_changes; repeatable):
                                source.TYPE.NAME.ATTR, provisioner.N.ATTR, post-processor.N.ATTR.
                                Also read from ignore_changes in builder.hcl next to the template.
  -state=PATH|URL               The state (default: BUILDER_STATE or BUILDER_STATE_PATH, else
                                .packer.d/builder-state.json next to the template).
  -workspace=NAME               The workspace: its own builds, locks and lineage (default:
                                BUILDER_WORKSPACE, else the one \`builder workspace select\` chose).
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
  /** Where the state is (for the hints that name it). */
  location: StateLocation;
  /** Attribute paths left out of fingerprints (-ignore-changes, builder.hcl). */
  ignore: string[];
  /** `snapshots = false` in builder.hcl: no per-step snapshots (as -snapshots=false). */
  snapshotsOff: boolean;
  /** The command that forgets a build of this state (the discard hint). */
  rmCommand(buildName: string): string;
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
  ui: { color: boolean; timestamp: boolean; machineReadable: boolean; force: boolean; write: boolean; lease?: LeaseOptions },
): Promise<BuildSetup | undefined> {
  if (parsed.args.length !== 1) {
    throw new UsageError(parsed.args.length === 0 ? `${command} needs a TEMPLATE argument` : `${command} takes exactly one TEMPLATE argument`);
  }
  const f = parsed.flags;
  // Data sources run here, before any build: a changed result changes the plan (as a refresh).
  const { template, diagnostics, sources } = await loadTemplate(parsed.args[0]!, { inputs: variableInputs(parsed), env: ctx.env, cwd: ctx.cwd, dataSources: dataSourceLoading(ctx, true, parsed.flags['use-sequential-evaluation']) });
  const diags = [...diagnostics];
  const ok = template !== undefined && !hasErrors(diags);
  const planned = ok ? expandBuilds(template, splitList(f.only), splitList(f.except)) : [];
  const runUuid = randomUUID();
  // Plugin components (started only when the template needs one), stopped by close().
  const components: RunComponents | undefined = ok ? await componentsFor(template, { env: ctx.env, cwd: ctx.cwd, base: ctx.components, runUuid }) : undefined;
  if (components) diags.push(...components.diagnostics);
  const bound = ok && components && !hasErrors(diags) ? bindBuilds(template, planned, components.components) : undefined;
  if (bound) diags.push(...bound.diagnostics);
  if (diags.length > 0) ctx.stderr.write(formatDiagnostics(diags, sources));
  if (!template || !bound || hasErrors(diags)) {
    await components?.close();
    return undefined;
  }
  try {
    return await openSetup(f, ctx, ui, template, bound, runUuid, components!);
  } catch (err) {
    await components!.close();
    throw err;
  }
}

async function openSetup(
  f: StateRunFlags['flags'],
  ctx: CommandContext,
  ui: { color: boolean; timestamp: boolean; machineReadable: boolean; force: boolean; write: boolean; lease?: LeaseOptions },
  template: Template,
  bound: BindResult,
  runUuid: string,
  components: RunComponents,
): Promise<BuildSetup> {
  const settings = readSettings(template.root, ctx.cwd);
  const ignore = [...settings.ignore, ...f['ignore-changes']];
  parseIgnorePaths(ignore);
  const builds = bound.builds.map((b) => runnable(b, runUuid));
  const input = ctx.stdinIsTTY ? new LineReader(ctx.stdin) : undefined;
  const runUi = new RunUi({
    out: ctx.stdout,
    color: colorEnabled(ctx.stdoutIsTTY, ui.color, ctx.env) && !ui.machineReadable,
    timestamp: ui.timestamp,
    machineReadable: ui.machineReadable,
    input,
    progress: ctx.stdoutIsTTY && !ui.machineReadable,
  });
  runUi.masker.add(bound.sensitive);
  addLogSecrets(bound.sensitive);
  const warn = (message: string): void => void ctx.stderr.write(`Warning: ${message}\n`);
  const location = resolveStateLocation({ state: f.state, workspace: f.workspace, template: templateRef(template, ctx.cwd), env: ctx.env, cwd: ctx.cwd });
  let state: StateManager;
  try {
    // A wait for a held lock says so, in the run's output (as Terraform's "Acquiring state lock").
    const onProgress = (message: string): void => (ui.write ? runUi.say(message) : void ctx.stderr.write(`${message}\n`));
    state = await openState(location, { lock: f.lock, lockTimeoutMs: f['lock-timeout'] ?? 0, onWarning: warn, write: ui.write, signal: ctx.signal, onProgress, lease: ui.lease });
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
    location,
    ignore,
    snapshotsOff: settings.snapshots === false,
    rmCommand: (name) => stateRmCommand(location, name),
    context,
    stepContext: (b, signal) => ({ ...context, ui: runUi.build(b.name, indexOf.get(b.name) ?? 0), signal, buildName: b.name, builderType: b.builderType }),
    say: (name, message) => runUi.build(name, indexOf.get(name) ?? 0).say(message),
    replace: (name) => matchesAny(name, replaceGlobs),
    async close() {
      input?.close();
      try {
        await state.close();
      } finally {
        await components.close();
      }
    },
  };
}

/**
 * `ignore_changes` and `snapshots` of `builder.hcl` in the template's folder — builder's own
 * settings file, beside the Packer template so that nothing new goes into `.pkr.hcl` files Packer
 * would refuse:
 *
 *     ignore_changes = ["source.amazon-ebs.base.ami_name"]
 *     snapshots      = false   # no per-step snapshots (docker), as -snapshots=false
 *
 * Absent file: nothing ignored, snapshots on. A file that does not parse, an ignore_changes that
 * is not a list of strings, or a snapshots that is not a bool, is a user error naming the place.
 */
function readSettings(templateRoot: string, cwd: string): { ignore: string[]; snapshots?: boolean } {
  const ignore = settingsIgnore(templateRoot, cwd);
  const snap = ignore.snapshotsAttr;
  if (!snap) return { ignore: ignore.list };
  const v = evaluate(snap.expr, null);
  if (v.diagnostics.length > 0 || v.value.unknown || typeof v.value.raw !== 'boolean') {
    throw new UserError('SETTINGS_INVALID', `${placeString(snap.expr.range)}: snapshots in ${ignore.file} must be true or false.`);
  }
  return { ignore: ignore.list, snapshots: v.value.raw };
}

function settingsIgnore(templateRoot: string, cwd: string): { list: string[]; file: string; snapshotsAttr?: { expr: Parameters<typeof evaluate>[0] } } {
  const file = join(resolve(cwd, templateRoot), 'builder.hcl');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { list: [], file };
    throw userSystemError(err, 'read', file, 'Check its permissions.');
  }
  const { file: parsed, diagnostics } = parseConfig(text, file);
  const attrs = bodyJustAttributes(parsed.body);
  const problems = [...diagnostics, ...attrs.diagnostics].filter((d) => d.severity === 'error');
  const attr = attrs.attributes.get('ignore_changes');
  const value = attr ? evaluate(attr.expr, null) : undefined;
  if (value && value.diagnostics.length > 0) problems.push(...value.diagnostics);
  const list = value && !value.value.unknown && !value.value.isNull && value.value.isSequence ? value.value.elements() : undefined;
  if (problems.length === 0 && attr && (!list || list.some((v) => typeof v.raw !== 'string' || v.unknown))) {
    throw new UserError('SETTINGS_INVALID', `${placeString(attr.expr.range)}: ignore_changes in ${file} must be a list of strings.`);
  }
  if (problems.length > 0) {
    const d = problems[0]!;
    throw new UserError('SETTINGS_INVALID', `${d.subject ? `${placeString(d.subject)}: ` : ''}${d.summary}${d.detail ? `: ${d.detail}` : ''} (in ${file}).`);
  }
  const snapshotsAttr = attrs.attributes.get('snapshots');
  return { list: (list ?? []).map((v) => v.raw as string), file, ...(snapshotsAttr ? { snapshotsAttr } : {}) };
}

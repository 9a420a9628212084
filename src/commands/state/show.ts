/**
 * `builder state show [-json] [TEMPLATE] [BUILD]`: the state (a summary of every build) or one
 * build in detail, for people; `-json` prints the raw record instead. With TEMPLATE, only that
 * template's builds, by their names in it.
 */
import type { Command } from '../../cli/command.js';
import { parseFlags } from '../../cli/flags.js';
import { UsageError } from '../../errors.js';
import { encodeStateIndented } from '../../state/format.js';
import { StateNotFoundError } from '../../state/errors.js';
import { recordedPlan, recordedPlanText } from '../../plan/recorded.js';
import type { StateManager } from '../../state/manager.js';
import type { BuildState, StepState } from '../../state/types.js';
import { holderState } from '../../state/lock-holder.js';
import { buildKey } from '../../state/identity.js';
import { describeInstance, isRunning } from './describe.js';
import { findBuild, locate, openState, STATE_FLAG_HELP, stateFlag, TEMPLATE_ARGUMENT_HELP } from './options.js';

export const stateShowCommand: Command = {
  name: ['state', 'show'],
  synopsis: 'Show the state, or one build in it',
  usage:
    'Usage: builder state show [options] [TEMPLATE] [BUILD]\n\n' +
    '  Shows the state: its serial, lineage and a line per build; with BUILD, that build in detail\n' +
    '  (its instance, every step with status, attempts and error, and its artifacts).\n\n' +
    `${TEMPLATE_ARGUMENT_HELP}\n\n` +
    `Options:\n\n  -json                  Print the raw JSON instead.\n${STATE_FLAG_HELP}`,
  async run(args, ctx) {
    const { flags, args: positional } = parseFlags(args, { ...stateFlag, json: { kind: 'bool' } });
    const { location, rest } = locate(flags, positional, ctx);
    if (rest.length > 1) throw new UsageError(`state show takes at most one build, got ${rest.length}`);
    const m = await openState(location, ctx);
    if (!m.exists) throw new StateNotFoundError(m.location);
    const key = rest[0];
    // A build a live run holds is running: its instance is in use, not kept.
    const live = flags.json ? [] : (await m.locks()).filter((l) => holderState(l) !== 'dead');
    const running = (name: string, b: BuildState): boolean => isRunning(b, m.template === undefined ? name : buildKey(m.template, name), live);
    if (key === undefined) {
      ctx.stdout.write(flags.json ? encodeStateIndented(m.snapshot()) : describeState(m, location.workspace, running));
      return 0;
    }
    const found = findBuild(m, key);
    const build = m.build(found)!;
    ctx.stdout.write(flags.json ? `${JSON.stringify(build, null, 2)}\n` : describeBuild(key, build, running(found, build)));
    return 0;
  },
};

/** The state's summary; a manager scoped to a template shows that template's builds only. */
function describeState(m: StateManager, workspace: string, running: (key: string, b: BuildState) => boolean): string {
  const s = m.snapshot();
  const lines = [
    `State:    ${m.location}`,
    `Serial:   ${s.serial}`,
    `Lineage:  ${s.lineage}`,
    `Workspace: ${workspace}`,
    `Written by builder ${s.builder_version || 'unknown'} (Packer language ${s.packer_version || 'unknown'})`,
  ];
  const own = m.template === undefined ? undefined : m.templateRecord();
  if (m.template !== undefined) lines.push(`Template: ${own?.path || m.template} (id ${m.template})`);
  else for (const [id, t] of Object.entries(s.templates).sort()) lines.push(`Template: ${id} (last run as ${t.path || 'unknown'})`);
  if (s.last_run) lines.push(`Last run: ${s.last_run.run_uuid} (${s.last_run.started_at}${s.last_run.completed_at ? ` to ${s.last_run.completed_at}` : ', not finished'})`);
  const keys = m.buildKeys().sort();
  lines.push('', keys.length === 0 ? 'No builds.' : `Builds (${keys.length}):`);
  const width = Math.max(0, ...keys.map((k) => k.length));
  for (const k of keys) lines.push(`  ${k.padEnd(width)}  ${summary(m.build(k)!, running(k, m.build(k)!))}`);
  return `${lines.join('\n')}\n`;
}

function summary(b: BuildState, running: boolean): string {
  const steps = [...b.provisioners, ...b.post_processors];
  const done = steps.filter((p) => p.status === 'complete' || p.status === 'skipped').length;
  let text = `${running ? `${b.status} (running now)` : b.status}, ${done}/${steps.length} steps done`;
  if (b.instance?.keep_on_failure && !running) text += `, kept ${describeInstance(b.instance)}`;
  if (b.error) text += ` — ${firstLine(b.error)}`;
  return text;
}

function firstLine(s: string): string {
  const line = s.split('\n')[0]!;
  return line.length > 100 ? `${line.slice(0, 99)}…` : line;
}

function describeSteps(title: string, steps: readonly StepState[]): string[] {
  if (steps.length === 0) return [`  ${title}: none`];
  const lines = [`  ${title}:`];
  steps.forEach((p, i) => {
    const label = p.name ? `${p.type} "${p.name}"` : p.type;
    let line = `    ${String(i + 1).padStart(2)}. ${label.padEnd(24)} ${p.status.padEnd(9)}`;
    if (p.attempts > 0) line += ` ${p.attempts} attempt${p.attempts === 1 ? '' : 's'}`;
    if (p.started_at) line += `, ${p.started_at}${p.ended_at ? ` to ${p.ended_at}` : ''}`;
    lines.push(line);
    if (p.error) lines.push(`        error: ${firstLine(p.error)}`);
  });
  return lines;
}

function describeBuild(key: string, b: BuildState, running: boolean): string {
  const lines = [`Build ${key}`, `  Status:      ${b.status}${running ? ' (running now)' : ''}${b.error ? ` — ${firstLine(b.error)}` : ''}`];
  if (b.started_at) lines.push(`  Started:     ${b.started_at}`);
  if (b.completed_at) lines.push(`  Completed:   ${b.completed_at}`);
  if (b.fingerprint) lines.push(`  Fingerprint: ${b.fingerprint}`);
  if (b.instance) {
    const i = b.instance;
    const kept = i.keep_on_failure && !running;
    lines.push(`  Instance:    ${kept ? 'kept ' : ''}${describeInstance(i)}, created ${i.created_at || 'at an unknown time'}`);
    lines.push(`               id ${i.id} (builder ${i.builder_id}${i.provider ? `, ${i.provider}` : ''})`);
    if (running) lines.push('               in use by the run that is building it now');
    else if (kept) lines.push('               kept after a failure: the next run resumes on it');
    for (const [k, v] of Object.entries(i.metadata)) lines.push(`               ${k} = ${JSON.stringify(v)}`);
  } else {
    lines.push('  Instance:    none');
  }
  lines.push(...describeSteps('Provisioners', b.provisioners), ...describeSteps('Post-processors', b.post_processors));
  if (b.artifacts.length === 0) lines.push('  Artifacts: none');
  else {
    lines.push('  Artifacts:');
    for (const a of b.artifacts) {
      lines.push(`    ${a.id} (${a.builder_id})${a.files.length ? `: ${a.files.join(', ')}` : ''}`);
    }
  }
  // The planner's answer, on the record with the template unchanged (as `build` would plan it);
  // nothing to plan while a run is building it.
  if (!running) lines.push(`  ${recordedPlanText(recordedPlan(key, b))}`);
  return `${lines.join('\n')}\n`;
}

/**
 * What the `shell-local` provisioner and post-processor share (Packer's common/shell-local):
 * the configuration, its validation with Packer's messages, and running it.
 *
 * Running: inline commands are written to a temporary script (`packer-shell…` in a 0700 folder
 * of this process in the temp folder, see src/sdk/temp-scripts.ts; mode 0700, prefixed with `#!` +
 * `inline_shebang`); each script is run through `execute_command` (default `["/bin/sh", "-c",
 * "{{.Vars}} {{.Script}}"]`) with `{{.Vars}}` the flattened environment (`env_var_format`, default
 * `%s='%s' `, keys sorted, single quotes escaped) and `{{.Script}}` the script path. Values are
 * always passed in the process environment, so a custom `execute_command` without `{{.Vars}}`
 * still sees them. stdout lines are step output, stderr lines are errors, as in Packer. The
 * temporary script is removed afterwards.
 *
 * Unlike Packer, with the default `execute_command` and `env_var_format` the values are passed
 * only in the environment (`{{.Vars}}` is empty) and the script path is shell-quoted: a command
 * line is readable by every user of the machine for the whole step (`ps`, /proc/PID/cmdline), and
 * a path pasted unquoted into `sh -c` runs whatever a folder name like `$(…)` says. The script sees
 * the same variables either way. A user who sets `execute_command` or `env_var_format` gets
 * Packer's behaviour exactly (their template decides what is on the command line).
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { shellQuote } from './shell-quote.js';
import { removeTempScript, writeTempScript } from '../sdk/temp-scripts.js';
import type { ConfigSpec, PrepareResult, StepContext } from './component.js';
import { runLocal } from './process.js';
import { formatArgv, log } from '../log.js';
import { renderGoTemplate } from './go-template.js';
import { asBool, asString, asStringList, asStringMap, asIntList, ConfigReader } from './config-reader.js';

export interface ShellLocalConfig {
  inline?: string[];
  scripts: string[];
  environmentVars: string[];
  env: Record<string, string>;
  envVarFormat: string;
  executeCommand: string[];
  inlineShebang: string;
  onlyOn: string[];
  tempfileExtension: string;
  useLinuxPathing: boolean;
  validExitCodes: number[];
  /** False with the default execute_command and env_var_format: values only in the environment,
   * the script path quoted (see the module comment). */
  packerCommandLine: boolean;
}

export const shellLocalConfigSpec: ConfigSpec = {
  attributes: {
    command: { type: 'string' },
    inline: { type: 'list(string)' },
    script: { type: 'string' },
    scripts: { type: 'list(string)' },
    environment_vars: { type: 'list(string)' },
    env: { type: 'map(string)' },
    env_var_format: { type: 'string' },
    execute_command: { type: 'list(string)' },
    inline_shebang: { type: 'string' },
    only_on: { type: 'list(string)' },
    tempfile_extension: { type: 'string' },
    use_linux_pathing: { type: 'bool' },
    valid_exit_codes: { type: 'any' },
    binary: { type: 'bool' },
  },
};

const SUPPORTED_OS = ['darwin', 'freebsd', 'linux', 'openbsd', 'solaris', 'windows'];

/** Node's platform name → Go's GOOS. */
export function goos(): string {
  return process.platform === 'win32' ? 'windows' : process.platform === 'sunos' ? 'solaris' : process.platform;
}

/** Packer's shell-local Validate, with its messages (pure: scripts are checked by `checkScripts`). */
export function prepareShellLocal(raw: Record<string, unknown>): PrepareResult<ShellLocalConfig> {
  const r = new ConfigReader(raw);
  const command = r.get('command', asString) ?? '';
  let inline = r.get('inline', asStringList);
  const script = r.get('script', asString) ?? '';
  let scripts = r.get('scripts', asStringList) ?? [];
  const errors = r.errors;
  const cfg: ShellLocalConfig = {
    scripts,
    environmentVars: r.get('environment_vars', asStringList) ?? [],
    env: r.get('env', asStringMap) ?? {},
    envVarFormat: r.get('env_var_format', asString) ?? '',
    executeCommand: r.get('execute_command', asStringList) ?? [],
    inlineShebang: r.get('inline_shebang', asString) ?? '',
    onlyOn: r.get('only_on', asStringList) ?? [],
    tempfileExtension: (r.get('tempfile_extension', asString) ?? '').replace(/^\./, ''),
    useLinuxPathing: r.get('use_linux_pathing', asBool) ?? false,
    validExitCodes: r.get('valid_exit_codes', asIntList) ?? [0],
    packerCommandLine: false,
  };
  cfg.packerCommandLine = cfg.executeCommand.length > 0 || cfg.envVarFormat !== '';
  if (cfg.inlineShebang === '') cfg.inlineShebang = '/bin/sh -e';
  if (cfg.executeCommand.length === 0) cfg.executeCommand = ['/bin/sh', '-c', '{{.Vars}} {{.Script}}'];
  if (command === '' && (inline ?? []).length === 0 && scripts.length === 0 && script === '') {
    errors.push('Command, Inline, Script and Scripts options cannot all be empty.');
  }
  const tooMany =
    'You may only specify one of the following options: Command, Inline, Script or Scripts. Please consolidate these options in your config.';
  if (command !== '') {
    if ((inline ?? []).length !== 0 || scripts.length !== 0 || script !== '') errors.push(tooMany);
    else inline = [command];
  }
  if (script !== '') {
    if (scripts.length > 0 || (inline ?? []).length > 0) errors.push(tooMany);
    else scripts = [script];
  }
  if (scripts.length > 0 && inline !== undefined && command === '') errors.push(tooMany);
  cfg.scripts = scripts;
  cfg.inline = inline;
  for (const os of cfg.onlyOn) {
    if (!SUPPORTED_OS.includes(os)) {
      errors.push(`Invalid OS specified in only_on: '${os}'\nSupported OS names: ${SUPPORTED_OS.join(', ')}`);
    }
  }
  if (cfg.useLinuxPathing && (inline ?? []).length > 0) {
    errors.push(
      'Packer is unable to use the Command and Inline features with the Windows Linux Subsystem. Please use the Script or Scripts options instead',
    );
  }
  if (cfg.envVarFormat === '') cfg.envVarFormat = "%s='%s' ";
  for (const kv of cfg.environmentVars) {
    const eq = kv.indexOf('=');
    if (eq <= 0) errors.push(`Environment variable not in format 'key=value': ${kv}`);
  }
  for (const t of cfg.executeCommand) {
    const bad = renderGoTemplate(t, EXECUTE_FIELDS).error;
    if (bad) errors.push(`Error processing command: ${bad}`);
  }
  return { config: errors.length === 0 ? cfg : undefined, errors, warnings: [] };
}

/** Checks that every script exists (Packer does this in Prepare: "Bad script '…': …"). */
export async function checkScripts(cfg: ShellLocalConfig, cwd: string): Promise<string[]> {
  const errors: string[] = [];
  for (const s of cfg.scripts) {
    try {
      await stat(resolve(cwd, s));
    } catch {
      errors.push(`Bad script '${s}': stat ${s}: no such file or directory`);
    }
  }
  return errors;
}

const EXECUTE_FIELDS = { Vars: '', Script: '', Command: '', WinRMPassword: '' };

/** Runs the configuration. Throws Packer's error when a script fails or exits with a code not allowed. */
export async function runShellLocal(cfg: ShellLocalConfig, ctx: StepContext, envName: { buildName: string; builderType: string }): Promise<void> {
  if (cfg.onlyOn.length > 0 && !cfg.onlyOn.includes(goos())) {
    ctx.ui.say('Skipping shell-local due to runtime OS');
    return;
  }
  let tempFile: string | undefined;
  const scripts = [...cfg.scripts];
  try {
    if (scripts.length === 0 && cfg.inline) {
      const body = `${cfg.inlineShebang ? `#!${cfg.inlineShebang}\n` : ''}${cfg.inline.map((c) => `${c}\n`).join('')}`;
      tempFile = writeTempScript(body, cfg.tempfileExtension);
      scripts.push(tempFile);
    }
    const vars = flattenEnvVars(cfg, envName);
    for (const script of scripts) {
      // Packer shows the script as given but runs it by its absolute path.
      const abs = resolve(ctx.cwd, script);
      const fields = cfg.packerCommandLine
        ? { Vars: vars.flat, Script: abs, Command: abs, WinRMPassword: '' }
        : { Vars: '', Script: shellQuote(abs), Command: shellQuote(abs), WinRMPassword: '' };
      const argv = cfg.executeCommand.map((t) => renderGoTemplate(t, fields).text);
      ctx.ui.say(`Running local shell script: ${script}`);
      if (log.on) log.debug('shell-local', `starting local command: ${formatArgv(argv)} (in ${ctx.cwd})`);
      let result;
      try {
        result = await runLocal(
          {
            argv,
            cwd: ctx.cwd,
            env: { ...ctx.env, ...vars.map },
            onStdout: (line) => ctx.ui.message(line),
            onStderr: (line) => ctx.ui.error(line),
            whenWritable: () => ctx.ui.whenWritable?.(),
          },
          ctx.signal,
        );
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        throw new Error(`Error executing script: ${script}\n\nPlease see output above for more information.`);
      }
      if (log.on) log.debug('shell-local', `local command exited with status ${result.exitStatus}: ${formatArgv(argv)}`);
      if (!cfg.validExitCodes.includes(result.exitStatus)) {
        throw new Error(`Script exited with non-zero exit status: ${result.exitStatus}.Allowed exit codes are: [${cfg.validExitCodes.join(' ')}]`);
      }
    }
  } finally {
    if (tempFile) removeTempScript(tempFile);
  }
}

/** Packer's createFlattenedEnvVars: PACKER_BUILD_NAME, PACKER_BUILDER_TYPE, environment_vars and
 * env, sorted by key, each written with env_var_format (single quotes escaped as '"'"'). */
export function flattenEnvVars(
  cfg: Pick<ShellLocalConfig, 'environmentVars' | 'env' | 'envVarFormat'>,
  names: { buildName: string; builderType: string },
): { flat: string; map: Record<string, string> } {
  const map: Record<string, string> = { PACKER_BUILD_NAME: names.buildName, PACKER_BUILDER_TYPE: names.builderType };
  for (const kv of cfg.environmentVars) {
    const eq = kv.indexOf('=');
    map[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  Object.assign(map, cfg.env);
  const flat = Object.keys(map)
    .sort()
    .map((k) => sprintfPair(cfg.envVarFormat, k, map[k]!.replaceAll("'", `'"'"'`)))
    .join('');
  return { flat, map };
}

/** Go's fmt.Sprintf for a format with two %s verbs (env_var_format). */
function sprintfPair(format: string, key: string, value: string): string {
  const args = [key, value];
  let i = 0;
  return format.replace(/%[sv%]/g, (m) => (m === '%%' ? '%' : (args[i++] ?? '%!s(MISSING)')));
}

/** The local scripts a shell-local step reads (relative to the working folder, as configured),
 * for fingerprints: the provisioner and the post-processor declare the same files. */
export function shellLocalInputFiles(config: ShellLocalConfig): string[] {
  return [...config.scripts];
}

/**
 * The `shell` provisioner: runs scripts on the machine being built, over the communicator
 * (Packer's provisioner/shell).
 *
 * For each script (inline commands become a local temp script `$TMPDIR/packer-shell…` starting with
 * `#!` + inline_shebang), in one retried unit (start_retry_timeout, 2 s between attempts, as in
 * Packer, so a reboot between upload and run is survived): upload it to remote_path, `chmod 0755`
 * it, and run execute_command (default `chmod +x {{.Path}}; {{.Vars}} {{.Path}}`). `{{.Vars}}` is the
 * environment (PACKER_BUILD_NAME, PACKER_BUILDER_TYPE, environment_vars, env; sorted by name; each
 * written with env_var_format, default `%s='%s' `, the value's single quotes escaped as '"'"'),
 * `{{.Path}}` the remote path, `{{.EnvVarFile}}` the uploaded variables file with
 * use_env_var_file. Line endings are converted to "\n" unless `binary`. stdout lines are step
 * output, stderr lines are errors. A dropped connection fails the step unless expect_disconnect;
 * an exit status outside valid_exit_codes (default [0]) fails it with Packer's message. The
 * remote script is removed afterwards unless skip_clean.
 *
 * Departures from Packer: environment variable names must be shell names (Packer would paste any
 * name into the command line); the remote paths in the commands this provisioner writes itself
 * (chmod, rm) are quoted; with use_env_var_file the variables file is removed after the last
 * script, not the first (in Packer later scripts cannot source it). Over a communicator that
 * sets modes on upload and removes a file after a command's exit 0 (docker), the script is
 * uploaded as 0755 and removed by the run's own call when it exits 0 (one exec per script instead
 * of three); a script that exits 0 but cannot be removed then prints rm's error as step output
 * instead of failing the step.
 */
import { randomInt } from 'node:crypto';
import { statSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isRetryable, UserError } from '../errors.js';
import { quoteRemotePath } from '../sdk/shell-quote.js';
import { asDuration } from '../sdk/go-duration.js';
import { goFsError } from '../communicators/fs-error.js';
import { pause } from '../communicators/sleep.js';
import type { Communicator, ConfigSpec, PrepareResult, ProvisionerDef, StepContext } from '../sdk/component.js';
import { asBool, asIntList, asString, asStringList, asStringMap, ConfigReader } from '../sdk/config-reader.js';
import { renderGoTemplate } from '../sdk/go-template.js';
import { cleanOutputLine } from '../sdk/process.js';
import { flattenEnvVars } from '../sdk/shell-local.js';
import { writeTempScript } from '../sdk/temp-scripts.js';
import { goDuration } from '../ui/go-duration.js';

export interface ShellConfig {
  /** Inline commands; undefined when scripts are used. */
  inline?: string[];
  /** Local script paths as written in the template. */
  scripts: string[];
  binary: boolean;
  environmentVars: string[];
  env: Record<string, string>;
  envVarFormat: string;
  executeCommand: string;
  inlineShebang: string;
  remoteFolder: string;
  /** Unset: a random `script_NNNN.sh` is chosen when the step runs (Packer picks it at prepare
   * time; choosing it later keeps the prepared config, and so its fingerprint, stable). */
  remoteFile?: string;
  remotePath?: string;
  useEnvVarFile: boolean;
  expectDisconnect: boolean;
  skipClean: boolean;
  startRetryTimeoutMs: number;
  pauseAfterMs: number;
  validExitCodes: number[];
}

/** Packer's exit status for "the remote side disconnected" (packersdk.CmdDisconnect). */
export const CMD_DISCONNECT = 2300218;
const RETRY_DELAY_MS = 2000;

const s = { type: 'string' } as const;
const b = { type: 'bool' } as const;
export const shellConfigSpec: ConfigSpec = {
  attributes: {
    inline: { type: 'list(string)' },
    script: s,
    scripts: { type: 'list(string)' },
    binary: b,
    environment_vars: { type: 'list(string)' },
    env: { type: 'map(string)' },
    env_var_format: s,
    execute_command: s,
    inline_shebang: s,
    remote_folder: s,
    remote_file: s,
    remote_path: s,
    use_env_var_file: b,
    expect_disconnect: b,
    skip_clean: b,
    start_retry_timeout: s,
    pause_after: s,
    valid_exit_codes: { type: 'any' },
  },
};

const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function prepareShell(raw: Record<string, unknown>): PrepareResult<ShellConfig> {
  const r = new ConfigReader(raw);
  const errors = r.errors;
  const useEnvVarFile = r.get('use_env_var_file', asBool) ?? false;
  let inline = r.get('inline', asStringList);
  if (inline !== undefined && inline.length === 0) inline = undefined;
  const script = r.get('script', asString) ?? '';
  let scripts = r.get('scripts', asStringList) ?? [];
  const config: ShellConfig = {
    inline,
    scripts,
    binary: r.get('binary', asBool) ?? false,
    environmentVars: r.get('environment_vars', asStringList) ?? [],
    env: r.get('env', asStringMap) ?? {},
    envVarFormat: r.get('env_var_format', asString) || (useEnvVarFile ? "export %s='%s'\n" : "%s='%s' "),
    executeCommand:
      r.get('execute_command', asString) ||
      (useEnvVarFile ? 'chmod +x {{.Path}}; . {{.EnvVarFile}} && {{.Path}}' : 'chmod +x {{.Path}}; {{.Vars}} {{.Path}}'),
    inlineShebang: r.get('inline_shebang', asString) || '/bin/sh -e',
    remoteFolder: r.get('remote_folder', asString) || '/tmp',
    remoteFile: r.get('remote_file', asString) || undefined,
    remotePath: r.get('remote_path', asString) || undefined,
    useEnvVarFile,
    expectDisconnect: r.get('expect_disconnect', asBool) ?? false,
    skipClean: r.get('skip_clean', asBool) ?? false,
    startRetryTimeoutMs: r.get('start_retry_timeout', asDuration) || 5 * 60_000,
    pauseAfterMs: r.get('pause_after', asDuration) ?? 0,
    validExitCodes: r.get('valid_exit_codes', asIntList) ?? [0],
  };
  if (script !== '' && scripts.length > 0) errors.push('Only one of script or scripts can be specified.');
  if (script !== '') scripts = [script];
  config.scripts = scripts;
  if (scripts.length === 0 && inline === undefined) errors.push('Either a script file or inline script must be specified.');
  else if (scripts.length > 0 && inline !== undefined) errors.push('Only a script file or an inline script can be specified, not both.');
  for (const path of scripts) {
    try {
      statSync(path);
    } catch (err) {
      errors.push(`Bad script '${path}': ${goFsError('stat', path, err)}`);
    }
  }
  for (const kv of config.environmentVars) {
    const eq = kv.indexOf('=');
    if (eq <= 0) errors.push(`Environment variable not in format 'key=value': ${kv}`);
    else if (!SHELL_NAME.test(kv.slice(0, eq))) errors.push(`Environment variable name is not a valid shell variable name: ${kv.slice(0, eq)}`);
  }
  for (const name of Object.keys(config.env)) {
    if (!SHELL_NAME.test(name)) errors.push(`Environment variable name is not a valid shell variable name: ${name}`);
  }
  const bad = renderGoTemplate(config.executeCommand, { Vars: '', EnvVarFile: '', Path: '' }).error;
  if (bad !== undefined) errors.push(`Error processing command: ${bad}`);
  return errors.length > 0 ? { errors, warnings: [] } : { config, errors, warnings: [] };
}

/** Packer's UnixReader: every line ends in "\n" alone (a trailing "\r" is dropped, a last line
 * without "\n" gets one). */
export function toUnixLineEndings(text: Buffer): Buffer {
  if (text.length === 0) return text;
  const lines = text.toString('latin1').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return Buffer.from(lines.map((l) => `${l.endsWith('\r') ? l.slice(0, -1) : l}\n`).join(''), 'latin1');
}

/** Runs `fn` until it succeeds, retrying every 2 s until `timeoutMs` has passed since the first
 * attempt (Packer's retry.Config{StartTimeout}); returns the last error. A UserError (e.g. "Upload
 * is not implemented when communicator = 'none'") is not retried. */
async function retryUntil<T>(timeoutMs: number, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      return await fn();
    } catch (err) {
      if (signal.aborted || !isRetryable(err) || Date.now() >= deadline) throw err;
      await pause(RETRY_DELAY_MS, signal);
    }
  }
}

/** Writes inline commands as Packer does (`packer-shell` + random digits), in this process's 0700
 * temp-script folder (src/sdk/temp-scripts.ts), readable only by the owner. */
async function writeInlineScript(body: string): Promise<string> {
  return writeTempScript(body, '', 0o600);
}

/** Runs a command whose output is not shown; resolves to its exit status (undefined: dropped). */
async function runQuiet(comm: Communicator, command: string, signal: AbortSignal): Promise<number | undefined> {
  return (await comm.start({ command }, signal)).exitStatus;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function removeRemoteFile(comm: Communicator, path: string, config: ShellConfig, signal: AbortSignal): Promise<void> {
  await retryUntil(config.startRetryTimeoutMs, signal, async () => {
    let status: number | undefined;
    try {
      status = await runQuiet(comm, `rm -f ${quoteRemotePath(path)}`, signal);
    } catch (err) {
      throw new Error(`Error removing temporary script at ${path}: ${messageOf(err)}`);
    }
    if (status === undefined) throw new Error('Disconnect while removing temporary script.');
    if (status !== 0) throw new Error(`Error removing temporary script at ${path}!`);
  });
}

function checkExit(config: ShellConfig, result: { exitStatus?: number; disconnected: boolean }): void {
  if (result.disconnected || result.exitStatus === undefined) {
    if (config.expectDisconnect || config.validExitCodes.includes(CMD_DISCONNECT)) return;
    throw new UserError(
      'SCRIPT_DISCONNECTED',
      'Script disconnected unexpectedly. If you expected your script to disconnect, i.e. from a restart, ' +
        'you can try adding `"expect_disconnect": true` or `"valid_exit_codes": [0, 2300218]` to the shell provisioner parameters.',
    );
  }
  if (!config.validExitCodes.includes(result.exitStatus)) {
    throw new UserError(
      'SCRIPT_EXIT_STATUS',
      // Packer 1.6.6's wording, without a space after the first sentence (the reference output).
      `Script exited with non-zero exit status: ${result.exitStatus}.Allowed exit codes are: [${config.validExitCodes.join(' ')}]`,
    );
  }
}

async function runShell(config: ShellConfig, ctx: StepContext & { comm?: Communicator }): Promise<void> {
  const comm = ctx.comm;
  if (comm === undefined) throw new UserError('NO_COMMUNICATOR', 'The shell provisioner needs a communicator, but this build has none.');
  const { signal, ui } = ctx;
  const remotePath = config.remotePath ?? `${config.remoteFolder}/${config.remoteFile ?? `script_${randomInt(9999)}.sh`}`;
  const scripts = config.scripts.map((path) => ({ shown: path, local: resolve(ctx.cwd, path) }));
  let inlineFile: string | undefined;
  try {
    if (config.inline !== undefined) {
      inlineFile = await writeInlineScript(`#!${config.inlineShebang}\n${config.inline.map((c) => `${c}\n`).join('')}`);
      scripts.push({ shown: inlineFile, local: inlineFile });
    }
    const vars = flattenEnvVars(config, { buildName: ctx.env.PACKER_BUILD_NAME ?? '', builderType: ctx.env.PACKER_BUILDER_TYPE ?? ctx.builderType });

    let envVarFile = '';
    if (config.useEnvVarFile) {
      const remoteVarFile = `${config.remoteFolder}/varfile_${randomInt(9999)}.sh`;
      const content = Buffer.from(vars.flat);
      await retryUntil(config.startRetryTimeoutMs, signal, async () => {
        try {
          await comm.upload(remoteVarFile, config.binary ? content : toUnixLineEndings(content), undefined, signal);
        } catch (err) {
          if (!isRetryable(err)) throw err;
          throw new Error(`Error uploading envVarFile: ${messageOf(err)}`);
        }
        await runQuiet(comm, `chmod 0600 ${quoteRemotePath(remoteVarFile)}`, signal);
      });
      envVarFile = remoteVarFile;
    }

    const command = renderGoTemplate(config.executeCommand, { Vars: vars.flat, EnvVarFile: envVarFile, Path: remotePath }).text;
    for (const script of scripts) {
      ui.say(`Provisioning with shell script: ${script.shown}`);
      let body: Buffer;
      try {
        body = await readFile(script.local);
      } catch (err) {
        throw new UserError('SHELL_SCRIPT', `Error opening shell script: ${goFsError('open', script.shown, err)}`);
      }
      if (!config.binary) body = toUnixLineEndings(body);
      // Fewer round trips where the communicator allows (docker: each exec costs a process
      // launch in the container): the upload sets 0755 itself, and the run removes the script
      // after an exit 0 — what the separate chmod and rm would have done.
      const removedBySuccess = comm.removesAfterSuccess === true && !config.skipClean;
      const result = await retryUntil(config.startRetryTimeoutMs, signal, async () => {
        try {
          await comm.upload(remotePath, body, comm.uploadSetsMode ? 0o755 : undefined, signal);
        } catch (err) {
          if (!isRetryable(err)) throw err;
          throw new Error(`Error uploading script: ${messageOf(err)}`);
        }
        if (!comm.uploadSetsMode) {
          const chmod = await runQuiet(comm, `chmod 0755 ${quoteRemotePath(remotePath)}`, signal);
          if (chmod === undefined) throw new Error('Error chmodding script file to 0755 in remote machine: disconnected');
        }
        return comm.start(
          {
            command,
            onStdout: (line) => ui.message(cleanOutputLine(line)),
            onStderr: (line) => ui.error(cleanOutputLine(line)),
            ...(removedBySuccess ? { removeAfterSuccess: remotePath } : {}),
          },
          signal,
        );
      });
      checkExit(config, result);
      if (!config.skipClean && !(removedBySuccess && result.exitStatus === 0)) await removeRemoteFile(comm, remotePath, config, signal);
    }
    // Packer removes the variables file after the first script, so later scripts cannot source it;
    // here it goes once every script has run.
    if (!config.skipClean && envVarFile !== '') await removeRemoteFile(comm, envVarFile, config, signal);
  } finally {
    if (inlineFile !== undefined) await rm(inlineFile, { force: true });
  }
  if (config.pauseAfterMs > 0) {
    ui.say(`Pausing ${goDuration(config.pauseAfterMs)} after this provisioner...`);
    await pause(config.pauseAfterMs, signal);
  }
}

export const shellProvisioner = {
  type: 'shell',
  configSpec: shellConfigSpec,
  prepare: prepareShell,
  run: runShell,
  /** The local scripts the step uploads (absolute paths). */
  inputFiles(config: ShellConfig): string[] {
    return config.scripts.map((path) => resolve(path));
  },
} satisfies ProvisionerDef<ShellConfig>;


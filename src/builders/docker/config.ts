/**
 * The docker builder's configuration: Packer's option names, defaults and `prepare` messages
 * (builder/docker/config.go), plus what builder adds (`platform`).
 *
 * Contracts:
 * - exactly one of `commit`, `export_path`, `discard`;
 * - `pull` defaults to true, `fix_upload_owner` to true, `container_dir` to `/packer-files`,
 *   `run_command` to `["-d", "-i", "-t", "--entrypoint=/bin/sh", "--", "{{.Image}}"]`;
 * - `changes` may use the instructions `docker commit --change` accepts (CMD, ENTRYPOINT, ENV,
 *   EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR); others are refused here rather than by the
 *   engine after the whole build ran;
 * - `run_command` is read into the container's create options (see run-command.ts); a flag builder
 *   cannot express through the API is refused here;
 * - `ecr_login`, `windows_container` and a communicator other than `docker` are refused with a
 *   clear "not supported".
 */
import { statSync } from 'node:fs';
import type { ConfigSpec, PrepareResult } from '../../sdk/component.js';
import { asBool, asString, asStringList, asStringMap, ConfigReader } from '../../sdk/config-reader.js';
import { parseRunCommand, type RunOptions } from './run-command.js';

export interface DockerConfig {
  image: string;
  pull: boolean;
  commit: boolean;
  exportPath: string;
  discard: boolean;
  changes: string[];
  message: string;
  author: string;
  runCommand: string[];
  /** run_command read into create options (with `{{.Image}}` still unresolved in `image`). */
  run: RunOptions;
  /** Host path → container path. */
  volumes: Record<string, string>;
  containerDir: string;
  execUser: string;
  privileged: boolean;
  capAdd: string[];
  capDrop: string[];
  tmpfs: string[];
  device: string[];
  platform: string;
  fixUploadOwner: boolean;
  login: boolean;
  loginServer: string;
  loginUsername: string;
  /** Sensitive: never printed, logged or saved in state. */
  loginPassword: string;
}

export const DEFAULT_RUN_COMMAND = ['-d', '-i', '-t', '--entrypoint=/bin/sh', '--', '{{.Image}}'];

export const CHANGE_INSTRUCTIONS = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'USER', 'VOLUME', 'WORKDIR'];

const s = { type: 'string' } as const;
const b = { type: 'bool' } as const;
const list = { type: 'list(string)' } as const;

export const dockerConfigSpec: ConfigSpec = {
  attributes: {
    image: s,
    pull: b,
    commit: b,
    export_path: s,
    discard: b,
    changes: list,
    message: s,
    author: s,
    run_command: list,
    volumes: { type: 'map(string)' },
    container_dir: s,
    exec_user: s,
    privileged: b,
    cap_add: list,
    cap_drop: list,
    tmpfs: list,
    device: list,
    platform: s,
    fix_upload_owner: b,
    login: b,
    login_server: s,
    login_username: s,
    login_password: s,
    ecr_login: b,
    windows_container: b,
    communicator: s,
  },
};

export function prepareDocker(raw: Record<string, unknown>): PrepareResult<DockerConfig> {
  const r = new ConfigReader(raw);
  const str = (k: string): string => r.get(k, asString) ?? '';
  const strs = (k: string): string[] => r.get(k, asStringList) ?? [];
  const runCommand = strs('run_command');
  const config: Omit<DockerConfig, 'run'> = {
    image: str('image'),
    pull: r.get('pull', asBool) ?? true,
    commit: r.get('commit', asBool) ?? false,
    exportPath: str('export_path'),
    discard: r.get('discard', asBool) ?? false,
    changes: strs('changes'),
    message: str('message'),
    author: str('author'),
    runCommand: runCommand.length > 0 ? runCommand : DEFAULT_RUN_COMMAND,
    volumes: r.get('volumes', asStringMap) ?? {},
    containerDir: str('container_dir') || '/packer-files',
    execUser: str('exec_user'),
    privileged: r.get('privileged', asBool) ?? false,
    capAdd: strs('cap_add'),
    capDrop: strs('cap_drop'),
    tmpfs: strs('tmpfs'),
    device: strs('device'),
    platform: str('platform'),
    fixUploadOwner: r.get('fix_upload_owner', asBool) ?? true,
    login: r.get('login', asBool) ?? false,
    loginServer: str('login_server'),
    loginUsername: str('login_username'),
    loginPassword: str('login_password'),
  };
  const errors = r.errors;
  const communicator = str('communicator') || 'docker';
  if (communicator !== 'docker') errors.push(`communicator "${communicator}" is not supported by builder's docker builder; remove it to use the docker communicator (commands run through the Engine API)`);
  if (r.get('windows_container', asBool) === true) errors.push('windows_container is not supported by builder\'s docker builder (Linux containers only)');
  if (r.get('ecr_login', asBool) === true) {
    errors.push('ecr_login is not supported by builder\'s docker builder (it has no AWS ECR client); pull the image beforehand or use login with an ECR token as login_password');
  }
  if (config.image === '') errors.push('Image must be specified');
  const chosen = [config.commit, config.exportPath !== '', config.discard].filter(Boolean).length;
  if (chosen > 1) errors.push('Cannot specify more than one of commit, discard, and export_path');
  if (chosen === 0) errors.push('No instructions given for handling the artifact; expected commit, discard, or export_path');
  if (config.exportPath !== '') {
    try {
      if (statSync(config.exportPath).isDirectory()) errors.push('export_path must be a file, not a directory');
    } catch {
      // absent: it is created at the end
    }
  }
  for (const change of config.changes) {
    const word = change.trim().split(/\s+/)[0]?.toUpperCase() ?? '';
    if (!CHANGE_INSTRUCTIONS.includes(word)) {
      errors.push(`changes: "${change}" is not an instruction docker commit accepts (${CHANGE_INSTRUCTIONS.join(', ')})`);
    }
  }
  const parsed = parseRunCommand(config.runCommand);
  errors.push(...parsed.errors);
  return { config: errors.length === 0 ? { ...config, run: parsed.options } : undefined, errors, warnings: [] };
}

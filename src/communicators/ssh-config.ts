/**
 * The `ssh` communicator's configuration: its schema, and `prepareSshConfig`, which applies
 * Packer's defaults and validation (packer-plugin-sdk communicator.Config.prepareSSH):
 * ssh_port 22; ssh_timeout 5m and ssh_handshake_attempts 10 when neither is set;
 * ssh_keep_alive_interval 5s; ssh_file_transfer_method scp; the bastion port 22 and the bastion
 * key defaulting to ssh_private_key_file.
 *
 * Host keys are not checked by default, as in Packer (its client uses InsecureIgnoreHostKey). An
 * extension, `ssh_host_key_policy = "strict"`, checks them against `ssh_known_hosts_file`
 * (default ~/.ssh/known_hosts) for the target and the bastion.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as Ssh2 from 'ssh2';
import type { ConfigSpec, PrepareResult } from '../sdk/component.js';
import { asBool, asInt, asString, asStringList, ConfigReader } from '../sdk/config-reader.js';
import { goFsError } from './fs-error.js';
import { asDuration } from '../sdk/go-duration.js';

/** ssh2 (about 60 ms to load) is required only to check a configured private key file. */
const requireSsh2 = (): typeof Ssh2 => createRequire(import.meta.url)('ssh2') as typeof Ssh2;

export interface SshBastionConfig {
  host: string;
  port: number;
  username: string;
  password?: string;
  /** Expanded path (`~` resolved). */
  privateKeyFile?: string;
  agentAuth: boolean;
}

export interface SshConfig {
  /** May be empty when the builder supplies the host at connect time. */
  host: string;
  port: number;
  username: string;
  password?: string;
  /** Expanded path (`~` resolved). */
  privateKeyFile?: string;
  agentAuth: boolean;
  /** Milliseconds; 0 means no overall limit. */
  timeoutMs: number;
  /** 0 means unlimited (until the timeout). */
  handshakeAttempts: number;
  /** Milliseconds; 0 or less disables keep-alives. */
  keepAliveMs: number;
  pty: boolean;
  fileTransferMethod: 'scp' | 'sftp';
  disableAgentForwarding: boolean;
  pauseBeforeConnectingMs: number;
  ciphers?: string[];
  keyExchangeAlgorithms?: string[];
  bastion?: SshBastionConfig;
  /** "ignore" (Packer's behaviour) or "strict". */
  hostKeyPolicy: 'ignore' | 'strict';
  /** Expanded path; used with the strict policy. */
  knownHostsFile: string;
}

const str = { type: 'string' } as const;
const num = { type: 'number' } as const;
const bool = { type: 'bool' } as const;
const strList = { type: 'list(string)' } as const;

/** The attributes the ssh communicator reads from a source block. */
export const sshConfigSpec: ConfigSpec = {
  attributes: {
    communicator: str,
    pause_before_connecting: str,
    ssh_host: str,
    ssh_port: num,
    ssh_username: str,
    ssh_password: str,
    ssh_private_key_file: str,
    ssh_agent_auth: bool,
    ssh_timeout: str,
    ssh_wait_timeout: str,
    ssh_handshake_attempts: num,
    ssh_keep_alive_interval: str,
    ssh_pty: bool,
    ssh_file_transfer_method: str,
    ssh_disable_agent_forwarding: bool,
    ssh_ciphers: strList,
    ssh_key_exchange_algorithms: strList,
    ssh_bastion_host: str,
    ssh_bastion_port: num,
    ssh_bastion_username: str,
    ssh_bastion_password: str,
    ssh_bastion_private_key_file: str,
    ssh_bastion_agent_auth: bool,
    ssh_host_key_policy: str,
    ssh_known_hosts_file: str,
  },
};

/** Expands a leading `~` to the current user's home directory (Packer's pathing.ExpandUser). */
export function expandUser(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return path;
}

/** Checks that a private key file exists and parses; returns Packer's error text or undefined. */
function checkKeyFile(attr: string, path: string): string | undefined {
  try {
    statSync(path);
  } catch (err) {
    return `${attr} is invalid: ${goFsError('stat', path, err)}`;
  }
  try {
    const parsed = requireSsh2().utils.parseKey(readFileSync(path));
    if (parsed instanceof Error) return `${attr} is invalid: Error parsing SSH private key file ${path}: ${parsed.message}`;
  } catch (err) {
    return `${attr} is invalid: ${goFsError('open', path, err)}`;
  }
  return undefined;
}

export function prepareSshConfig(raw: Record<string, unknown>): PrepareResult<SshConfig> {
  const r = new ConfigReader(raw);
  const errors = r.errors;
  const warnings: string[] = [];

  const port = r.get('ssh_port', asInt) ?? 0;
  let timeoutMs = r.get('ssh_timeout', asDuration) ?? 0;
  let handshakeAttempts = r.get('ssh_handshake_attempts', asInt) ?? 0;
  // Packer sets both defaults only when neither is set.
  if (timeoutMs === 0 && handshakeAttempts === 0) {
    timeoutMs = 5 * 60_000;
    handshakeAttempts = 10;
  }
  const waitTimeout = r.get('ssh_wait_timeout', asDuration);
  if (waitTimeout !== undefined && waitTimeout !== 0) {
    timeoutMs = waitTimeout;
    warnings.push('ssh_wait_timeout is deprecated; use ssh_timeout instead');
  }
  let keepAliveMs = r.get('ssh_keep_alive_interval', asDuration) ?? 0;
  if (keepAliveMs === 0) keepAliveMs = 5000;

  const method = r.get('ssh_file_transfer_method', asString) || 'scp';
  if (method !== 'scp' && method !== 'sftp') {
    errors.push(`ssh_file_transfer_method ('${method}') is invalid, valid methods: sftp, scp`);
  }

  const username = r.get('ssh_username', asString) ?? '';
  if (username === '') errors.push('An ssh_username must be specified\n  Note: some builders used to default ssh_username to "root".');

  const keyFileRaw = r.get('ssh_private_key_file', asString) || undefined;
  const privateKeyFile = keyFileRaw !== undefined ? expandUser(keyFileRaw) : undefined;
  if (privateKeyFile !== undefined) {
    const e = checkKeyFile('ssh_private_key_file', privateKeyFile);
    if (e !== undefined) errors.push(e);
  }

  let bastion: SshBastionConfig | undefined;
  const bastionHost = r.get('ssh_bastion_host', asString) || undefined;
  if (bastionHost !== undefined) {
    const bKeyRaw = r.get('ssh_bastion_private_key_file', asString) || keyFileRaw;
    bastion = {
      host: bastionHost,
      port: r.get('ssh_bastion_port', asInt) || 22,
      username: r.get('ssh_bastion_username', asString) ?? '',
      password: r.get('ssh_bastion_password', asString) || undefined,
      privateKeyFile: bKeyRaw !== undefined ? expandUser(bKeyRaw) : undefined,
      agentAuth: r.get('ssh_bastion_agent_auth', asBool) ?? false,
    };
    if (bastion.password === undefined && bastion.privateKeyFile === undefined && !bastion.agentAuth) {
      errors.push('ssh_bastion_password, ssh_bastion_private_key_file or ssh_bastion_agent_auth must be specified');
    } else if (bastion.privateKeyFile !== undefined && bastion.privateKeyFile !== privateKeyFile) {
      const e = checkKeyFile('ssh_bastion_private_key_file', bastion.privateKeyFile);
      if (e !== undefined) errors.push(e);
    }
  }

  const pauseBeforeConnectingMs = r.get('pause_before_connecting', asDuration) ?? 0;
  const hostKeyPolicy = r.get('ssh_host_key_policy', asString) || 'ignore';
  if (hostKeyPolicy !== 'ignore' && hostKeyPolicy !== 'strict') {
    errors.push(`ssh_host_key_policy ('${hostKeyPolicy}') is invalid, valid policies: ignore (the default, as in Packer: host keys are not checked), strict (host keys must be in ssh_known_hosts_file)`);
  }
  const config: SshConfig = {
    host: r.get('ssh_host', asString) ?? '',
    port: port === 0 ? 22 : port,
    username,
    password: r.get('ssh_password', asString) || undefined,
    privateKeyFile,
    agentAuth: r.get('ssh_agent_auth', asBool) ?? false,
    timeoutMs,
    handshakeAttempts,
    keepAliveMs,
    pty: r.get('ssh_pty', asBool) ?? false,
    fileTransferMethod: method === 'sftp' ? 'sftp' : 'scp',
    disableAgentForwarding: r.get('ssh_disable_agent_forwarding', asBool) ?? false,
    pauseBeforeConnectingMs,
    ciphers: r.get('ssh_ciphers', asStringList),
    keyExchangeAlgorithms: r.get('ssh_key_exchange_algorithms', asStringList),
    bastion,
    hostKeyPolicy: hostKeyPolicy === 'strict' ? 'strict' : 'ignore',
    knownHostsFile: expandUser(r.get('ssh_known_hosts_file', asString) || '~/.ssh/known_hosts'),
  };
  if (config.port < 1 || config.port > 65535) errors.push(`ssh_port ${config.port} is not a valid TCP port`);
  return errors.length > 0 ? { errors, warnings } : { config, errors, warnings };
}

/**
 * Starting a plugin process and reading its handshake.
 *
 * The parent sets the magic cookie (without it a plugin refuses to run), the port range (used for
 * tcp only) and TMPDIR (where the plugin makes its unix socket); the plugin prints one line and
 * serves on the address in it:
 * - Packer 1.x in-tree components: `API|NETWORK|ADDRESS` (`5|unix|/tmp/packer-plugin123`);
 * - SDK plugins: `MAJOR|MINOR|NETWORK|ADDRESS` (`5|0|unix|/tmp/packer-plugin123`).
 *
 * Contracts:
 * - The process is started in its own process group; `stop()` kills the whole group (plugins
 *   ignore SIGINT/SIGTERM) and removes the unix socket. It is idempotent.
 * - No plugin process outlives builder, however builder ends: the group is killed from an `exit`
 *   hook (normal exit, process.exit, uncaught exception), and it is listed, from its spawn until
 *   it is gone, with builder's watchdog (src/sdk/process.ts `watchGroup`), which kills it when
 *   builder dies by SIGKILL. That is needed: measured with Packer 1.6.6, after a SIGKILL of the
 *   parent a connected idle plugin exits within 2 s, but a plugin in a call lives on until the
 *   call ends (shell-local's command runs to its end, its side effects included) and a plugin
 *   started and not yet connected never exits.
 * - When a plugin's leader exits by itself, its group is killed too: a crashed plugin leaves no
 *   command it started behind.
 * - `startPlugin` rejects with a clear error when the process exits, prints something else, or
 *   prints nothing before `handshakeTimeoutMs` — and the process group is then already killed.
 * - stderr goes line by line to `debug` (the debug log), never to the build output.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { formatArgv, log } from '../log.js';
import { watchGroup } from '../sdk/process.js';

export const MAGIC_COOKIE_KEY = 'PACKER_PLUGIN_MAGIC_COOKIE';
export const MAGIC_COOKIE_VALUE = 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2';
export const SUPPORTED_API_MAJOR = 5;

export interface Handshake {
  apiMajor: number;
  /** Present in the four-field (SDK) form only. */
  apiMinor?: number;
  network: 'unix' | 'tcp';
  address: string;
}

/** Parses a handshake line; throws with the line when it is not one. */
export function parseHandshake(line: string): Handshake {
  const parts = line.trim().split('|');
  let major: string, minor: string | undefined, network: string, address: string;
  if (parts.length === 3) [major, network, address] = parts as [string, string, string];
  else if (parts.length === 4) [major, minor, network, address] = parts as [string, string, string, string];
  else throw new Error(`not a plugin handshake: ${JSON.stringify(line.slice(0, 200))}`);
  if (!/^\d+$/.test(major) || (minor !== undefined && !/^\d+$/.test(minor))) throw new Error(`not a plugin handshake: ${JSON.stringify(line)}`);
  if (network !== 'unix' && network !== 'tcp') throw new Error(`plugin handshake names an unknown network "${network}"`);
  if (Number(major) !== SUPPORTED_API_MAJOR) throw new Error(`the plugin speaks API version ${major}; builder speaks ${SUPPORTED_API_MAJOR}`);
  return { apiMajor: Number(major), ...(minor !== undefined ? { apiMinor: Number(minor) } : {}), network, address };
}

export interface StartOptions {
  /** Executable and arguments, e.g. ['packer', 'plugin', 'packer-provisioner-shell-local']. */
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Folder for the plugin's unix socket (TMPDIR of the plugin). */
  socketDir?: string;
  /** Receives each stderr line of the plugin. */
  debug?: (line: string) => void;
  handshakeTimeoutMs?: number;
}

export interface PluginProcess {
  pid: number;
  handshake: Handshake;
  socket: Socket;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Kills the process group and removes the socket file. */
  stop(): Promise<void>;
}

/** Process groups of plugins started and not yet exited (whatever stage they are in). */
const running = new Set<number>();
let exitHookInstalled = false;

/** Pids of the plugin processes running now. */
export function runningPluginPids(): number[] {
  return [...running];
}

/**
 * Kills every running plugin's process group when builder's process exits (normally, by
 * process.exit, or on an uncaught exception). After a SIGKILL it cannot run: the watchdog then
 * kills the groups.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of running) {
      try { process.kill(-pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  });
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
}

export async function startPlugin(opts: StartOptions): Promise<PluginProcess> {
  const env: NodeJS.ProcessEnv = {
    ...(opts.env ?? process.env),
    [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE,
    PACKER_PLUGIN_MIN_PORT: '10000',
    PACKER_PLUGIN_MAX_PORT: '25000',
  };
  if (opts.socketDir) env.TMPDIR = opts.socketDir;
  const name = [opts.command, ...opts.args].join(' ');
  installExitHook();
  const child = spawn(opts.command, [...opts.args], { env, cwd: opts.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  if (log.on) log.info('plugin', `starting plugin: ${formatArgv([opts.command, ...opts.args])} (pid ${pid ?? 'none'})`);
  if (pid !== undefined) running.add(pid);
  const unwatch = watchGroup(pid);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      if (pid !== undefined) {
        // The leader is gone; what it started goes with it (its group id cannot have been reused
        // while a member lives), then the group is no longer the watchdog's.
        try { process.kill(-pid, 'SIGKILL'); } catch { /* no member left */ }
        running.delete(pid);
      }
      unwatch();
      resolve({ code, signal });
    });
    child.on('error', () => { if (pid !== undefined) running.delete(pid); unwatch(); resolve({ code: null, signal: null }); });
  });
  let stderrTail = '';
  let pendingErr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    stderrTail = (stderrTail + s).slice(-2000);
    pendingErr += s;
    const lines = pendingErr.split('\n');
    pendingErr = lines.pop() ?? '';
    for (const l of lines) opts.debug?.(l);
  });
  let socketPath: string | undefined;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (!stopped) {
      stopped = true;
      killGroup(child);
    }
    await exited;
    if (socketPath) rmSync(socketPath, { force: true });
  };

  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`plugin "${name}" printed no handshake within ${(opts.handshakeTimeoutMs ?? 60_000) / 1000}s`)), opts.handshakeTimeoutMs ?? 60_000);
    child.stdout!.setEncoding('utf8');
    const onData = (s: string): void => {
      out += s;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(out.slice(0, nl));
      }
    };
    child.stdout!.on('data', onData);
    child.on('error', (e) => { clearTimeout(timer); reject(new Error(`cannot start plugin "${name}": ${e.message}`)); });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      const why = stderrTail.trim().split('\n').slice(-3).join('\n');
      reject(new Error(`plugin "${name}" exited (${signal ?? `code ${code}`}) before its handshake${why ? `:\n${why}` : ''}`));
    });
  }).catch(async (e: unknown) => {
    await stop();
    throw e;
  });
  // Keep draining stdout so a chatty plugin never blocks.
  child.stdout!.resume();

  let handshake: Handshake;
  try {
    handshake = parseHandshake(line);
  } catch (e) {
    await stop();
    throw new Error(`plugin "${name}": ${(e as Error).message}`);
  }
  if (handshake.network === 'unix') socketPath = handshake.address;
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = handshake.network === 'unix'
      ? createConnection(handshake.address)
      : createConnection(Number(handshake.address.split(':').pop()), handshake.address.split(':').slice(0, -1).join(':') || '127.0.0.1');
    s.once('connect', () => resolve(s));
    s.once('error', (e) => reject(new Error(`cannot connect to plugin "${name}" at ${handshake.address}: ${e.message}`)));
  }).catch(async (e: unknown) => {
    await stop();
    throw e;
  });
  if (socketPath) rmSync(socketPath, { force: true }); // connected: the path is no longer needed
  return { pid: child.pid!, handshake, socket, exited, stop };
}

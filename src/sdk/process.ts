/**
 * Runs a local command for a step. Contracts:
 * - The command is given as an argument vector (never a string pasted into a shell by us).
 * - It runs in its own process group, so that cancellation (SIGINT/SIGTERM, a provisioner
 *   `timeout`) ends its whole process tree: on abort the group gets SIGTERM, then SIGKILL after a
 *   grace period, and the promise rejects once the command is gone.
 * - The group also dies with builder, however builder ends (SIGKILL included): a watchdog — a
 *   `/bin/sh` in a process group of its own, blocked reading a pipe only builder holds open — is
 *   started beside each command. When builder dies the pipe closes, the read returns, and the
 *   watchdog sends the group SIGTERM, then SIGKILL after the grace period. When the command ends
 *   normally builder kills the watchdog (by its pid), so background processes a step leaves on
 *   purpose keep running as in Packer. (Chosen over recording the group in a file next to the
 *   state for the next run to kill: it acts at once, needs no state, so it covers stateless
 *   builds, and cannot kill a reused pid days later. Costs one `sh` per command, ~1–2 ms.)
 * - Its output is delivered line by line the way Packer's RemoteCmd does: trailing white space
 *   trimmed, only the text after the last carriage return kept; an unterminated last line counts.
 *   A line longer than MAX_LINE_CHARS is delivered in pieces of that size, so memory stays bounded
 *   whatever the command prints. Output is read with back-pressure: while `whenWritable` returns a
 *   promise (the terminal or pipe builder writes to is full), the command's pipes are not read, so
 *   a command printing faster than builder's reader reads is slowed down, not buffered in memory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { CancelledError } from '../errors.js';

export interface LocalCommand {
  argv: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  onStdout(line: string): void;
  onStderr(line: string): void;
  /** A promise while the output the lines go to is congested (see the module comment). */
  whenWritable?(): Promise<void> | undefined;
}

export interface LocalResult {
  /** The exit status; a command killed by a signal gets 128 + the signal number, like a shell. */
  exitStatus: number;
}

/** How long a cancelled process group gets between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 2000;

/** The longest line delivered in one piece (UTF-16 code units). */
export const MAX_LINE_CHARS = 64 * 1024;

/** The watchdog: $1 is the process group. `read` returns when builder's end of the pipe closes. */
const WATCHDOG = `read -r _; kill -TERM -"$1" 2>/dev/null; sleep ${KILL_GRACE_MS / 1000}; kill -KILL -"$1" 2>/dev/null`;

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

export function runLocal(cmd: LocalCommand, signal: AbortSignal): Promise<LocalResult> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortReason(signal));
      return;
    }
    const child = spawn(cmd.argv[0]!, cmd.argv.slice(1), {
      cwd: cmd.cwd,
      env: cmd.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const watchdog = startWatchdog(child.pid);
    const out = lineSplitter(cmd.onStdout);
    const err = lineSplitter(cmd.onStderr);
    const streams = [child.stdout.setEncoding('utf8'), child.stderr.setEncoding('utf8')];
    let paused = false;
    const deliver = (split: ReturnType<typeof lineSplitter>) => (chunk: string) => {
      split.push(chunk);
      const wait = paused || signal.aborted ? undefined : cmd.whenWritable?.();
      if (!wait) return;
      paused = true;
      for (const s of streams) s.pause();
      void wait.then(() => {
        paused = false;
        for (const s of streams) s.resume();
      });
    };
    child.stdout.on('data', deliver(out));
    child.stderr.on('data', deliver(err));
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      // Read on while the group dies, congested or not: the pipes must reach their end.
      for (const st of streams) st.resume();
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      signal.removeEventListener('abort', onAbort);
      stopWatchdog(watchdog);
      reject(e);
    });
    child.on('close', (code, sig) => {
      signal.removeEventListener('abort', onAbort);
      stopWatchdog(watchdog);
      out.end();
      err.end();
      if (signal.aborted) {
        // The main process is gone; make sure nothing it started outlives it.
        killGroup(child.pid, 'SIGKILL');
        if (killTimer) clearTimeout(killTimer);
        reject(abortReason(signal));
        return;
      }
      resolve({ exitStatus: code ?? 128 + (SIGNAL_NUMBERS[sig ?? ''] ?? 0) });
    });
  });
}

/** Starts the watchdog of process group `pgid` (see the module comment); undefined if it cannot start. */
function startWatchdog(pgid: number | undefined): ChildProcess | undefined {
  if (pgid === undefined || process.platform === 'win32') return undefined;
  try {
    const dog = spawn('/bin/sh', ['-c', WATCHDOG, 'builder-watchdog', String(pgid)], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    dog.on('error', () => undefined); // no /bin/sh: the group is still killed on cancellation
    dog.stdin?.on('error', () => undefined);
    dog.unref();
    return dog;
  } catch {
    return undefined;
  }
}

function stopWatchdog(dog: ChildProcess | undefined): void {
  if (dog?.pid === undefined || dog.exitCode !== null) return;
  try {
    process.kill(dog.pid, 'SIGKILL'); // by pid: its `read` must not return and kill the group
  } catch {
    // already gone
  }
  dog.stdin?.destroy();
}

function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    // The group is already gone.
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new CancelledError();
}

/** Packer's RemoteCmd.cleanOutputLine. */
export function cleanOutputLine(line: string): string {
  const trimmed = line.replace(/\s+$/u, '');
  const cr = trimmed.lastIndexOf('\r');
  return cr >= 0 ? trimmed.slice(cr + 1) : trimmed;
}

/**
 * Splits a stream of text into lines, keeping at most MAX_LINE_CHARS of an unterminated line
 * (each chunk is searched once: a long line costs linear time, not quadratic).
 */
function lineSplitter(emit: (line: string) => void): { push: (chunk: string) => void; end: () => void } {
  let pending: string[] = [];
  let pendingLength = 0;
  const flush = (tail: string): void => {
    pending.push(tail);
    const line = pending.join('');
    pending = [];
    pendingLength = 0;
    emit(cleanOutputLine(line));
  };
  return {
    push(chunk: string) {
      let from = 0;
      for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', from)) {
        flush(chunk.slice(from, nl));
        from = nl + 1;
      }
      let rest = chunk.slice(from);
      while (pendingLength + rest.length >= MAX_LINE_CHARS) {
        let take = MAX_LINE_CHARS - pendingLength;
        const code = rest.charCodeAt(take - 1);
        if (code >= 0xd800 && code <= 0xdbff && (take > 1 || pendingLength > 0)) take--; // keep a surrogate pair whole
        flush(rest.slice(0, take));
        rest = rest.slice(take);
      }
      if (rest !== '') {
        pending.push(rest);
        pendingLength += rest.length;
      }
    },
    end() {
      if (pendingLength > 0) flush('');
    },
  };
}

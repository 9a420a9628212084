/**
 * Runs a local command for a step. Contracts:
 * - The command is given as an argument vector (never a string pasted into a shell by us).
 * - It runs in its own process group, so that cancellation (SIGINT/SIGTERM, a provisioner
 *   `timeout`) ends its whole process tree: on abort the group gets SIGTERM, then SIGKILL after a
 *   grace period, and the promise rejects once the command is gone.
 * - The group also dies with builder, however builder ends (SIGKILL included): a watchdog — one
 *   `/bin/sh` per builder process, in a process group of its own, reading a pipe only builder
 *   holds open — is told each step's group when it starts and when its leader ended. When builder
 *   dies the pipe closes and the watchdog sends every group still listed SIGTERM, then SIGKILL
 *   after the grace period. A group whose leader ended normally is no longer listed, so background
 *   processes a step leaves on purpose keep running as in Packer. (Chosen over recording the group
 *   in a file next to the state for the next run to kill: it acts at once, needs no state, so it
 *   covers stateless builds, and cannot kill a reused pid days later. One `sh` per run, not per
 *   step: a process per step cost a 100-step build about a third of its time.)
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

/**
 * The watchdog, one per builder process: it reads "+ PGID" when a step's group starts and
 * "- PGID" when it ended, keeping the live groups in a shell variable (builtins only, no process
 * per line). Its `read` fails when builder's end of the pipe closes — builder exited or died — and
 * it then sends every group still listed SIGTERM, then SIGKILL after the grace period.
 */
const WATCHDOG = [
  'g=""',
  'while read -r op p; do',
  '  case "$op" in',
  '    +) g="$g $p" ;;',
  '    -) n=""; for x in $g; do [ "$x" = "$p" ] || n="$n $x"; done; g=$n ;;',
  '  esac',
  'done',
  '[ -n "$g" ] || exit 0',
  'for x in $g; do kill -TERM -"$x" 2>/dev/null; done',
  `sleep ${KILL_GRACE_MS / 1000}`,
  'for x in $g; do kill -KILL -"$x" 2>/dev/null; done',
].join('\n');

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
    const unwatch = watchGroup(child.pid);
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
      unwatch();
      reject(e);
    });
    child.on('close', (code, sig) => {
      signal.removeEventListener('abort', onAbort);
      unwatch();
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

/** The watchdog of this process (see WATCHDOG): started after the first step's spawn, then
 * shared; null when it cannot start (no /bin/sh): groups are then still killed on cancellation. */
let watchdog: ChildProcess | null | undefined;
/** Groups listed before the watchdog started: sent to it as soon as it has. */
const unsent = new Set<number>();
let watchdogScheduled = false;

/** Lists process group `pgid` with the watchdog until the returned function is called (when the
 * group's leader has ended: background processes it left on purpose then live on, as in Packer).
 * The watchdog is spawned on the next turn of the event loop, not in the caller's: spawning forks
 * all of builder (about 6 ms), and done while the first step runs it keeps that fork off the
 * path of the steps still to start. The group is unguarded until then, as it is anyway until the
 * watchdog has read its line. Also used for plugin processes (src/plugins/process.ts). */
export function watchGroup(pgid: number | undefined): () => void {
  if (pgid === undefined || process.platform === 'win32' || watchdog === null) return () => undefined;
  if (watchdog === undefined) {
    if (!watchdogScheduled) setImmediate(startWatchdog);
    watchdogScheduled = true;
    unsent.add(pgid);
  } else {
    tellWatchdog(`+ ${pgid}\n`);
  }
  return () => {
    if (!unsent.delete(pgid)) tellWatchdog(`- ${pgid}\n`);
  };
}

function startWatchdog(): void {
  try {
    const dog = spawn('/bin/sh', ['-c', WATCHDOG, 'builder-watchdog'], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    dog.on('error', () => (watchdog = null));
    dog.stdin?.on('error', () => undefined);
    dog.unref();
    (dog.stdin as unknown as { unref?(): void } | null)?.unref?.();
    watchdog = dog;
  } catch {
    watchdog = null;
  }
  const groups = [...unsent];
  unsent.clear();
  if (groups.length > 0) tellWatchdog(groups.map((g) => `+ ${g}\n`).join(''));
}

function tellWatchdog(lines: string): void {
  const stdin = watchdog?.stdin;
  if (stdin && !stdin.destroyed) stdin.write(lines);
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

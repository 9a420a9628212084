/**
 * Runs a local command for a step. Contracts:
 * - The command is given as an argument vector (never a string pasted into a shell by us).
 * - It runs in its own process group, so that cancellation (SIGINT/SIGTERM, a provisioner
 *   `timeout`) ends its whole process tree: on abort the group gets SIGTERM, then SIGKILL after a
 *   grace period, and the promise rejects once the command is gone.
 * - Its output is delivered line by line the way Packer's RemoteCmd does: trailing white space
 *   trimmed, only the text after the last carriage return kept; an unterminated last line counts.
 */
import { spawn } from 'node:child_process';
import { CancelledError } from '../errors.js';

export interface LocalCommand {
  argv: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  onStdout(line: string): void;
  onStderr(line: string): void;
}

export interface LocalResult {
  /** The exit status; a command killed by a signal gets 128 + the signal number, like a shell. */
  exitStatus: number;
}

/** How long a cancelled process group gets between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 2000;

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
    const out = lineSplitter(cmd.onStdout);
    const err = lineSplitter(cmd.onStderr);
    child.stdout.setEncoding('utf8').on('data', out.push);
    child.stderr.setEncoding('utf8').on('data', err.push);
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      signal.removeEventListener('abort', onAbort);
      reject(e);
    });
    child.on('close', (code, sig) => {
      signal.removeEventListener('abort', onAbort);
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

function lineSplitter(emit: (line: string) => void): { push: (chunk: string) => void; end: () => void } {
  let buf = '';
  return {
    push(chunk: string) {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        emit(cleanOutputLine(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
      }
    },
    end() {
      if (buf !== '') emit(cleanOutputLine(buf));
      buf = '';
    },
  };
}

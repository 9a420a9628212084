/**
 * Who holds a lock: the record written into lock files, and the test of whether its holder is
 * still alive. A holder on this host whose process is gone (or whose pid now belongs to another
 * process, told apart by the process start time) is abandoned; a holder on another host is never
 * judged, since its process cannot be seen from here.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { BUILDER_VERSION } from '../version.js';
import type { LockInfo, LockScope } from './interfaces.js';

/** A process's state letter and start time (Linux /proc/PID/stat fields 3 and 22), where available. */
function procStat(pid: number | 'self'): { state: string; start: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', start: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

let selfStart: string | undefined | null = null;
function ownStartTime(): string | undefined {
  if (selfStart === null) selfStart = procStat('self')?.start;
  return selfStart;
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/** user@host and the host, looked up once per process. */
let identity: { who: string; host: string } | undefined;

export function newLockInfo(scope: LockScope, operation: string, path: string, build?: string): LockInfo {
  identity ??= { who: `${currentUser()}@${hostname()}`, host: hostname() };
  const host = identity.host;
  const info: LockInfo = {
    id: randomUUID(),
    scope,
    operation,
    who: identity.who,
    host,
    pid: process.pid,
    created: new Date().toISOString(),
    path,
    version: BUILDER_VERSION,
  };
  if (build !== undefined) info.build = build;
  const start = ownStartTime();
  if (start !== undefined) info.pid_start = start;
  return info;
}

export type HolderState = 'alive' | 'dead' | 'other-host';

export function holderState(info: Pick<LockInfo, 'host' | 'pid' | 'pid_start'>): HolderState {
  if (info.host !== hostname()) return 'other-host';
  if (info.pid === process.pid) return info.pid_start === undefined || info.pid_start === ownStartTime() ? 'alive' : 'dead';
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    if (typeof err === 'object' && err !== null && 'code' in err && err.code === 'ESRCH') return 'dead';
    return 'alive'; // EPERM: the process exists but belongs to another user
  }
  const proc = procStat(info.pid);
  if (proc?.state === 'Z' || proc?.state === 'X') return 'dead'; // exited, not yet reaped
  if (proc && info.pid_start !== undefined && proc.start !== info.pid_start) return 'dead'; // pid reused
  return 'alive';
}

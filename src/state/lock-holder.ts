/**
 * Who holds a lock: the record written into lock files, and the test of whether its holder is
 * still alive. A holder is judged only when its process can be seen from here: same host name,
 * same boot (Linux boot id) and same pid namespace (the inode of /proc/self/ns/pid). Then a holder
 * whose process is gone (or whose pid now belongs to another process, told apart by the process
 * start time) is abandoned. Otherwise — another host, a run before a reboot or in another
 * container sharing the folder and the host name — the holder is 'unknown' and never judged dead:
 * only `builder state unlock ID` breaks its lock. (A pid alone is meaningless across pid
 * namespaces: a build in a container could look dead, or alive as another process, from outside.)
 * Records without boot id or namespace (older builders) are judged by host, pid and start time.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
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

function readTrimmed(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The identity of this process's pid namespace ("pid:[4026531836]"), or undefined off Linux. */
function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

let machine: { bootId: string | undefined; pidNs: string | undefined } | undefined;
function thisMachine(): { bootId: string | undefined; pidNs: string | undefined } {
  machine ??= { bootId: readTrimmed('/proc/sys/kernel/random/boot_id'), pidNs: pidNamespace() };
  return machine;
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
  const { bootId, pidNs } = thisMachine();
  if (bootId !== undefined) info.boot_id = bootId;
  if (pidNs !== undefined) info.pid_ns = pidNs;
  return info;
}

/** What identifies a process across hosts, boots and pid namespaces. */
export type HolderIdentity = Pick<LockInfo, 'host' | 'pid' | 'pid_start' | 'boot_id' | 'pid_ns'>;

/** The identity of this process (for break guards and other records of who is working). */
export function ownIdentity(): HolderIdentity {
  const { host, pid, pid_start, boot_id, pid_ns } = newLockInfo('write', '', '');
  return { host, pid, pid_start, boot_id, pid_ns };
}

/**
 * 'other-host': another host name. 'unknown': this host name but another boot or pid namespace,
 * where the pid cannot be checked. Neither is ever treated as dead.
 */
export type HolderState = 'alive' | 'dead' | 'other-host' | 'unknown';

export function holderState(info: HolderIdentity): HolderState {
  if (info.host !== hostname()) return 'other-host';
  const { bootId, pidNs } = thisMachine();
  if (info.boot_id !== undefined && info.boot_id !== bootId) return 'unknown';
  if (info.pid_ns !== undefined && info.pid_ns !== pidNs) return 'unknown';
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

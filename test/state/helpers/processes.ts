/** Child processes for the state tests: a pid that is certainly dead, and JSON-speaking helpers. */
import { spawn, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { writeFileSync } from 'node:fs';
import type { LockInfo } from '../../../src/state/interfaces.js';

/** The pid of a process that has exited (and been reaped). */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  const pid = child.pid!;
  await new Promise((resolve) => child.on('exit', resolve));
  return pid;
}

/** Writes a lock file as another process (possibly on another host) would have left it. */
export function plantLock(file: string, fields: Partial<LockInfo> & Pick<LockInfo, 'pid' | 'scope' | 'path'>): LockInfo {
  const info: LockInfo = {
    id: 'planted-0000-1111',
    operation: 'build',
    who: `someone@${fields.host ?? hostname()}`,
    host: hostname(),
    created: '2026-11-25T09:00:00.000Z',
    version: '0.0.9',
    ...fields,
  };
  writeFileSync(file, JSON.stringify(info), { mode: 0o600 });
  return info;
}

/** Resolves with the first line a child prints on stdout. */
export function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.setEncoding('utf8');
    const onData = (chunk: string): void => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        child.stdout!.off('data', onData);
        resolve(buf.slice(0, nl));
      }
    };
    child.stdout!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`child exited (${String(code)}) before printing a line; got ${JSON.stringify(buf)}`)));
  });
}

/** Resolves when a child exits, with its exit code and everything it printed. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

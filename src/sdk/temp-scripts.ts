/**
 * Where inline commands become script files: `packer-shell<digits>` (Packer's name) inside a
 * folder of this process, `$TMPDIR/builder-scripts-<pid namespace>-<pid>-<random>`, created 0700 on
 * first use — so no other user can read a script (it may hold secrets) or plant a file or link at
 * its name. A script is removed after its step; the folder is removed when builder exits. Folders
 * left by a builder that was killed are removed by the next run that writes a script: those of the
 * same user and pid namespace whose process no longer exists and that have not changed for a
 * minute.
 */
import { randomInt } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readlinkSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 'builder-scripts-';
const ABANDONED_AFTER_MS = 60_000;

let folder: string | undefined;

/** The pid namespace's inode number ('0' where there is none), so other namespaces' folders are left alone. */
function namespaceTag(): string {
  try {
    return /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? '0';
  } catch {
    return '0';
  }
}

/** This process's script folder, made (and leftovers of killed runs removed) on first use. */
export function tempScriptFolder(): string {
  if (folder !== undefined) return folder;
  removeAbandonedFolders();
  const made = mkdtempSync(join(tmpdir(), `${PREFIX}${namespaceTag()}-${process.pid}-`)); // mode 0700
  folder = made;
  process.once('exit', () => {
    try {
      rmSync(made, { recursive: true, force: true });
    } catch {
      // the next run removes it
    }
  });
  return made;
}

/** Writes `body` as a new script (mode `mode`, created exclusively) and returns its path. */
export function writeTempScript(body: string, extension: string, mode = 0o700): string {
  for (;;) {
    const name = join(tempScriptFolder(), `packer-shell${randomInt(1e9, 1e10 - 1)}${extension ? `.${extension}` : ''}`);
    try {
      writeFileSync(name, body, { mode, flag: 'wx' });
      return name;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** Removes a script written by writeTempScript (already gone is fine). */
export function removeTempScript(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function removeAbandonedFolders(): void {
  const mine = `${PREFIX}${namespaceTag()}-`;
  const uid = process.geteuid?.();
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(mine)) continue;
    const pid = Number(name.slice(mine.length).split('-')[0]);
    const path = join(tmpdir(), name);
    try {
      const st = lstatSync(path);
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || Date.now() - st.mtimeMs < ABANDONED_AFTER_MS) continue;
      if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
      rmSync(path, { recursive: true, force: true });
    } catch {
      // removed meanwhile, or not ours to remove
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

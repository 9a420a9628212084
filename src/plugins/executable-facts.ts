/**
 * Facts about an executable that only change when the file does: its SHA-256 (the plugin's identity
 * in fingerprints, PluginIdentity), what `packer version` and a plugin's `describe` print.
 *
 * Contracts:
 * - A fact is computed at most once per process for one state of the file (memoized by path, size,
 *   mtime, ctime and inode; concurrent callers share one computation). Hashing streams the file,
 *   so a 100 MB Packer is not held in memory.
 * - Facts are also kept between runs in `$XDG_CACHE_HOME/builder/executable-facts.json` (default
 *   `~/.cache/builder/`) under the same key: a file rewritten in place changes its mtime and ctime,
 *   a replaced one its inode, so a stale fact is never used — and a run that needs no new fact
 *   starts no `packer version` or `describe` process. The cache is only an optimisation: one that
 *   cannot be read or written is ignored. A computation that fails is not cached.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

const memo = new Map<string, Promise<string>>();

function cacheFile(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CACHE_HOME || join(env.HOME ?? homedir(), '.cache'), 'builder', 'executable-facts.json');
}

async function readCache(file: string): Promise<Record<string, unknown>> {
  try {
    const data: unknown = JSON.parse(await readFile(file, 'utf8'));
    return data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

// Writes are chained so that two facts learnt at once do not overwrite each other.
let writing: Promise<void> = Promise.resolve();

function writeCache(file: string, key: string, value: string): Promise<void> {
  writing = writing.then(async () => {
    try {
      const all = await readCache(file);
      all[key] = value;
      await mkdir(dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(all));
      await rename(tmp, file);
    } catch { /* only an optimisation */ }
  });
  return writing;
}

/** The fact `name` of the executable at `path` (absolute), from the caches or `compute` (always
 * `compute` when the file cannot be examined). */
export async function executableFact(path: string, name: string, compute: () => Promise<string>, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const st = await stat(path).catch(() => undefined);
  if (!st) return compute();
  const key = JSON.stringify([name, path, st.size, st.mtimeMs, st.ctimeMs, st.ino]);
  let p = memo.get(key);
  if (!p) {
    p = (async () => {
      const file = cacheFile(env);
      const cached = (await readCache(file))[key];
      if (typeof cached === 'string') return cached;
      const value = await compute();
      void writeCache(file, key, value);
      return value;
    })();
    memo.set(key, p);
    p.catch(() => memo.delete(key));
  }
  return p;
}

/** The hex SHA-256 of the executable at `path`. Rejects when it cannot be read. */
export function binaryDigest(path: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return executableFact(path, 'sha256', () => new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path).on('data', (c) => h.update(c)).on('error', reject).on('end', () => resolve(h.digest('hex')));
  }), env);
}

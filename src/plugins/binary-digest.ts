/**
 * SHA-256 of a plugin executable, for the plugin's identity in fingerprints (PluginIdentity).
 *
 * Contracts:
 * - A file is hashed at most once per process (memoized by path, size, mtime, ctime and inode;
 *   concurrent callers share one read), streamed, so a 100 MB Packer is not held in memory.
 * - The digests are also kept between runs in `$XDG_CACHE_HOME/builder/plugin-digests.json`
 *   (default `~/.cache/builder/`), under the same key: a file rewritten in place changes its
 *   mtime/ctime, a swapped one its inode, so a stale entry is never used. The cache is only an
 *   optimisation: a cache that cannot be read or written is ignored (the file is hashed).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

const memo = new Map<string, Promise<string>>();

function cacheFile(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CACHE_HOME || join(env.HOME ?? homedir(), '.cache'), 'builder', 'plugin-digests.json');
}

async function readCache(file: string): Promise<Record<string, string>> {
  try {
    const data: unknown = JSON.parse(await readFile(file, 'utf8'));
    return data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, string>) : {};
  } catch {
    return {};
  }
}

async function writeCache(file: string, key: string, digest: string): Promise<void> {
  try {
    const all = await readCache(file);
    all[key] = digest;
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(all));
    await rename(tmp, file);
  } catch { /* only an optimisation */ }
}

function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path).on('data', (c) => h.update(c)).on('error', reject).on('end', () => resolve(h.digest('hex')));
  });
}

/** The hex SHA-256 of the executable at `path` (absolute). Rejects when it cannot be read. */
export async function binaryDigest(path: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const st = await stat(path);
  const key = `${path}\0${st.size}\0${st.mtimeMs}\0${st.ctimeMs}\0${st.ino}`;
  let p = memo.get(key);
  if (!p) {
    p = (async () => {
      const file = cacheFile(env);
      const cached = (await readCache(file))[key];
      if (typeof cached === 'string' && /^[0-9a-f]{64}$/.test(cached)) return cached;
      const digest = await hashFile(path);
      await writeCache(file, key, digest);
      return digest;
    })();
    memo.set(key, p);
    p.catch(() => memo.delete(key));
  }
  return p;
}

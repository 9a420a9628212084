/** Helpers for post-processors whose artifact is a list of local files. */
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';

/** Removes the files (and folders) of an artifact; missing ones are fine. */
export async function removeFiles(files: readonly string[], cwd: string): Promise<void> {
  for (const f of files) await rm(resolve(cwd, f), { recursive: true, force: true });
}

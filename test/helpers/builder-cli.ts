/**
 * The builder program tests start as a process: `bin/builder.cjs`, the executable users run (the
 * bundle with its V8 code cache), when the bundle is at least as new as every compiled source file
 * — as after `npm run build`, which `npm test` runs; otherwise (after a bare `tsc`) the compiled
 * `dist/src/cli/main.js`, so that a test never runs a stale bundle. Run it with `node PATH ARGS`.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The compiled, unbundled entry point. */
export const MAIN_JS = join(repo, 'dist', 'src', 'cli', 'main.js');
const BIN = join(repo, 'bin', 'builder.cjs');
const BUNDLE = join(repo, 'dist', 'bin', 'builder.cjs');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith('.js')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function bundleIsFresh(): boolean {
  if (process.env.BUILDER_TEST_UNBUNDLED === '1' || !existsSync(BUNDLE)) return false;
  return statSync(BUNDLE).mtimeMs >= newestMtime(join(repo, 'dist', 'src'));
}

/** The script to run with `node`: bin/builder.cjs when the bundle is fresh, else MAIN_JS. */
export const BUILDER_JS = bundleIsFresh() ? BIN : MAIN_JS;

/**
 * Bundles the compiled CLI (dist/src/cli/bin.js, from tsc) into one CommonJS file,
 * dist/bin/builder.cjs, so that Node loads one file instead of a hundred modules, and writes its
 * V8 code cache (dist/bin/builder.cjs.cache) by running one build of examples/basic-null.pkr.hcl
 * in a temp folder. bin/builder.cjs (the package's executable) runs the two.
 * Packages with native parts or used rarely stay outside the bundle (ssh2, pg, tar, yazl).
 * src/version.ts reads package.json relative to its own file: the bundle must stay two folders
 * below the package root.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

rmSync('dist/bin', { recursive: true, force: true }); // a stale cache must never meet a new bundle
await build({
  entryPoints: ['dist/src/cli/bin.js'],
  outfile: 'dist/bin/builder.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // import() of project files becomes a deferred initialiser, of packages a require().
  supported: { 'dynamic-import': false },
  external: ['ssh2', 'pg', 'tar', 'yazl'],
  define: { 'import.meta.url': '__importMetaUrl' },
  banner: { js: 'const __importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  sourcemap: true,
  // No comments or indentation: a smaller file to read and hash at every start (stack traces go
  // through the source map). Names are kept as they are.
  minifyWhitespace: true,
  logLevel: 'warning',
});

// bin/builder.cjs reads an ASCII bundle as Latin-1, a one-byte string made without decoding; any
// other byte would make V8 decode the whole bundle into a two-byte string at every start (about
// a tenth of `builder version`'s instructions). esbuild escapes strings; a regular expression
// literal or template keeps its characters, so write those as \u escapes in the source.
const bundled = readFileSync('dist/bin/builder.cjs');
const nonAscii = bundled.findIndex((b) => b > 0x7f);
if (nonAscii >= 0) {
  const text = bundled.subarray(Math.max(0, nonAscii - 60), nonAscii + 20).toString('utf8');
  throw new Error(`dist/bin/builder.cjs is not ASCII at byte ${nonAscii} (…${text}…): write that character as a \\u escape in the source`);
}

const dir = mkdtempSync(join(tmpdir(), 'builder-code-cache-'));
try {
  copyFileSync('examples/basic-null.pkr.hcl', join(dir, 'basic-null.pkr.hcl'));
  execFileSync(process.execPath, [resolve('bin/builder.cjs'), 'build', 'basic-null.pkr.hcl'], {
    cwd: dir,
    env: { ...process.env, HOME: dir, CHECKPOINT_DISABLE: '1', BUILDER_WRITE_CODE_CACHE: '1' },
    stdio: 'ignore',
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The global install, end to end (issue 13): the package as `npm pack` makes it, installed with
 * `npm install -g --prefix TMP` into a temporary prefix, then `builder` from that prefix's bin
 * folder builds an example copied to another folder. Offline and with no traffic beyond this
 * machine: the packed tarball is repacked with the production dependencies from this checkout's
 * node_modules bundled in (bundleDependencies), so npm resolves nothing from a registry. Needs
 * `npm run build` first (the bundle in dist/bin), as `npm test` does; skipped with the reason
 * when npm or the bundle is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../build/cli.js';

interface LockPackage {
  dev?: boolean;
  optional?: boolean;
  link?: boolean;
}

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', env, timeout: 180_000 });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} failed (${r.error?.message ?? `status ${r.status}`}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The one .tgz npm pack wrote into `dir`. */
function tarball(dir: string): string {
  const found = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
  assert.equal(found.length, 1, `one tarball in ${dir}: ${found.join(', ')}`);
  return join(dir, found[0]!);
}

test('npm pack + npm install -g --prefix: `builder` builds an example from another folder', (t) => {
  const npm = sh('npm', ['--version'], repoRoot);
  if (npm.error || npm.status !== 0) {
    t.skip(`npm is not available (${npm.error?.message ?? npm.stderr.trim()})`);
    return;
  }
  if (!existsSync(join(repoRoot, 'dist', 'bin', 'builder.cjs'))) {
    t.skip('dist/bin/builder.cjs is missing: run `npm run build` first (npm test does)');
    return;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'builder-global-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  // npm writes its logs and cache in HOME; keep them out of the user's.
  const env = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };

  // 1. The package exactly as `npm pack` makes it from the checkout.
  const packed = join(tmp, 'packed');
  mkdirSync(packed);
  ok(sh('npm', ['pack', '--ignore-scripts', '--pack-destination', packed], repoRoot, env), 'npm pack');
  const stage = join(tmp, 'stage');
  mkdirSync(stage);
  ok(sh('tar', ['xzf', tarball(packed), '-C', stage], tmp), 'tar');
  const pkgDir = join(stage, 'package');
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { name: string; bin: Record<string, string>; engines: { node: string }; dependencies: Record<string, string> };
  assert.equal(manifest.bin.builder, 'bin/builder.cjs', 'the command is `builder`');
  assert.ok(existsSync(join(pkgDir, 'bin', 'builder.cjs')) && existsSync(join(pkgDir, 'dist', 'bin', 'builder.cjs')), 'the executable and its bundle are packed');
  assert.ok(!existsSync(join(pkgDir, 'dist', 'test')) && !existsSync(join(pkgDir, 'src')), 'tests and sources are not packed');
  assert.match(manifest.engines.node, /^>=20/);

  // 2. Offline: the production dependencies of the lock file, from this checkout, bundled in.
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockPackage> };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.dev || entry.link || !path.startsWith('node_modules/')) continue;
    const from = join(repoRoot, path);
    if (!existsSync(from)) {
      assert.ok(entry.optional, `${path} is a production dependency but is not installed in this checkout`);
      continue;
    }
    cpSync(from, join(pkgDir, path), { recursive: true, dereference: true, filter: (src) => !src.slice(from.length).includes('/node_modules/') });
  }
  writeFileSync(join(pkgDir, 'package.json'), JSON.stringify({ ...manifest, bundleDependencies: Object.keys(manifest.dependencies) }, null, 2));
  const bundled = join(tmp, 'bundled');
  mkdirSync(bundled);
  ok(sh('npm', ['pack', '--ignore-scripts', '--pack-destination', bundled], pkgDir, env), 'npm pack (bundled)');

  // 3. The global install, into a prefix of its own.
  const prefix = join(tmp, 'prefix');
  ok(sh('npm', ['install', '-g', '--prefix', prefix, '--offline', '--ignore-scripts', tarball(bundled)], tmp, env), 'npm install -g');
  const bin = join(prefix, 'bin');
  assert.ok(existsSync(join(bin, 'builder')), `${bin}/builder exists`);

  // 4. `builder` on PATH, in a folder that has nothing of the checkout.
  const work = join(tmp, 'work');
  mkdirSync(work);
  cpSync(join(repoRoot, 'examples', 'basic-null.pkr.hcl'), join(work, 'basic-null.pkr.hcl'));
  const userEnv = { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: work, NO_COLOR: '1' };
  const version = ok(sh('builder', ['--version'], work, userEnv), 'builder --version');
  assert.equal(version, `${JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version as string}\n`);
  const build = sh('builder', ['build', 'basic-null.pkr.hcl'], work, userEnv);
  assert.equal(build.status, 0, `${build.stdout}\n${build.stderr}`);
  assert.match(build.stdout, /Running basic null build test/);
  assert.match(build.stdout, /==> Builds finished\. The artifacts of successful builds are:/);
  assert.ok(existsSync(join(work, '.packer.d', 'builder-state.json')), 'the state is kept next to the template');
  const again = ok(sh('builder', ['build', 'basic-null.pkr.hcl'], work, userEnv), 'second build');
  assert.match(again, /up to date/i, 'the second run is skipped from the state');
});

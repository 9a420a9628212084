/**
 * The installed executable, bin/builder.cjs: it runs the bundle (dist/bin/builder.cjs, made by
 * `npm run build`) and must behave as the unbundled CLI the other tests run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(repo, 'bin', 'builder.cjs');
const unbundled = join(repo, 'dist', 'src', 'cli', 'main.js');
const skip = existsSync(join(repo, 'dist', 'bin', 'builder.cjs')) ? false : 'the bundle is missing: run npm run build';

function run(exe: string, args: string[], cwd: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [exe, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

test('bin/builder.cjs gives the same answers as the unbundled CLI', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'bin-test-'));
  try {
    copyFileSync(join(repo, 'examples', 'variables.pkr.hcl'), join(dir, 'variables.pkr.hcl'));
    for (const args of [['version'], ['validate', 'variables.pkr.hcl'], ['inspect', 'variables.pkr.hcl'], ['nosuch'], ['validate', 'missing.pkr.hcl']]) {
      const a = run(bin, args, dir);
      const b = run(unbundled, args, dir);
      assert.deepEqual(a, b, `builder ${args.join(' ')}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bin/builder.cjs builds the basic example, then finds it up to date', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'bin-test-'));
  try {
    copyFileSync(join(repo, 'examples', 'basic-null.pkr.hcl'), join(dir, 'basic-null.pkr.hcl'));
    const first = run(bin, ['build', 'basic-null.pkr.hcl'], dir);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(first.stdout, /Running basic null build test/);
    assert.ok(existsSync(join(dir, 'manifest.json')));
    const second = run(bin, ['build', 'basic-null.pkr.hcl'], dir);
    assert.equal(second.code, 0);
    assert.match(second.stdout, /Up to date/);
    assert.doesNotMatch(second.stdout, /Running basic null build test/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run as a program, bin/builder.cjs starts Node without NODE_EXTRA_CA_CERTS and hands the variable on to its steps', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'bin-test-'));
  try {
    // A certificate file that does not exist: Node warns at start-up when it tries to load it.
    const missing = join(dir, 'no-such-ca.pem');
    writeFileSync(
      join(dir, 'env.pkr.hcl'),
      'source "null" "s" {\n  communicator = "none"\n}\nbuild {\n  sources = ["source.null.s"]\n' +
        '  provisioner "shell-local" {\n    inline = ["echo \\"CA=[$NODE_EXTRA_CA_CERTS] SAVED=[$BUILDER_NODE_EXTRA_CA_CERTS]\\""]\n  }\n}\n',
    );
    const env = { ...process.env, NO_COLOR: '1', NODE_EXTRA_CA_CERTS: missing, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };
    const r = spawnSync(bin, ['build', 'env.pkr.hcl'], { cwd: dir, encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stderr, /extra certs/i, 'Node loaded NODE_EXTRA_CA_CERTS at start-up');
    assert.ok(r.stdout.includes(`CA=[${missing}] SAVED=[]`), r.stdout);
    // Run by Node directly, the file is plain JavaScript: Node itself reads the variable then.
    const direct = spawnSync(process.execPath, [bin, 'version'], { cwd: dir, encoding: 'utf8', env });
    assert.equal(direct.status, 0, direct.stderr);
    assert.match(direct.stderr, /extra certs/i);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a build of the basic example loads none of the Node modules only some runs need (zlib, readline, perf_hooks)', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'bin-test-'));
  try {
    copyFileSync(join(repo, 'examples', 'basic-null.pkr.hcl'), join(dir, 'basic-null.pkr.hcl'));
    const report = join(dir, 'modules.txt');
    const hook = join(dir, 'report-modules.cjs');
    writeFileSync(hook, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(report)}, process.moduleLoadList.join('\\n')));\n`);
    const r = spawnSync(process.execPath, ['-r', hook, bin, 'build', 'basic-null.pkr.hcl'], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const loaded = readFileSync(report, 'utf8').split('\n');
    assert.ok(loaded.includes('NativeModule child_process'), 'the report lists the modules the build loaded');
    for (const m of ['zlib', 'readline', 'perf_hooks']) assert.ok(!loaded.includes(`NativeModule ${m}`), `the build loaded ${m}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

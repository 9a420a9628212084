/**
 * Plugin data sources through the real CLI (`node dist/src/cli/main.js`), served by the fake
 * current-SDK plugin (test/plugins/fake-plugin.ts) installed as `packer-plugin-fake`: a data block
 * used by a local and a shell-local provisioner builds, in the protobuf form (the plugin says v2:
 * protobuf specs, msgpack results) and in the gob form (PACKER_FORCE_GOB=1); `validate` checks a data
 * block against the plugin's ConfigSpec at file:line:col without running it, and runs it with
 * `-evaluate-datasources`; a failing and a crashing data source are clear errors. No plugin
 * process is left after any run. (Debian's Packer 1.6.6 has no data sources: no differential.)
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runProcess, type RunResult } from '../cli/run.js';
import { assertNoneLeft } from '../helpers/leftovers.js';

const fakeScript = join(process.cwd(), 'dist', 'test', 'plugins', 'fake-plugin.js');

const TEMPLATE = `variable "name" {
  type    = string
  default = "abc"
}
locals {
  shout = "\${data.fake.x.output}-\${data.fake.x.length}"
}
data "fake" "x" {
  input = var.name
  count = 2
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo \${local.shout} \${join(",", data.fake.x.tags)} > out.txt"]
  }
}
`;

describe('plugin data sources, with the CLI and a fake SDK plugin', () => {
  let dir: string;
  let plugins: string;
  let n = 0;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'builder-datasources-'));
    plugins = join(dir, 'plugins');
    mkdirSync(plugins);
    const bin = join(plugins, 'packer-plugin-fake');
    writeFileSync(bin, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(fakeScript)} "$@"\n`);
    chmodSync(bin, 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function workdir(template: string, extraEnv: Record<string, string> = {}): { path: string; run: (...args: string[]) => Promise<RunResult> } {
    const path = join(dir, `w${++n}`);
    mkdirSync(join(path, 'home'), { recursive: true });
    writeFileSync(join(path, 't.pkr.hcl'), template);
    return {
      path,
      async run(...args) {
        const [k, v] = ['BUILDER_TEST_MARK', randomUUID()];
        const r = await runProcess(args, { cwd: path, env: { HOME: join(path, 'home'), PACKER_PLUGIN_PATH: plugins, TMPDIR: path, [k]: v, ...extraEnv } });
        await assertNoneLeft(`${k}=${v}`);
        return r;
      },
    };
  }

  it('builder build: the data source runs, and a local and a provisioner use its result', async () => {
    const w = workdir(TEMPLATE);
    const r = await w.run('build', 't.pkr.hcl');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(readFileSync(join(w.path, 'out.txt'), 'utf8'), 'ABC-3 abc,abc\n');
    // Data sources run at plan time, as a refresh: an unchanged result leaves the build up to
    // date, a changed one (another input) changes the provisioner that uses it.
    const same = await w.run('plan', 't.pkr.hcl');
    assert.match(same.stdout, /Plan: 0 to build from the start, 0 to resume, 1 up to date/, same.stdout + same.stderr);
    const changed = await w.run('plan', '-var', 'name=xy', 't.pkr.hcl');
    assert.match(changed.stdout, /~ provisioner 1 \(shell-local\): inline/, changed.stdout + changed.stderr);
    assert.match(changed.stdout, /Plan: 1 to build from the start/);
  });

  it('builder build with PACKER_FORCE_GOB=1: the gob forms of the spec and of the result give the same', async () => {
    const w = workdir(TEMPLATE, { PACKER_FORCE_GOB: '1' });
    const r = await w.run('build', 't.pkr.hcl');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(readFileSync(join(w.path, 'out.txt'), 'utf8'), 'ABC-3 abc,abc\n');
  });

  it('validate: a wrong attribute of a data block at file:line:col, without running the plugin data source; -evaluate-datasources runs it', async () => {
    const bad = workdir(TEMPLATE.replace('count = 2', 'count = 2\n  colour = "red"'));
    const r = await bad.run('validate', 't.pkr.hcl');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /Error: Unsupported argument\n\n {2}on t\.pkr\.hcl line 11, in data "fake" "x":\n {2}11: {3}colour = "red"/);

    const failing = workdir(TEMPLATE.replace('data "fake" "x"', 'data "fake-fail" "x"').replaceAll('data.fake.x', 'data.fake-fail.x'));
    const v = await failing.run('validate', 't.pkr.hcl');
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.equal(v.stdout, 'The configuration is valid.\n');
    const e = await failing.run('validate', '-evaluate-datasources', 't.pkr.hcl');
    assert.equal(e.code, 1, e.stdout + e.stderr);
    assert.match(e.stderr, /Error: Reading data "fake-fail" "x" failed: the fake data source failed on purpose\n\n {2}on t\.pkr\.hcl line 8/);
    assert.doesNotMatch(e.stderr, /\n\s+at /, 'no stack trace');

    const wrongRef = workdir(TEMPLATE.replace('data.fake.x.length', 'data.fake.x.lenght'));
    const wr = await wrongRef.run('validate', 't.pkr.hcl');
    assert.equal(wr.code, 1, wr.stdout + wr.stderr);
    assert.match(wr.stderr, /This object does not have an attribute named "lenght"/);
  });

  it('-use-sequential-evaluation (build, validate, console; inspect takes it): a data block that uses a local is refused with its place; without the flag it runs', async () => {
    const w = workdir(`locals {
  l = "L"
}
data "null" "n" {
  input = local.l
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
}
`);
    for (const cmd of ['validate', 'build']) {
      const r = await w.run(cmd, '-use-sequential-evaluation', 't.pkr.hcl');
      assert.equal(r.code, 1, `${cmd}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /Error: Data block refers to a local\n\n {2}on t\.pkr\.hcl line 4, in data "null" "n":/, cmd);
    }
    const c = await w.run('console', '-use-sequential-evaluation', 't.pkr.hcl');
    assert.notEqual(c.code, 0, c.stdout + c.stderr);
    // inspect reports only parse errors (as before); it takes the flag
    const i = await w.run('inspect', '-use-sequential-evaluation', 't.pkr.hcl');
    assert.equal(i.code, 0, i.stdout + i.stderr);
    const ok = await w.run('validate', '-evaluate-datasources', 't.pkr.hcl');
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  });

  it('a data source that dies in the middle of Execute is a clear error, and the build does not start', async () => {
    const w = workdir(TEMPLATE.replace('data "fake" "x"', 'data "fake-crash" "x"').replaceAll('data.fake.x', 'data.fake-crash.x'));
    const r = await w.run('build', 't.pkr.hcl');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /Reading data "fake-crash" "x" failed: plugin datasource "fake-crash" stopped during Datasource.Execute \(it exited with code 3\)/);
    assert.doesNotMatch(r.stdout, /Running local shell script/);
  });
});

/**
 * State identity and location, end to end through the CLI with null builds:
 * - two single-file templates in one folder, each with an unnamed build of `source.null.base`,
 *   never share a record;
 * - one template built with -var-file=dev and -var-file=prod in two workspaces keeps two records;
 * - the `state rm` command a failed build prints works exactly as printed, from the folder where
 *   it was printed (the template in a subfolder);
 * - a template in a read-only folder, and -state naming a folder, end in one user error naming
 *   the setting to change, never an internal error.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath, repoRoot, runCli, type CliResult } from '../build/cli.js';
import { runInProcess } from '../cli/run.js';

/** Runs a printed command as a user at a terminal would, answering "y" to its question. */
function typed(command: string, dir: string): Promise<CliResult> {
  return runInProcess(command.split(' ').slice(1), { cwd: dir, env: { PATH: process.env.PATH }, stdin: 'y\n', terminal: true });
}

function workdir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'builder-identity-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs builder in `dir` with no state or workspace settings inherited from the test's environment. */
function cli(args: readonly string[], dir: string): Promise<CliResult> {
  return runCli(args, dir, { BUILDER_STATE: '', BUILDER_STATE_PATH: '', BUILDER_WORKSPACE: '' });
}

function ok(r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
  return r;
}

function noInternalError(r: CliResult): void {
  assert.doesNotMatch(r.stdout + r.stderr, /Internal error|This is a bug|\n\s+at /);
}

const template = (word: string): string =>
  'source "null" "base" {\n  communicator = "none"\n}\n\n' +
  `build {\n  sources = ["source.null.base"]\n\n  provisioner "shell-local" {\n    inline = ["echo ${word} >> runs.log"]\n  }\n}\n`;

describe('state identity and location', { concurrency: 3 }, () => {
  test('two templates in one folder, both with an unnamed build of source.null.base, keep separate records', async (t) => {
    const dir = workdir(t);
    writeFileSync(join(dir, 'ubuntu.pkr.hcl'), template('ubuntu'));
    writeFileSync(join(dir, 'centos.pkr.hcl'), template('centos'));
    const first = ok(await cli(['build', 'ubuntu.pkr.hcl'], dir), 'ubuntu');
    assert.match(first.stdout, /==> null\.base: Building from the start: no previous build is recorded\./);
    const other = ok(await cli(['build', 'centos.pkr.hcl'], dir), 'centos');
    assert.match(other.stdout, /==> null\.base: Building from the start: no previous build is recorded\./, 'centos does not resume or skip on ubuntu\'s record');
    const again = ok(await cli(['build', 'ubuntu.pkr.hcl'], dir), 'ubuntu again');
    assert.match(again.stdout, /==> null\.base: Up to date: /);
    assert.deepEqual(readFileSync(join(dir, 'runs.log'), 'utf8').split('\n').filter(Boolean), ['ubuntu', 'centos']);
    assert.equal(ok(await cli(['state', 'list'], dir), 'list').stdout, 'centos.pkr.hcl/null.base  complete\nubuntu.pkr.hcl/null.base  complete\n');
    assert.equal(ok(await cli(['state', 'list', 'centos.pkr.hcl'], dir), 'list centos').stdout, 'null.base  complete\n');
    // A plain name is ambiguous without the template: refused, naming both keys.
    const ambiguous = await cli(['state', 'show', 'null.base'], dir);
    assert.equal(ambiguous.code, 1);
    assert.match(ambiguous.stderr, /several templates .*centos\.pkr\.hcl\/null\.base, ubuntu\.pkr\.hcl\/null\.base/);
    ok(await cli(['state', 'rm', 'centos.pkr.hcl', 'null.base'], dir), 'rm centos');
    assert.equal(ok(await cli(['state', 'list'], dir), 'list').stdout, 'ubuntu.pkr.hcl/null.base  complete\n');
  });

  test('-var-file=dev and -var-file=prod in two workspaces keep two records; workspace commands', async (t) => {
    const dir = workdir(t);
    writeFileSync(
      join(dir, 't.pkr.hcl'),
      'variable "env" {\n  type = string\n}\n\n' +
        'source "null" "base" {\n  communicator = "none"\n}\n\n' +
        'build {\n  sources = ["source.null.base"]\n\n  provisioner "shell-local" {\n    inline = ["echo ${var.env} >> runs.log"]\n  }\n}\n',
    );
    writeFileSync(join(dir, 'dev.pkrvars.hcl'), 'env = "dev"\n');
    writeFileSync(join(dir, 'prod.pkrvars.hcl'), 'env = "prod"\n');
    const build = (vars: string, ...flags: string[]) => cli(['build', ...flags, `-var-file=${vars}`, 't.pkr.hcl'], dir);

    assert.equal(ok(await cli(['workspace', 'show', 't.pkr.hcl'], dir), 'show').stdout, 'default\n');
    ok(await cli(['workspace', 'new', 't.pkr.hcl', 'dev'], dir), 'new dev');
    assert.match(ok(await build('dev.pkrvars.hcl'), 'dev').stdout, /Building from the start/);
    ok(await cli(['workspace', 'new', 't.pkr.hcl', 'prod'], dir), 'new prod');
    assert.match(ok(await build('prod.pkrvars.hcl'), 'prod').stdout, /Building from the start/);
    assert.match(ok(await build('dev.pkrvars.hcl', '-workspace=dev'), 'dev by flag').stdout, /Up to date: /, 'prod did not replace dev\'s record');
    ok(await cli(['workspace', 'select', 't.pkr.hcl', 'dev'], dir), 'select dev');
    assert.match(ok(await build('dev.pkrvars.hcl'), 'dev selected').stdout, /Up to date: /);
    assert.match(ok(await build('prod.pkrvars.hcl', '-workspace=prod'), 'prod again').stdout, /Up to date: /);
    assert.deepEqual(readFileSync(join(dir, 'runs.log'), 'utf8').split('\n').filter(Boolean), ['dev', 'prod']);
    assert.equal(readFileSync(join(dir, '.packer.d', 'environment'), 'utf8'), 'dev\n');
    assert.ok(existsSync(join(dir, '.packer.d', 'workspaces', 'prod', 'builder-state.json')));
    assert.equal(existsSync(join(dir, '.packer.d', 'builder-state.json')), false, 'nothing was built in default');
    assert.equal(ok(await cli(['workspace', 'list'], dir), 'list').stdout, '  default\n* dev\n  prod\n');
    // Each workspace has its own lineage.
    const lineage = async (ws: string) => (JSON.parse(ok(await cli(['state', 'pull', `-workspace=${ws}`], dir), 'pull').stdout) as { lineage: string }).lineage;
    assert.notEqual(await lineage('dev'), await lineage('prod'));
    // delete refuses a non-empty or the current workspace without -force.
    const nonEmpty = await cli(['workspace', 'delete', 'prod'], dir);
    assert.equal(nonEmpty.code, 1);
    assert.match(nonEmpty.stderr, /workspace "prod" still records 1 build\(s\) \(t\.pkr\.hcl\/null\.base\).*Pass -force/);
    const current = await cli(['workspace', 'delete', 'dev'], dir);
    assert.match(current.stderr, /"dev" is the current workspace/);
    assert.equal(current.code, 1);
    ok(await cli(['workspace', 'delete', '-force', 'prod'], dir), 'delete prod');
    assert.equal(existsSync(join(dir, '.packer.d', 'workspaces', 'prod')), false);
    assert.equal(ok(await cli(['workspace', 'list'], dir), 'list').stdout, '  default\n* dev\n');
    const unknown = await cli(['workspace', 'select', 'nope'], dir);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no workspace "nope"\. Workspaces: default, dev\. Create it with: builder workspace new nope/);
    const invalid = await cli(['build', '-workspace=../x', '-var=env=dev', 't.pkr.hcl'], dir);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /"\.\.\/x" is not a valid workspace name/);
  });

  test('the state rm command a failed build prints works exactly as printed, from the folder it was printed in', async (t) => {
    const dir = workdir(t);
    mkdirSync(join(dir, 'tpl'));
    copyFileSync(join(repoRoot, 'examples/resume-demo.pkr.hcl'), join(dir, 'tpl', 'resume-demo.pkr.hcl'));
    const failed = await cli(['build', 'tpl/resume-demo.pkr.hcl'], dir);
    assert.equal(failed.code, 1, failed.stdout + failed.stderr);
    const hint = /start over with: (builder .*)\n$/.exec(failed.stdout)?.[1];
    assert.equal(hint, 'builder state rm tpl/resume-demo.pkr.hcl resume-demo.null.demo');
    assert.ok(existsSync(join(dir, 'tpl', '.packer.d', 'builder-state.json')), 'the state is next to the template');
    const removed = ok(await typed(hint!, dir), 'the printed command');
    assert.match(removed.stdout, /Removed build "resume-demo\.null\.demo"\./);
    assert.equal(ok(await cli(['state', 'list', 'tpl/resume-demo.pkr.hcl'], dir), 'list').stdout, '');
    // In a workspace, and with -state, the hint carries them.
    const elsewhere = join(dir, 'shared-state.json');
    const again = await cli(['build', `-state=${elsewhere}`, '-workspace=ci', 'tpl/resume-demo.pkr.hcl'], dir);
    const hint2 = /start over with: (builder .*)\n$/.exec(again.stdout)?.[1];
    assert.equal(hint2, `builder state rm -state=${elsewhere} -workspace=ci tpl/resume-demo.pkr.hcl resume-demo.null.demo`);
    ok(await typed(hint2!, dir), 'the printed command with -state and -workspace');
  });

  test('-state naming a folder is one user error naming the flag, not EISDIR', async (t) => {
    const dir = workdir(t);
    writeFileSync(join(dir, 't.pkr.hcl'), template('x'));
    mkdirSync(join(dir, 'states'));
    for (const args of [['build', '-state=states', 't.pkr.hcl'], ['state', 'list', '-state=states']]) {
      const r = await cli(args, dir);
      assert.equal(r.code, 1);
      noInternalError(r);
      assert.match(r.stderr, /the state .*\/states \(from -state\) is a folder; the state is one file\. Name a file in it, for example -state=.*\/states\/builder-state\.json\./);
    }
    const viaEnv = await runCli(['build', 't.pkr.hcl'], dir, { BUILDER_STATE: join(dir, 'states'), BUILDER_STATE_PATH: '', BUILDER_WORKSPACE: '' });
    assert.equal(viaEnv.code, 1);
    assert.match(viaEnv.stderr, /\(from BUILDER_STATE\) is a folder.*BUILDER_STATE=.*\/states\/builder-state\.json/);
  });

  test('a template in a read-only folder is one user error naming -state / BUILDER_STATE; -state elsewhere works', async (t) => {
    const dir = workdir(t);
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    writeFileSync(join(ro, 't.pkr.hcl'), template('x').replace('echo x >> runs.log', 'echo x'));
    chmodSync(dir, 0o755);
    chmodSync(join(ro, 't.pkr.hcl'), 0o644);
    chmodSync(ro, 0o555);
    // Root may write anywhere: run builder without the capabilities that let root ignore
    // permissions (as the same user, so the checkout stays readable wherever it is).
    const unprivileged = ['--bounding-set=-dac_override,-dac_read_search,-fowner', '--'];
    const probe = spawnSync('setpriv', [...unprivileged, process.execPath, '-e', ''], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      t.skip(`cannot drop the permission-bypassing capabilities here (setpriv: ${probe.error?.message ?? probe.stderr.trim()})`);
      return;
    }
    const asUnprivileged = (args: string[]) =>
      spawnSync('setpriv', [...unprivileged, process.execPath, cliPath, ...args], {
        cwd: dir,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: dir, NO_COLOR: '1' },
      });
    const r = asUnprivileged(['build', 'ro/t.pkr.hcl']);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    noInternalError({ code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr });
    assert.match(r.stderr, /could not write the state in .*\/ro: permission denied\. By default the state is kept next to the template; choose a writable place with -state=PATH \(or BUILDER_STATE=PATH\)/);
    const writable = join(dir, 'w');
    mkdirSync(writable, { mode: 0o755 }); // not world-writable: such a folder is refused as unsafe
    const moved = asUnprivileged(['build', `-state=${join(writable, 'state.json')}`, 'ro/t.pkr.hcl']);
    assert.equal(moved.status, 0, moved.stdout + moved.stderr);
    assert.ok(existsSync(join(writable, 'state.json')));
    const plan = asUnprivileged(['build', '-plan', 'ro/t.pkr.hcl']);
    assert.equal(plan.status, 0, `-plan only reads the state: ${plan.stdout}${plan.stderr}`);
  });
});

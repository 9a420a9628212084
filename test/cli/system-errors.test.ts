/**
 * System errors a user can cause (issue 13): a folder where a file is expected, a file or folder
 * builder may not read or write. Each ends in one message naming the path and what to do — never
 * "Internal error", a raw `EACCES: …, open '…'` or a stack trace. Permission cases run builder
 * without root's permission-bypassing capabilities (setpriv); where that is not possible they are
 * skipped with the reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILDER_JS } from './run.js';

const UNPRIVILEGED = ['--bounding-set=-dac_override,-dac_read_search,-fowner', '--'];

interface Result {
  code: number;
  out: string;
}

function folder(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'builder-syserr-'));
  chmodSync(dir, 0o755);
  t.after(() => {
    spawnSync('chmod', ['-R', 'u+rwX', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

function run(dir: string, args: string[], unprivileged = false): Result {
  const argv = unprivileged ? ['setpriv', [...UNPRIVILEGED, process.execPath, BUILDER_JS, ...args]] as const : [process.execPath, [BUILDER_JS, ...args]] as const;
  const r = spawnSync(argv[0], [...argv[1]], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: dir, NO_COLOR: '1' } });
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

function clean(r: Result): void {
  assert.doesNotMatch(r.out, /Internal error|\bE[A-Z]{3,}: [a-z ]+, (open|read|mkdir|scandir)|\n\s+at /, r.out);
}

/** Whether this machine can run builder without the permission-bypassing capabilities. */
function canDropPrivileges(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const probe = spawnSync('setpriv', [...UNPRIVILEGED, process.execPath, '-e', ''], { encoding: 'utf8' });
  return probe.error || probe.status !== 0 ? `cannot drop the permission-bypassing capabilities here (setpriv: ${probe.error?.message ?? probe.stderr.trim()})` : undefined;
}

const FILE_TEMPLATE = `
variable "target" {
  type    = string
  default = "out.txt"
}
variable "out" {
  type    = string
  default = "."
}
source "file" "a" {
  content = "hello"
  target  = var.target
}
build {
  sources = ["source.file.a"]
  post-processor "manifest" {
    output = "\${var.out}/manifest.json"
  }
  post-processor "checksum" {
    checksum_types = ["md5"]
    output         = "\${var.out}/sum"
  }
  post-processor "compress" {
    output = "\${var.out}/a.tar.gz"
  }
}
`;

test('a folder where a file is expected: the var file, the file builder target, a template folder without templates', (t) => {
  const dir = folder(t);
  writeFileSync(join(dir, 'f.pkr.hcl'), FILE_TEMPLATE);
  mkdirSync(join(dir, 'vars.pkrvars.hcl'));
  mkdirSync(join(dir, 'outdir'));
  mkdirSync(join(dir, 'empty'));
  const varFile = run(dir, ['validate', '-var-file=vars.pkrvars.hcl', 'f.pkr.hcl']);
  assert.equal(varFile.code, 1);
  clean(varFile);
  assert.match(varFile.out, /The file "vars\.pkrvars\.hcl" could not be read: it is a directory; give the path of a file, not a folder\./);
  const target = run(dir, ['build', '-var', 'target=outdir', 'f.pkr.hcl']);
  assert.equal(target.code, 1);
  clean(target);
  assert.match(target.out, /could not write the file builder's target outdir: it is a directory\. Choose another target, or make its folder writable\./);
  const empty = run(dir, ['validate', 'empty']);
  assert.equal(empty.code, 1);
  clean(empty);
  assert.match(empty.out, /Could not find any config file in empty/);
});

test('permission denied: an unreadable var file, template and script; a read-only folder for the file builder, manifest, checksum, compress and hcl2_upgrade', (t) => {
  const why = canDropPrivileges();
  if (why) {
    t.skip(why);
    return;
  }
  const dir = folder(t);
  writeFileSync(join(dir, 'f.pkr.hcl'), FILE_TEMPLATE);
  writeFileSync(join(dir, 'secret.pkrvars.hcl'), 'target = "x.txt"\n', { mode: 0o000 });
  writeFileSync(join(dir, 'locked.pkr.hcl'), FILE_TEMPLATE, { mode: 0o000 });
  writeFileSync(join(dir, 'locked.sh'), 'echo hi\n', { mode: 0o000 });
  writeFileSync(join(dir, 'script.pkr.hcl'), 'source "null" "a" {\n  communicator = "none"\n}\nbuild {\n  sources = ["source.null.a"]\n  provisioner "shell-local" {\n    script = "locked.sh"\n  }\n}\n');
  writeFileSync(join(dir, 'legacy.json'), '{"builders":[{"type":"null","communicator":"none"}]}');
  mkdirSync(join(dir, 'ro'), { mode: 0o555 });
  chmodSync(join(dir, 'ro'), 0o555);
  const state = (n: string): string => `-state=${join(dir, `state-${n}.json`)}`;
  const cases: { args: string[]; expect: RegExp }[] = [
    { args: ['validate', '-var-file=secret.pkrvars.hcl', 'f.pkr.hcl'], expect: /The file "secret\.pkrvars\.hcl" could not be read: permission denied; check its permissions/ },
    { args: ['validate', 'locked.pkr.hcl'], expect: /The file "locked\.pkr\.hcl" could not be read: permission denied; check its permissions/ },
    { args: ['build', state('script'), 'script.pkr.hcl'], expect: /could not read .*\/locked\.sh: permission denied\. builder reads every file a build uses/ },
    { args: ['build', state('target'), '-var', 'target=ro/out.txt', 'f.pkr.hcl'], expect: /could not write the file builder's target ro\/out\.txt: permission denied\. Choose another target, or make its folder writable\./ },
    { args: ['build', state('pp'), '-var', 'out=ro', 'f.pkr.hcl'], expect: /Unable to write ro\/manifest\.json: permission denied; check its permissions[^]*unable to create file ro\/sum: permission denied[^]*Error creating tar: .*\/ro\/a\.tar\.gz: permission denied/ },
    { args: ['hcl2_upgrade', '-output-file=ro/x.pkr.hcl', 'legacy.json'], expect: /Failed to create output file ro\/x\.pkr\.hcl: permission denied; check its permissions/ },
  ];
  for (const c of cases) {
    const r = run(dir, c.args, true);
    assert.equal(r.code, 1, `${c.args.join(' ')}: ${r.out}`);
    clean(r);
    assert.match(r.out, c.expect, c.args.join(' '));
  }
});

/** `builder build` end to end: flags, exit codes, machine-readable output, masking, -only/-except. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inTempDir } from './helpers.js';
import { runCli } from './cli.js';

const template = `
variable "secret" {
  type      = string
  default   = "hunter2"
  sensitive = true
}

source "null" "a" {
  communicator = "none"
}

source "null" "b" {
  communicator = "none"
}

build {
  name    = "cmd"
  sources = ["source.null.a", "source.null.b"]

  provisioner "shell-local" {
    inline = ["echo secret=\${var.secret}, name=$PACKER_BUILD_NAME"]
  }

  post-processor "manifest" {
    name = "mf"
  }
}
`;

async function withTemplate(fn: (dir: string) => Promise<void>): Promise<void> {
  await inTempDir(async (dir) => {
    await writeFile(join(dir, 't.pkr.hcl'), template);
    await fn(dir);
  });
}

test('usage errors: bad -on-error, no template', async () => {
  await withTemplate(async (dir) => {
    const r = await runCli(['build', '-on-error=explode', 't.pkr.hcl'], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /-on-error has to be one of: cleanup, abort, ask, run-cleanup-provisioner/);
    assert.match(r.stderr, /Usage: builder build/);
    const n = await runCli(['build'], dir);
    assert.equal(n.code, 1);
    assert.match(n.stderr, /build needs a TEMPLATE argument/);
  });
});

test('sensitive values are masked in step output; -only picks builds; -except drops a named post-processor', async () => {
  await withTemplate(async (dir) => {
    const r = await runCli(['build', '-only=cmd.null.b', '-except=mf', 't.pkr.hcl'], dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ {4}cmd\.null\.b: secret=<sensitive>, name=b$/m);
    assert.doesNotMatch(r.stdout, /hunter2|cmd\.null\.a/);
    assert.doesNotMatch(r.stdout, /Running post-processor/);
    await assert.rejects(stat(join(dir, 'packer-manifest.json')));
  });
});

test('-machine-readable: Packer\'s CSV records, artifact records per build', async () => {
  await withTemplate(async (dir) => {
    const r = await runCli(['build', '-machine-readable', '-parallel-builds=1', 't.pkr.hcl'], dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.ok(lines.every((l) => /^\d+,[^,]*,[^,]+,/.test(l)), r.stdout);
    assert.ok(lines.some((l) => /^\d+,,ui,message, {4}cmd\.null\.a: secret=<sensitive>%!\(PACKER_COMMA\) name=a$/.test(l)));
    assert.ok(lines.some((l) => /^\d+,cmd\.null\.a,artifact-count,2$/.test(l)));
    assert.ok(lines.some((l) => /^\d+,cmd\.null\.b,artifact,0,builder-id,fnoeding\.null$/.test(l)));
    assert.ok(lines.some((l) => /^\d+,,ui,say,\\n==> Builds finished\. The artifacts of successful builds are:$/.test(l)));
    const m = JSON.parse(await readFile(join(dir, 'packer-manifest.json'), 'utf8'));
    assert.deepEqual(m.builds.map((b: { name: string }) => b.name), ['a', 'b']);
  });
});

test('a failing build makes the exit code 1 while the other build still succeeds', async () => {
  await inTempDir(async (dir) => {
    await writeFile(
      join(dir, 't.pkr.hcl'),
      `source "null" "ok" {\n  communicator = "none"\n}\nsource "null" "bad" {\n  communicator = "none"\n}\nbuild {\n  sources = ["source.null.ok", "source.null.bad"]\n  provisioner "shell-local" {\n    inline = ["test $PACKER_BUILD_NAME = ok"]\n  }\n}\n`,
    );
    const r = await runCli(['build', 't.pkr.hcl'], dir);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^Build 'null\.ok' finished after /m);
    assert.match(r.stdout, /^Build 'null\.bad' errored after .*: Script exited with non-zero exit status: 1/m);
    assert.match(r.stdout, /==> Builds finished\. The artifacts of successful builds are:\n--> null\.ok: Did not export anything/);
  });
});

test('a template error stops before anything runs, with the diagnostic', async () => {
  await inTempDir(async (dir) => {
    await writeFile(join(dir, 't.pkr.hcl'), `source "null" "a" {\n  communicator = "none"\n}\nbuild {\n  sources = ["source.null.a"]\n  provisioner "shell-local" {\n    inline = ["touch ran"]\n    bogus  = 1\n  }\n}\n`);
    const r = await runCli(['build', 't.pkr.hcl'], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Unsupported argument/);
    assert.equal(r.stdout, '');
    await assert.rejects(stat(join(dir, 'ran')));
  });
});

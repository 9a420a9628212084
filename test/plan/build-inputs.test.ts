/**
 * The fingerprints `builder build` plans with, computed from a real template: the files steps read
 * (a `file` provisioner's source, a file read with templatefile()) are part of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildInputs, parseIgnorePaths } from '../../src/plan/inputs.js';
import { bindBuilds } from '../../src/plan/bind.js';
import { nativeComponents } from '../../src/components.js';
import type { BuildInputs } from '../../src/plan/plan.js';
import { expandBuilds } from '../../src/template/expand.js';
import { loadHclTemplate } from '../../src/template/loader.js';

const template = `source "null" "a" {
  communicator = "ssh"
  ssh_host     = "127.0.0.1"
  ssh_username = "u"
  ssh_password = "p"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo one"]
  }
  provisioner "file" {
    source      = "\${path.root}/payload.txt"
    destination = "/tmp/payload.txt"
  }
  provisioner "shell-local" {
    inline = [templatefile("\${path.root}/greeting.tpl", { name = "x" })]
  }
}
`;

function inputsOf(dir: string): BuildInputs {
  const { template: t, diagnostics } = loadHclTemplate(join(dir, 't.pkr.hcl'), { inputs: [], env: {}, cwd: dir });
  assert.ok(t, JSON.stringify(diagnostics));
  const planned = expandBuilds(t);
  return buildInputs(bindBuilds(t, planned, nativeComponents()).builds[0]!, 'salt', dir);
}

test('a file provisioner\'s source and a templatefile() input change only their own step\'s fingerprint', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'build-inputs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 't.pkr.hcl'), template);
  writeFileSync(join(dir, 'payload.txt'), 'v1\n');
  writeFileSync(join(dir, 'greeting.tpl'), 'echo hello ${name}\n');
  const before = inputsOf(dir);
  assert.deepEqual(inputsOf(dir), before, 'the same inputs give the same fingerprints');

  writeFileSync(join(dir, 'payload.txt'), 'v2\n');
  const payload = inputsOf(dir);
  assert.equal(payload.sourceFingerprint, before.sourceFingerprint);
  assert.deepEqual(
    payload.provisioners.map((p, i) => p.fingerprint === before.provisioners[i]!.fingerprint),
    [true, false, true],
  );

  writeFileSync(join(dir, 'greeting.tpl'), 'echo goodbye ${name}\n');
  const greeting = inputsOf(dir);
  assert.deepEqual(
    greeting.provisioners.map((p, i) => p.fingerprint === payload.provisioners[i]!.fingerprint),
    [true, true, false],
  );
});

const namedTemplate = `variable "greeting" {
  type    = string
  default = "hello"
}
locals {
  stamp = formatdate("YYYYMMDDhhmmss", timestamp())
  name  = "image-\${local.stamp}"
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo \${local.name}"]
  }
  provisioner "shell-local" {
    inline = ["echo \${var.greeting}"]
    environment_vars = ["A=1"]
  }
  provisioner "shell-local" {
    script = "\${path.root}/setup.sh"
  }
}
`;

function inputsWith(dir: string, ignore: string[] = [], vars: string[] = []): BuildInputs {
  const { template: t, diagnostics } = loadHclTemplate(join(dir, 't.pkr.hcl'), { inputs: vars.map((v) => ({ kind: 'var' as const, name: v.split('=')[0]!, value: v.split('=')[1]! })), env: {}, cwd: dir });
  assert.ok(t, JSON.stringify(diagnostics));
  return buildInputs(bindBuilds(t, expandBuilds(t), nativeComponents()).builds[0]!, 'salt', dir, { ignore, template: t });
}

test('per-part hashes: one per attribute and per file read, short and salted, never a value', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'build-inputs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 't.pkr.hcl'), namedTemplate);
  writeFileSync(join(dir, 'setup.sh'), 'echo v1\n');
  const i = inputsWith(dir);
  assert.deepEqual(Object.keys(i.provisioners[1]!.inputs ?? {}).sort(), ['environment_vars', 'inline']);
  assert.ok(Object.keys(i.provisioners[2]!.inputs ?? {}).some((k) => k.startsWith('file:') && k.endsWith('setup.sh')));
  for (const h of Object.values(i.provisioners[1]!.inputs ?? {})) assert.match(h, /^[0-9a-f]{16}$/);
  assert.ok(!JSON.stringify(i).includes('hello'), 'no value in the inputs');
  assert.equal(i.sourceLabel, 'source.null.a');
  assert.deepEqual(Object.keys(i.sourceInputs ?? {}), ['communicator']);
});

test('impure values (timestamp() through two locals) and variables are found by a static walk', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'build-inputs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 't.pkr.hcl'), namedTemplate);
  writeFileSync(join(dir, 'setup.sh'), 'echo v1\n');
  const i = inputsWith(dir);
  assert.deepEqual(i.provisioners[0]!.causes, { inline: { impure: ['timestamp'], variables: [] } });
  assert.deepEqual(i.provisioners[1]!.causes, { inline: { impure: [], variables: ['greeting'] } });
  assert.equal(i.provisioners[2]!.causes, undefined);
  assert.equal(i.sourceCauses, undefined);
});

test('ignored attribute paths leave the fingerprint unchanged; files stay fingerprinted; bad paths are refused', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'build-inputs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 't.pkr.hcl'), namedTemplate);
  writeFileSync(join(dir, 'setup.sh'), 'echo v1\n');
  const ignore = ['provisioner.2.inline', 'source.null.a.communicator'];
  const before = inputsWith(dir, ignore);
  const changed = inputsWith(dir, ignore, ['greeting=bye']);
  assert.equal(changed.provisioners[1]!.fingerprint, before.provisioners[1]!.fingerprint, 'inline is ignored');
  assert.equal(changed.provisioners[1]!.inputs?.inline, undefined);
  assert.notEqual(inputsWith(dir, [], ['greeting=bye']).provisioners[1]!.fingerprint, inputsWith(dir).provisioners[1]!.fingerprint, 'not ignored: it counts');
  assert.equal(before.sourceInputs?.communicator, undefined);
  writeFileSync(join(dir, 'setup.sh'), 'echo v2\n');
  assert.notEqual(inputsWith(dir, ['provisioner.3.script']).provisioners[2]!.fingerprint, before.provisioners[2]!.fingerprint, "an ignored attribute's file still counts");
  for (const bad of ['provisioner.0.inline', 'provisioner.x.inline', 'source.null.inline', 'build.1.x', 'provisioner.1.inline.x', 'provisioner.*.inline']) {
    assert.throws(() => parseIgnorePaths([bad]), new RegExp(`"${bad.replace(/[.*]/g, '\\$&')}" is not one of source\\.TYPE\\.NAME\\.ATTRIBUTE`));
  }
});

/**
 * The fingerprints `builder build` plans with, computed from a real template: the files steps read
 * (a `file` provisioner's source, a file read with templatefile()) are part of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildInputs } from '../../src/plan/inputs.js';
import { bindBuilds } from '../../src/plan/bind.js';
import { nativeComponents } from '../../src/components.js';
import type { BuildInputs } from '../../src/plan/plan.js';
import { expandBuilds } from '../../src/template/expand.js';
import { loadTemplate } from '../../src/template/loader.js';

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
  const { template: t, diagnostics } = loadTemplate(join(dir, 't.pkr.hcl'), { inputs: [], env: {}, cwd: dir });
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

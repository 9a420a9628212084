/**
 * Values derived from sensitive ones stay secret everywhere (issue 15): `base64encode("user:${pw}")`,
 * `upper(pw)`, string templates and every line of a multi-line secret are masked in the output of
 * build, console, inspect and validate, and appear in clear nowhere in the state folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runInProcess } from '../cli/run.js';
import { inWorkdir } from '../stateful/semantics-helpers.js';

const PW = 'hunter2-Pa55';
const KEY_LINES = ['-----BEGIN TEST KEY-----', 'c2VjcmV0LWtleS1saW5lLW9uZQ', 'c2VjcmV0LWtleS1saW5lLXR3bw', '-----END TEST KEY-----'];
/** Every clear form of the secrets that must never be printed or stored. */
const CLEAR = [
  PW,
  PW.toUpperCase(),
  Buffer.from(`user:${PW}`).toString('base64'),
  `x-${PW}-y`,
  KEY_LINES[1]!,
  KEY_LINES[2]!,
];

const TEMPLATE = `
variable "pw" {
  type      = string
  sensitive = true
  default   = "${PW}"
}
variable "key" {
  type      = string
  sensitive = true
  default   = "${KEY_LINES.join('\\n')}\\n"
}
locals {
  auth  = base64encode("user:\${var.pw}")
  shout = upper(var.pw)
  tmpl  = "x-\${var.pw}-y"
}
source "null" "a" { communicator = "none" }
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    environment_vars = ["AUTH=\${local.auth}", "SHOUT=\${local.shout}", "TMPL=\${local.tmpl}", "KEY=\${var.key}"]
    inline = ["echo \\"auth=$AUTH shout=$SHOUT tmpl=$TMPL\\"", "printf '%s' \\"$KEY\\""]
  }
}
`;

function assertNoClear(text: string, where: string): void {
  for (const c of CLEAR) assert.ok(!text.includes(c), `${where} shows a secret in clear (${c.slice(0, 6)}…):\n${text}`);
}

/** Every file under `dir`, read as text. */
function allFiles(dir: string): [string, string][] {
  const out: [string, string][] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...allFiles(p));
    else out.push([p, readFileSync(p, 'latin1')]);
  }
  return out;
}

test('derived and multi-line secrets are masked in build, console, inspect and validate output, and absent from the state', async () => {
  await inWorkdir(async (w) => {
    await w.write('t.pkr.hcl', TEMPLATE);
    const build = await w.build('t.pkr.hcl');
    assert.equal(build.code, 0, build.stdout + build.stderr);
    assert.match(build.stdout, /auth=<sensitive> shout=<sensitive> tmpl=<sensitive>/);
    assertNoClear(build.stdout + build.stderr, 'build');
    for (const [file, text] of allFiles(join(w.dir, '.packer.d'))) assertNoClear(text, file);

    const run = (args: string[], stdin?: string) => runInProcess(args, { cwd: w.dir, env: {}, stdin });
    const consoleOut = await run(['console', 't.pkr.hcl'], 'local.auth\nlocal.shout\nlocal.tmpl\nvar.key\nupper(var.pw)\nsplit("\\n", var.key)\n');
    assertNoClear(consoleOut.stdout + consoleOut.stderr, 'console');
    assert.match(consoleOut.stdout, /sensitive/);
    const inspect = await run(['inspect', 't.pkr.hcl']);
    assertNoClear(inspect.stdout + inspect.stderr, 'inspect');
    const validate = await run(['validate', 't.pkr.hcl']);
    assertNoClear(validate.stdout + validate.stderr, 'validate');
    // A step's error that quotes a derived secret is masked too.
    await w.write('bad.pkr.hcl', TEMPLATE.replace('environment_vars = [', 'environment_vars = ["=${local.shout}", '));
    const bad = await run(['validate', 'bad.pkr.hcl']);
    assertNoClear(bad.stdout + bad.stderr, 'validate of a bad template');
  });
});

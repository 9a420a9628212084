/**
 * `inspect` prints the template whatever the evaluation found, as Packer's inspect does (cases
 * from Packer's own command/inspect_test.go and its fixtures' rules): unset variables and what is
 * made from them print as "<unknown>", unknown or duplicate source references, local cycles and
 * failed validation rules do not stop it, and it exits 0 printing nothing on stderr. What
 * Packer's parser rejects (a bad default, a syntax error) still fails it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIXTURES } from './corpus.js';
import { runInProcess } from '../cli/run.js';

const build0 = (source: string, provisioner: string): string =>
  `  > <unnamed build 0>:\n\n    sources:\n\n      ${source}\n\n    provisioners:\n\n      ${provisioner}\n\n    post-processors:\n\n      <no post-processor>\n\n`;

test('an unset variable and a local made from it print as <unknown>; exit 0', async () => {
  const r = await runInProcess(['inspect', 'inspect/fruit.pkr.hcl'], { cwd: FIXTURES });
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assert.equal(
    r.stdout,
    `Packer Inspect: HCL2 mode\n\n> input-variables:\n\nvar.fruit: "<unknown>"\n\n> local-variables:\n\nlocal.fruit: "<unknown>"\n\n> builds:\n\n${build0('null.builder', 'shell-local')}`,
  );
});

test('a value given with -var is shown, and in the locals made from it', async () => {
  const r = await runInProcess(['inspect', '-var=fruit=banana', 'inspect/fruit.pkr.hcl'], { cwd: FIXTURES });
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^var\.fruit: "banana"$/m);
  assert.match(r.stdout, /^local\.fruit: "banana"$/m);
});

test('unknown and duplicate sources, a local cycle, a failed validation: shown, exit 0', async () => {
  const r = await runInProcess(['inspect', 'inspect/everything-wrong.pkr.hcl'], { cwd: FIXTURES });
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^var\.image: "img-1"$/m);
  assert.match(r.stdout, /^var\.needed: "<unknown>"$/m);
  // Locals that could not be evaluated (the cycle) are left out; the others are shown.
  assert.match(r.stdout, /> local-variables:\n\nlocal\.ok: "img-1-x"\n\n> builds:/);
  // References are listed as written, declared or not; a build block that failed to decode is left out.
  assert.match(r.stdout, /sources:\n\n {6}null\.twice\n\n {6}null\.missing\n\n {6}null\.other\n/);
  assert.doesNotMatch(r.stdout, /dropped/);
});

test('validate reports every one of those problems', async () => {
  const r = await runInProcess(['validate', 'inspect/everything-wrong.pkr.hcl'], { cwd: FIXTURES });
  assert.equal(r.code, 1);
  for (const summary of ['Unset variable "needed"', 'Invalid value for default variable', 'Cycle in local variables', 'Duplicate source block', 'Unknown source null.missing', 'Unsupported argument']) {
    assert.ok(r.stderr.includes(`Error: ${summary}`), `${summary} in:\n${r.stderr}`);
  }
});

test('`default = null` is a value (null), not an unset variable', async () => {
  const i = await runInProcess(['inspect', 'inspect/null-default.pkr.hcl'], { cwd: FIXTURES });
  assert.equal(i.code, 0);
  assert.match(i.stdout, /var\.typed: "null"\nvar\.unused: "null"\nvar\.used: "null"\n/);
  const v = await runInProcess(['validate', 'inspect/null-default.pkr.hcl'], { cwd: FIXTURES });
  assert.equal(v.stderr, '');
  assert.equal(v.code, 0);
});

test('what the parser rejects still fails inspect, on stderr, exit 1', async () => {
  for (const file of ['err-bad-default-type.pkr.hcl', 'err-syntax.pkr.hcl', 'err-duplicate-variable.pkr.hcl', 'err-validation-message.pkr.hcl']) {
    const r = await runInProcess(['inspect', file], { cwd: FIXTURES });
    assert.equal(r.code, 1, file);
    assert.equal(r.stdout, '', file);
    assert.match(r.stderr, /^Error: /, file);
  }
  const bad = await runInProcess(['inspect', '-var', 'nope=1', 'minimal-null.pkr.hcl'], { cwd: FIXTURES });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Error: Undefined -var variable/);
});

test('an undeclared name in a var file is a warning for inspect and validate (exit 0)', async () => {
  for (const cmd of ['inspect', 'validate']) {
    const r = await runInProcess([cmd, '-var-file', 'undeclared.pkrvars.hcl', 'var-file-values.pkr.hcl'], { cwd: FIXTURES });
    assert.equal(r.code, 0, `${cmd}: ${r.stderr}`);
    assert.match(r.stderr, /^Warning: Undefined variable\n/, cmd);
    assert.doesNotMatch(r.stderr, /Error:/, cmd);
  }
  const quiet = await runInProcess(['validate', '-no-warn-undeclared-var', '-var-file', 'undeclared.pkrvars.hcl', 'var-file-values.pkr.hcl'], { cwd: FIXTURES });
  assert.equal(quiet.stderr, '');
  assert.equal(quiet.code, 0);
});

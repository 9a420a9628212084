/**
 * validate, inspect and console run as real processes (dist/src/cli/main.js): exit codes, which
 * stream each text goes to, diagnostics with file:line and a caret, and no stack trace for user
 * errors. Also: every example template validates and inspects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess, runInProcess } from './run.js';
import { FIXTURES } from '../template/corpus.js';

const EXAMPLES = join(FIXTURES, '..', '..', '..', 'examples');
const noStack = (text: string): void => assert.doesNotMatch(text, /\n\s+at .+:\d+:\d+\)?\n|Internal error/);

test('validate: a valid template prints "The configuration is valid." on stdout and exits 0', async () => {
  const r = await runProcess(['validate', 'examples/basic-null.pkr.hcl'], { cwd: join(EXAMPLES, '..') });
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, 'The configuration is valid.\n');
  assert.equal(r.code, 0);
});

test('validate: errors go to stderr with file, line, the enclosing block, the source line and a caret; exit 1', async () => {
  const r = await runProcess(['validate', 'err-unsupported-argument.pkr.hcl'], { cwd: FIXTURES });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^Error: Unsupported argument\n/);
  assert.match(r.stderr, /on err-unsupported-argument\.pkr\.hcl line 3, in source "null" "bad":\n\s+3:\s+not_an_option = "x"\n\s+\^+\n/);
  noStack(r.stderr);
});

test('validate: several problems are all reported in one run', async () => {
  const r = await runProcess(['validate', 'err-multiple-problems.pkr.hcl'], { cwd: FIXTURES });
  assert.equal(r.code, 1);
  assert.equal((r.stderr.match(/^Error: Invalid default value for variable$/gm) ?? []).length, 2);
});

test('validate: a component message quoting a sensitive value shows <sensitive>', async () => {
  const r = await runInProcess(['validate', 'err-sensitive-in-message.pkr.hcl'], { cwd: FIXTURES });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not in format 'key=value': <sensitive>/);
  assert.doesNotMatch(r.stderr, /s3cr3t-t0ken/);
});

test('validate: -syntax-only stops after parsing', async () => {
  const ok = await runProcess(['validate', '-syntax-only', 'err-unset-variable.pkr.hcl'], { cwd: FIXTURES });
  assert.equal(ok.stdout, 'Syntax-only check passed. Everything looks okay.\n');
  assert.equal(ok.code, 0);
  const bad = await runProcess(['validate', '-syntax-only', 'err-syntax.pkr.hcl'], { cwd: FIXTURES });
  assert.equal(bad.code, 1);
  noStack(bad.stderr);
});

test('validate: usage errors print the usage and exit 1', async () => {
  const none = await runProcess(['validate'], { cwd: FIXTURES });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /validate needs a TEMPLATE argument\n\nUsage: builder validate/);
  const flag = await runProcess(['validate', '-bogus', 'x.pkr.hcl'], { cwd: FIXTURES });
  assert.equal(flag.code, 1);
  assert.match(flag.stderr, /flag provided but not defined: -bogus/);
  const missing = await runProcess(['validate', 'no-such-file.pkr.hcl'], { cwd: FIXTURES });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /Error: Could not find any config file in no-such-file\.pkr\.hcl/);
  noStack(missing.stderr);
});

test('validate: -var, -var-file and PKR_VAR_ reach the template', async () => {
  const viaVar = await runProcess(['validate', '-var', 'region=x', 'var-file-values.pkr.hcl'], { cwd: FIXTURES });
  assert.equal(viaVar.code, 0, viaVar.stderr);
  const viaFile = await runProcess(['validate', '-var-file=values.pkrvars.hcl', 'var-file-values.pkr.hcl'], { cwd: FIXTURES });
  assert.equal(viaFile.code, 0, viaFile.stderr);
  const viaEnv = await runProcess(['validate', 'var-file-values.pkr.hcl'], { cwd: FIXTURES, env: { PKR_VAR_region: 'y' } });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
});

test('validate: a -var value parsed as HCL shows its text under a diagnostic', async () => {
  const r = await runInProcess(['validate', '-var', 'zones=["a"', 'variable-types.pkr.hcl'], { cwd: FIXTURES });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /on <value for var\.zones from arguments> line 1, column \d+:\n\s+1: \["a"\n/);
});

test('inspect: Packer\'s layout, sensitive values masked', async () => {
  const r = await runProcess(['inspect', 'sensitive-variable.pkr.hcl'], { cwd: FIXTURES });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    [
      'Packer Inspect: HCL2 mode',
      '',
      '> input-variables:',
      '',
      'var.token: "<sensitive>"',
      'var.visible: "shown"',
      '',
      '> local-variables:',
      '',
      '',
      '> builds:',
      '',
      '  > <unnamed build 0>:',
      '',
      '    sources:',
      '',
      '      null.sens',
      '',
      '    provisioners:',
      '',
      '      shell-local',
      '',
      '    post-processors:',
      '',
      '      <no post-processor>',
      '',
      '',
    ].join('\n'),
  );
  assert.doesNotMatch(r.stdout + r.stderr, /very-secret-token/);
});

test('inspect: builds with names, descriptions, chains and locals', async () => {
  const r = await runInProcess(['inspect', 'multiple-builds.pkr.hcl'], { cwd: FIXTURES });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, / {2}> <unnamed build 0>:\n\n {2}> Description: The unnamed build\.\n\n {4}sources:\n\n {6}null\.a\n\n {6}null\.b\n\n/);
  assert.match(r.stdout, / {2}> second:\n\n {4}sources:\n\n {6}null\.a\n\n/);
  const chains = await runInProcess(['inspect', 'post-processor-chains.pkr.hcl'], { cwd: FIXTURES });
  assert.match(chains.stdout, / {4}post-processors:\n\n {6}0:\n {8}manifest\n\n {6}1:\n {8}checksum\n {8}manifest\n\n/);
  const locals = await runInProcess(['inspect', 'locals-order.pkr.hcl'], { cwd: FIXTURES });
  assert.match(locals.stdout, /> local-variables:\n\nlocal\.greeting: "HELLO-2"\nlocal\.list: "\[\\n {2}\\"a\\",\\n {2}\\"c\\",\\n\]"\n/);
});

test('inspect: required plugins are listed before the variables', async () => {
  const r = await runInProcess(['inspect', 'required-plugins.pkr.hcl'], { cwd: FIXTURES });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Packer Inspect: HCL2 mode\n\n> required-plugins:\n\ndocker: source "github\.com\/hashicorp\/docker", version ">= 1\.0\.0"\n\n> input-variables:\n/);
});

test('inspect: a template the parser rejects is reported, exit 1', async () => {
  const r = await runProcess(['inspect', 'err-bad-default-type.pkr.hcl'], { cwd: FIXTURES });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /Error: Invalid default value for variable/);
  noStack(r.stderr);
});

test('console: one expression per line from stdin; errors do not stop it', async () => {
  const r = await runProcess(['console', 'variable-types.pkr.hcl'], {
    cwd: FIXTURES,
    stdin: 'var.name\nvar.count + 1\nvar.nope\nvar.zones\nupper("x")\n',
  });
  assert.equal(r.stdout, 'web\n4\n[\n  "a",\n  "b",\n]\nX\n');
  assert.match(r.stderr, /Error: Unsupported attribute/);
  assert.equal(r.code, 1);
  noStack(r.stderr);
});

test('console: without a template; sensitive values print as <sensitive>', async () => {
  const bare = await runInProcess(['console'], { cwd: FIXTURES, stdin: '1 + 2\n"a${"b"}"\n' });
  assert.equal(bare.stdout, '3\nab\n');
  assert.equal(bare.code, 0);
  const sens = await runInProcess(['console', 'sensitive-variable.pkr.hcl'], { cwd: FIXTURES, stdin: 'var.token\n' });
  assert.equal(sens.stdout, '<sensitive>\n');
});

test('every example template validates and inspects', async () => {
  const names = readdirSync(EXAMPLES).filter((n) => n.endsWith('.pkr.hcl'));
  assert.ok(names.length >= 5);
  for (const name of names) {
    const v = await runInProcess(['validate', name], { cwd: EXAMPLES });
    assert.equal(v.code, 0, `${name}: ${v.stderr}`);
    const i = await runInProcess(['inspect', name], { cwd: EXAMPLES });
    assert.equal(i.code, 0, `${name}: ${i.stderr}`);
    assert.match(i.stdout, /^Packer Inspect: HCL2 mode\n/);
  }
});

test('a template folder given by absolute path is shown with absolute file names', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'builder-cli-'));
  const elsewhere = mkdtempSync(join(tmpdir(), 'builder-cwd-'));
  try {
    writeFileSync(join(dir, 'main.pkr.hcl'), 'variable "x" {\n  type = number\n  default = "no"\n}\n');
    const r = await runInProcess(['validate', dir], { cwd: elsewhere });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`on ${join(dir, 'main.pkr.hcl').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} line 3`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(elsewhere, { recursive: true, force: true });
  }
});

/**
 * Differential test: expressions evaluated by `builder` and printed as `packer console` prints
 * them, against Packer 1.6.6 itself (`packer console --config-type=hcl2`). Only expressions whose
 * meaning did not change between Packer 1.6.6's HCL and current HCL are compared (newer HCL words
 * some index errors differently; we follow current HCL there).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluate, type EvalContext } from '../../src/hcl/eval.js';
import { parseExpression } from '../../src/hcl/parser.js';
import { displayValue } from '../../src/values/display.js';
import { Value } from '../../src/values/value.js';

const packerMissing = spawnSync('packer', ['version'], { encoding: 'utf8' }).error ? 'packer not installed' : undefined;

const TEMPLATE = `
variable "m" {
  type    = map(string)
  default = { a = "x", b = "y" }
}
variable "l" {
  type    = list(number)
  default = [3, 1, 2]
}
variable "s" {
  type      = string
  default   = "hunter2"
  sensitive = true
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
}
`;

const ctx: EvalContext = {
  variables: new Map([
    [
      'var',
      Value.object({
        m: Value.map({ a: Value.string('x'), b: Value.string('y') }),
        l: Value.list([Value.number(3), Value.number(1), Value.number(2)]),
        s: Value.string('hunter2').markSensitive(),
      }),
    ],
  ]),
  functions: new Map(),
  functionContext: { baseDir: '.', cwd: '.' },
};

/** Expressions whose printed value must match Packer's byte for byte. They are compared as the
 * elements of one tuple (one Packer process), and the first few also on their own (top-level
 * strings print bare). */
const TOP_LEVEL_CASES = ['1 + 2', '"a\\nb"', 'var.s', 'var.m'];
const VALUE_CASES = [
  '1 + 2',
  '0.1 + 0.2',
  '9007199254740993',
  '1e30',
  '1 / 3',
  '1 / 0',
  '-7 % 3',
  '"3" + 4',
  '1234567.5',
  '0.00001',
  '[1, "a", true, null]',
  '{b = "x", a = 1, c = [1, 2], d = null}',
  '[[1, 2], {x = []}, {}]',
  '["q\\"uote", "é", "\\u0001", "tab\\there"]',
  'var.m',
  'true ? 1 : "a"',
  '[for v in var.l : v * 2 if v > 1]',
  '{for k, v in var.m : v => k}',
  '{for v in ["a", "b", "a"] : v => v...}',
  '[{a = 1}, {a = 2}][*].a',
  '"x"[*]',
  '"%{for x in var.l}${x};%{endfor}"',
  '"%{if var.l[0] > 2}big%{else}small%{endif}"',
  '1 == "1"',
  '[1, "a"] == [1, "a"]',
];

/** Expressions that must fail with the same summary in both. */
const ERROR_CASES = ['null ? 1 : 2', '[for v in "abc" : v]', 'var.m.c', '"a${null}b"', '0 / 0', '1 + "a"'];

function packerConsole(dir: string, expr: string): Promise<{ stdout: string; failed: boolean }> {
  return new Promise((resolve) => {
    const child = execFile('packer', ['console', '--config-type=hcl2', join(dir, 't.pkr.hcl')], { encoding: 'utf8', env: { ...process.env, CHECKPOINT_DISABLE: '1' } }, (err, stdout, stderr) => {
      resolve({ stdout: stdout.replace(/\n$/, ''), failed: err !== null || /Error: /.test(stdout + stderr) });
    });
    child.stdin!.end(`${expr}\n`);
  });
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function pool<T, U>(items: readonly T[], limit: number, fn: (t: T) => Promise<U>): Promise<U[]> {
  const out: U[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}

function mine(expr: string): { text: string; summaries: string[] } {
  const p = parseExpression(expr, '<console-input>');
  const r = evaluate(p.expr, ctx);
  const diags = [...p.diagnostics, ...r.diagnostics];
  return { text: displayValue(r.value), summaries: diags.map((d) => d.summary) };
}

test('values print exactly as packer console prints them', { skip: packerMissing }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'builder-eval-'));
  try {
    await writeFile(join(dir, 't.pkr.hcl'), TEMPLATE);
    const exprs = [...TOP_LEVEL_CASES, `[${VALUE_CASES.join(', ')}]`];
    const theirs = await pool(exprs, 4, (e) => packerConsole(dir, e));
    exprs.forEach((expr, i) => {
      const m = mine(expr);
      assert.deepEqual(m.summaries, [], expr);
      assert.equal(theirs[i]!.failed, false, `packer failed on ${expr}: ${theirs[i]!.stdout}`);
      assert.equal(m.text, theirs[i]!.stdout, expr);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('errors are the errors packer console reports', { skip: packerMissing }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'builder-eval-'));
  try {
    await writeFile(join(dir, 't.pkr.hcl'), TEMPLATE);
    const theirs = await pool(ERROR_CASES, 4, (e) => packerConsole(dir, e));
    ERROR_CASES.forEach((expr, i) => {
      const m = mine(expr);
      assert.equal(theirs[i]!.failed, true, `packer accepted ${expr}`);
      assert.equal(m.summaries.length, 1, expr);
      assert.ok(theirs[i]!.stdout.includes(`Error: ${m.summaries[0]}`), `${expr}: packer said ${theirs[i]!.stdout}`);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

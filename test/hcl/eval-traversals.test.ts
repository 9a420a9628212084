import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExpression } from '../../src/hcl/parser.js';
import { parseJsonConfig } from '../../src/hcl/json.js';
import { variablesOf } from '../../src/hcl/traversals.js';

function refs(src: string): string[] {
  const p = parseExpression(src, 'r.pkr.hcl');
  assert.deepEqual(p.diagnostics, [], src);
  return variablesOf(p.expr).map((r) => [r.root, ...r.steps].join('.'));
}

test('variablesOf lists every reference in source order', () => {
  const cases: [string, string[]][] = [
    ['1 + 2', []],
    ['var.a', ['var.a']],
    ['local.x.y[0]', ['local.x.y.0']],
    ['local.m["k"].z', ['local.m.k.z']],
    ['"${var.a}-${local.b}"', ['var.a', 'local.b']],
    ['upper(var.a) == local.b ? path.root : packer.version', ['var.a', 'local.b', 'path.root', 'packer.version']],
    ['[for k, v in local.m: "${k}${v}${var.sep}"]', ['local.m', 'var.sep']],
    ['{for x in var.l: x => local.z[x]}', ['var.l', 'local.z']],
    ['[for var in [1]: var.foo]', []],
    ['local.list[*].id', ['local.list']],
    ['local.list.*.id', ['local.list']],
    ['{a = 1, (local.k) = 2}', ['local.k']],
    ['"%{ for s in var.l }${s}${local.sep}%{ endfor }"', ['var.l', 'local.sep']],
    ['"%{ if var.on }${local.a}%{ else }${local.b}%{ endif }"', ['var.on', 'local.a', 'local.b']],
    ['local.m[var.key]', ['local.m', 'var.key']],
    ['(local.a).b', ['local.a']],
    ['!local.flag && -local.n > 0', ['local.flag', 'local.n']],
  ];
  for (const [src, want] of cases) assert.deepEqual(refs(src), want, src);
});

test('references carry their source range', () => {
  const p = parseExpression('1 + local.abc', 'r.pkr.hcl');
  const [r] = variablesOf(p.expr);
  assert.equal(r!.range.start.column, 5);
  assert.equal(r!.range.end.column, 14);
});

test('variablesOf reads JSON expressions as they are evaluated', () => {
  const f = parseJsonConfig('{"x": {"${local.k}": ["${var.a}", "plain", "${upper(local.b)}"]}}', 'r.pkr.json').file;
  assert.ok(f.body.kind === 'json' && f.body.value.kind === 'object');
  const v = f.body.value.props[0]!.value;
  const got = variablesOf({ kind: 'json', value: v, range: v.range }).map((r) => `${r.root}.${r.steps.join('.')}`);
  assert.deepEqual(got, ['local.k', 'var.a', 'local.b']);
});

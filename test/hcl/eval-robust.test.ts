/**
 * The evaluator never throws for user errors: thousands of generated expressions (combinations of
 * every expression form over awkward values: null, unknown, sensitive, empty, mixed collections)
 * must each give a value and diagnostics. The generator is seeded, so a failure reproduces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, type EvalContext } from '../../src/hcl/eval.js';
import { parseExpression } from '../../src/hcl/parser.js';
import { displayValue } from '../../src/values/display.js';
import { T, Value } from '../../src/values/value.js';
import type { FunctionDef } from '../../src/functions/types.js';

const ctx: EvalContext = {
  variables: new Map([
    [
      'v',
      Value.object({
        n: Value.null(),
        u: Value.unknown(),
        us: Value.unknown(T.string),
        ul: Value.unknown(T.list(T.number)),
        s: Value.string('x').markSensitive(),
        l: Value.list([Value.number(1), Value.number(2)]),
        e: Value.tuple([]),
        m: Value.map({ a: Value.string('1') }),
        o: Value.object({ a: Value.tuple([Value.null(), Value.bool(true)]) }),
        st: Value.set([Value.string('b'), Value.string('a')]),
        sl: Value.list([Value.string('q')]).markSensitive(),
      }),
    ],
  ]),
  functions: new Map<string, FunctionDef>([['id', { params: [{ name: 'x', type: T.dynamic, allowNull: true, allowUnknown: true }], impl: ([x]) => x! }]]),
  functionContext: { baseDir: '.', cwd: '.' },
};

function prng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x / 0x80000000;
  };
}

const ATOMS = ['v.n', 'v.u', 'v.us', 'v.ul', 'v.s', 'v.l', 'v.e', 'v.m', 'v.o', 'v.st', 'v.sl', 'null', '0', '-1', '1.5', '"a"', '"1"', 'true', '[]', '{}', 'v.o.a', 'v.missing', 'nope'];

function gen(r: () => number, depth: number): string {
  const pick = <X>(xs: readonly X[]): X => xs[Math.floor(r() * xs.length)]!;
  if (depth <= 0) return pick(ATOMS);
  const a = (): string => gen(r, depth - 1);
  const forms: (() => string)[] = [
    () => pick(ATOMS),
    () => `${a()} ${pick(['+', '-', '*', '/', '%', '==', '!=', '<', '>=', '&&', '||'])} ${a()}`,
    () => `${pick(['!', '-'])}${a()}`,
    () => `${a()} ? ${a()} : ${a()}`,
    () => `[${a()}, ${a()}]`,
    () => `{k = ${a()}, (${a()}) = 1}`,
    () => `${a()}[${a()}]`,
    () => `(${a()}).a`,
    () => `${a()}[*].a`,
    () => `${a()}.*`,
    () => `[for k, x in ${a()} : x if ${a()}]`,
    () => `{for k, x in ${a()} : ${a()} => x...}`,
    () => `"p\${${a()}}%{ if ${a()} }t%{ endif }%{ for x in ${a()} }\${x}%{ endfor }"`,
    () => `id(${a()})`,
    () => `id([${a()}]...)`,
  ];
  return pick(forms)();
}

test('evaluate never throws on generated expressions', () => {
  const r = prng(20261125);
  let evaluated = 0;
  for (let i = 0; i < 3000; i++) {
    const src = gen(r, 3);
    const p = parseExpression(src, 'gen.hcl');
    if (p.diagnostics.some((d) => d.severity === 'error')) continue;
    try {
      const out = evaluate(p.expr, ctx);
      displayValue(out.value);
      for (const d of out.diagnostics) assert.ok(d.summary.length > 0 && d.subject, `diagnostic without text or place for ${src}`);
    } catch (e) {
      assert.fail(`evaluate threw on ${src}: ${(e as Error).stack}`);
    }
    evaluated++;
  }
  assert.ok(evaluated > 2000, `only ${evaluated} generated expressions parsed`);
});

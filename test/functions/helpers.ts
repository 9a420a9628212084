/**
 * Evaluates expressions written as HCL text against Packer's function library, for table tests:
 * `run('length("héllo")')` gives the text `packer console` would print, or the error's
 * diagnostic summary and detail.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packerFunctions } from '../../src/functions/index.js';
import type { FunctionCallContext } from '../../src/functions/types.js';
import { evaluate } from '../../src/hcl/eval.js';
import { parseExpression } from '../../src/hcl/parser.js';
import { displayValue } from '../../src/values/display.js';
import type { Value } from '../../src/values/value.js';

export interface RunResult {
  /** What `packer console` would print, when there was no error. */
  text?: string;
  value?: Value;
  /** "Summary: detail" of the first error diagnostic. */
  error?: string;
}

export function run(src: string, fctx: Partial<FunctionCallContext> = {}, variables: ReadonlyMap<string, Value> = new Map()): RunResult {
  const parsed = parseExpression(src, 'test.pkr.hcl');
  const perr = parsed.diagnostics.find((d) => d.severity === 'error');
  if (perr) throw new Error(`test expression does not parse: ${perr.summary}: ${perr.detail ?? ''}`);
  const r = evaluate(parsed.expr, { variables, functions: packerFunctions, functionContext: { baseDir: '.', cwd: process.cwd(), ...fctx } });
  const err = r.diagnostics.find((d) => d.severity === 'error');
  if (err) return { error: `${err.summary}: ${err.detail ?? ''}` };
  return { text: displayValue(r.value), value: r.value };
}

/** A case: the expression and what it prints, or `{ error }` with a part of the error text. */
export type Case = readonly [string, string | { error: string }];

/** Runs each case as its own subtest. */
export async function table(t: { test(name: string, fn: () => void): Promise<void> }, cases: readonly Case[], assertCase: (src: string, want: Case[1]) => void): Promise<void> {
  for (const [src, want] of cases) await t.test(src, () => assertCase(src, want));
}

/** A temp folder for filesystem tests, removed by `cleanup`. */
export function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'builder-functions-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

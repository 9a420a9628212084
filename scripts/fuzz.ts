/**
 * Fuzzer for the HCL front end (`npm run fuzz [-- --seconds N]`, default 180 s).
 *
 * Inputs (each derived from a numbered seed, so any input can be regenerated from its seed):
 * mutations, truncations and splices of the corpus (`examples/*.pkr.hcl` and every
 * `test/fixtures/**` `.pkr.hcl` / `.pkr.json`), random characters, token soup, deep nesting
 * (up to 100,000 levels) and, every few thousand inputs, a huge string (10–50 MB).
 *
 * Targets: `lex`, `parseConfig`, `parseJsonConfig`, `parseExpression`, `parseTemplate`, and, when
 * those modules exist, the evaluator (`src/hcl/eval.ts`, on every parsed attribute expression)
 * and `formatSource` (`src/hcl/format.ts`).
 *
 * A finding is anything thrown (diagnostics are returned, never thrown), a target slower than its budget
 * on an input (2 s of CPU time plus 100 ms per MB, measured again on a second run so that JIT
 * warm-up does not count), or a hang (20 s of CPU time on one input: the worker running the targets is stopped
 * and restarted). Each finding's input is saved under `test/fixtures/fuzz/` (one file per
 * distinct failure), where `test/hcl/fuzz-regressions.test.ts` replays it.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Body, Expression } from '../src/hcl/ast.js';
import { lex } from '../src/hcl/lexer.js';
import { parseJsonConfig } from '../src/hcl/json.js';
import { parseConfig, parseExpression, parseTemplate } from '../src/hcl/parser.js';

export const FINDINGS_DIR = 'test/fixtures/fuzz';
/** CPU time (not wall time: the machine may be busy) after which an input counts as a hang. */
const HANG_CPU_MS = 20_000;

export interface Input {
  text: string;
  json: boolean;
  how: string;
}

interface Finding {
  seed: number;
  target: string;
  kind: 'crash' | 'slow' | 'hang';
  message: string;
  ms: number;
}

// ---- deterministic input generation ----------------------------------------------------------

/** mulberry32: a small seeded PRNG, so that a seed always gives the same input. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function loadCorpus(): { name: string; text: string; json: boolean }[] {
  const out: { name: string; text: string; json: boolean }[] = [];
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) {
        if (p !== FINDINGS_DIR) walk(p);
      } else if (name.endsWith('.pkr.hcl') || name.endsWith('.pkr.json')) {
        out.push({ name: p, text: readFileSync(p, 'utf8'), json: name.endsWith('.json') });
      }
    }
  };
  for (const name of readdirSync('examples').sort()) {
    if (name.endsWith('.pkr.hcl')) out.push({ name: join('examples', name), text: readFileSync(join('examples', name), 'utf8'), json: false });
  }
  walk('test/fixtures');
  return out;
}

const HCL_FRAGMENTS = [
  '{', '}', '[', ']', '(', ')', '"', '${', '%{', '~}', '${~', '%{~', '<<EOT\n', '<<-EOT\n', 'EOT\n', '  EOT\n', '\n', '\r\n',
  '=', '==', '!=', ':', '?', '=>', '...', '.', '*', '[*]', '.*', '.0', 'for ', ' in ', 'if ', 'endif', 'else', 'endfor',
  'a', 'b.c', 'var.x', '1', '1.5e3', '0.1.2', '-', '!', '&&', '||', '+', '/', '%', '<', '>=', '#c\n', '//c\n', '/*', '*/',
  '$${', '%%{', '\\n', '\\u00e9', '\\U0001F600', '\\', ',', 'true', 'null', 'f(', 'x', ' ', '\t', "'", ';', '`', '&', '|',
  '~', '::', 'variable "x" {\n', 'source "a" "b" {\n', 'build {\n', 'locals {\n', 'a { b = 1 }\n', 'é', '\u{1F600}',
  '\ud800', '\u0000', '\ufeff', '\u2028',
];
const JSON_FRAGMENTS = [
  '{', '}', '[', ']', ':', ',', '"a"', '"${x}"', '"%{if a}b%{endif}"', '1', '-1.5e3', '01', 'true', 'null', 'tru', '"//"',
  '"variable"', '"source"', '"build"', ' ', '\n', '"\\u00e9"', '"\\q"', '"\\ud800"', '"', '=', 'NaN',
];
const CHARS = ' \n\r\t{}[]()"\'$%~<>=!&|,.:?*/#\\-+;`@^_aZ09eé\u{1F600}\ud800\udc00\u0000\ufeff\u2028';
const NEST = [
  ['(', ')'], ['[', ']'], ['{a=', '}'], ['"${', '}"'], ['a {\n', '}\n'], ['x = [', ']'], ['!', ''], ['-', ''],
  ['f(', ')'], ['"%{if a}', '%{endif}"'], ['{"a":', '}'], ['[', ']'], ['<<EOT\n${', '}\nEOT\n'], ['a ? ', ' : b'],
];

function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)];
}

function int(r: () => number, max: number): number {
  return Math.floor(r() * max);
}

function randomText(r: () => number, len: number): string {
  const chars = [...CHARS];
  let s = '';
  for (let i = 0; i < len; i++) s += pick(r, chars);
  return s;
}

function mutate(r: () => number, text: string, json: boolean): string {
  let s = text;
  const n = 1 + int(r, 8);
  for (let i = 0; i < n; i++) {
    const at = int(r, s.length + 1);
    switch (int(r, 6)) {
      case 0: s = s.slice(0, at) + s.slice(at + 1 + int(r, 20)); break;
      case 1: s = s.slice(0, at) + pick(r, json ? JSON_FRAGMENTS : HCL_FRAGMENTS) + s.slice(at); break;
      case 2: s = s.slice(0, at) + randomText(r, 1 + int(r, 5)) + s.slice(at); break;
      case 3: {
        const from = int(r, s.length + 1);
        s = s.slice(0, at) + s.slice(from, from + int(r, 80)) + s.slice(at);
        break;
      }
      case 4: s = s.slice(0, at) + s.slice(at, at + 1).repeat(1 + int(r, 50)) + s.slice(at + 1); break;
      default: {
        const from = int(r, s.length + 1);
        const len = int(r, 40);
        const piece = s.slice(from, from + len);
        s = s.slice(0, from) + s.slice(from + len);
        const to = int(r, s.length + 1);
        s = s.slice(0, to) + piece + s.slice(to);
      }
    }
  }
  return s;
}

function makeInput(seed: number, corpus: readonly { name: string; text: string; json: boolean }[]): Input {
  const r = rng(seed);
  if (seed % 4000 === 1) {
    const size = pick(r, [10, 20, 50]) * 1_000_000;
    const body = pick(r, ['x', 'ab ', 'é', '$', '\\n']).repeat(size / 2);
    const shape = int(r, 4);
    if (shape === 0) return { text: `a = "${body}"\n`, json: false, how: `huge quoted string ${size}` };
    if (shape === 1) return { text: `a = <<EOT\n${body}\nEOT\n`, json: false, how: `huge heredoc ${size}` };
    if (shape === 2) return { text: `{"a": "${body}"}`, json: true, how: `huge JSON string ${size}` };
    return { text: `# ${body}\n`, json: false, how: `huge comment ${size}` };
  }
  const strategy = r();
  if (strategy < 0.05) {
    const [open, close] = pick(r, NEST);
    const depth = r() < 0.05 ? 100_000 : pick(r, [10, 100, 251, 300, 1000, 3000]);
    const closed = r() < 0.7;
    return { text: open.repeat(depth) + '1' + (closed ? close.repeat(depth) : ''), json: open.startsWith('{"') || (open === '[' && r() < 0.5), how: `nesting ${JSON.stringify(open)} x${depth}` };
  }
  if (strategy < 0.14) return { text: randomText(r, int(r, 400)), json: r() < 0.3, how: 'random characters' };
  if (strategy < 0.26) {
    const json = r() < 0.3;
    const parts: string[] = [];
    const n = int(r, 120);
    for (let i = 0; i < n; i++) parts.push(pick(r, json ? JSON_FRAGMENTS : HCL_FRAGMENTS));
    return { text: parts.join(''), json, how: 'token soup' };
  }
  const item = pick(r, corpus);
  if (strategy < 0.38) return { text: item.text.slice(0, int(r, item.text.length + 1)), json: item.json, how: `truncated ${item.name}` };
  if (strategy < 0.45) {
    const other = pick(r, corpus);
    const a = int(r, item.text.length + 1);
    const b = int(r, other.text.length + 1);
    return { text: item.text.slice(0, a) + other.text.slice(b), json: item.json, how: `splice ${item.name} + ${other.name}` };
  }
  return { text: mutate(r, item.text, item.json), json: item.json, how: `mutated ${item.name}` };
}

// ---- targets ---------------------------------------------------------------------------------

type Evaluate = (expr: Expression, ctx: unknown) => unknown;
type Format = (source: string, filename: string) => unknown;

export interface Optional {
  evaluate?: Evaluate;
  evalContext?: unknown;
  formatSource?: Format;
}

/** Imports a module that other parts of the project provide and that may not exist yet (the
 * specifier is a variable so that the build does not require it). */
async function importOptional(specifier: string): Promise<unknown> {
  return import(specifier);
}

export async function loadOptional(): Promise<Optional> {
  const out: Optional = {};
  try {
    const evalModule = (await importOptional('../src/hcl/eval.js')) as { evaluate?: Evaluate };
    const fnModule = (await importOptional('../src/functions/index.js')) as { packerFunctions?: unknown };
    if (typeof evalModule.evaluate === 'function') {
      out.evaluate = evalModule.evaluate;
      const dir = join(tmpdir(), 'builder-fuzz');
      mkdirSync(dir, { recursive: true });
      out.evalContext = { variables: new Map(), functions: fnModule.packerFunctions ?? new Map(), functionContext: { baseDir: dir, cwd: dir } };
    }
  } catch {
    // the evaluator is not built: fuzz the parsers only
  }
  try {
    const formatModule = (await importOptional('../src/hcl/format.js')) as { formatSource?: Format };
    if (typeof formatModule.formatSource === 'function') out.formatSource = formatModule.formatSource;
  } catch {
    // fmt is not built
  }
  return out;
}

/** Expressions of every attribute in a body and its nested blocks (at most `limit`). */
function expressionsOf(body: Body, limit: number): Expression[] {
  const out: Expression[] = [];
  const bodies: Body[] = [body];
  while (bodies.length > 0 && out.length < limit) {
    const b = bodies.pop() as Body;
    if (b.kind === 'native') {
      for (const a of b.attributes) out.push(a.expr);
      for (const bl of b.blocks) bodies.push(bl.body);
    } else if (b.value.kind === 'object') {
      for (const p of b.value.props) out.push({ kind: 'json', value: p.value, range: p.value.range });
    }
  }
  return out.slice(0, limit);
}

/** Runs every target on one input; calls `onFailure` for each one that throws. Returns the CPU
 * time each target took (the evaluator's calls summed). */
export function runTargets(input: Input, optional: Optional, onFailure: (target: string, err: unknown) => void): Map<string, number> {
  const times = new Map<string, number>();
  const attempt = (target: string, f: () => void): void => {
    const t0 = cpuMs();
    try {
      f();
    } catch (err) {
      onFailure(target, err);
    }
    times.set(target, (times.get(target) ?? 0) + cpuMs() - t0);
  };
  const filename = input.json ? 'fuzz.pkr.json' : 'fuzz.pkr.hcl';
  attempt('lex', () => void lex(input.text, filename));
  let body: Body | undefined;
  attempt('parseConfig', () => {
    body = parseConfig(input.text, filename).file.body;
  });
  attempt('parseJsonConfig', () => {
    const parsed = parseJsonConfig(input.text, filename);
    if (input.json) body = parsed.file.body;
  });
  if (input.text.length < 2_000_000) {
    attempt('parseExpression', () => void parseExpression(input.text, filename));
    attempt('parseTemplate', () => void parseTemplate(input.text, filename));
  }
  const { evaluate, evalContext, formatSource } = optional;
  if (evaluate && body) {
    for (const expr of expressionsOf(body, 40)) {
      attempt('evaluate', () => void evaluate(expr, evalContext));
      attempt('evaluate(null)', () => void evaluate(expr, null));
    }
  }
  if (formatSource && !input.json) attempt('formatSource', () => void formatSource(input.text, filename));
  return times;
}

/** CPU time of the process in ms (the supervising thread sleeps, so this is the worker's). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function budgetMs(input: Input): number {
  return 2000 + (input.text.length / 1_000_000) * 100;
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const frame = (err.stack ?? '').split('\n').find((l) => l.trim().startsWith('at ')) ?? '';
    return `${err.name}: ${err.message.slice(0, 200)} ${frame.trim()}`;
  }
  return String(err).slice(0, 200);
}

// ---- worker: runs inputs from consecutive seeds ----------------------------------------------

async function workerMain(): Promise<void> {
  const { firstSeed, progress } = workerData as { firstSeed: number; progress: SharedArrayBuffer };
  const state = new Float64Array(progress);
  const corpus = loadCorpus();
  const optional = await loadOptional();
  const port = parentPort;
  if (!port) return;
  for (let seed = firstSeed; ; seed++) {
    const input = makeInput(seed, corpus);
    state[0] = seed;
    state[1] = cpuMs();
    const slow = (times: Map<string, number>): [string, number][] => [...times].filter(([, ms]) => ms > budgetMs(input));
    let slowTargets = slow(runTargets(input, optional, (target, err) => {
      port.postMessage({ finding: { seed, target, kind: 'crash', message: describe(err), ms: 0 } satisfies Finding });
    }));
    // The first runs of a target are slow while the JIT warms up: time a second run.
    if (slowTargets.length > 0) slowTargets = slow(runTargets(input, optional, () => undefined));
    for (const [target, ms] of slowTargets) {
      port.postMessage({ finding: { seed, target, kind: 'slow', message: `${input.how}: ${Math.round(ms)} ms of CPU time for ${input.text.length} characters`, ms } satisfies Finding });
    }
    state[2] += 1;
    state[3] += input.text.length;
  }
}

// ---- main: supervises the worker, saves findings, reports figures ----------------------------

function parseSeconds(argv: readonly string[]): number {
  const i = argv.indexOf('--seconds');
  const raw = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith('--seconds='))?.slice('--seconds='.length);
  const n = raw === undefined ? 180 : Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write('Usage: fuzz [--seconds N]\n');
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  const seconds = parseSeconds(process.argv.slice(2));
  const corpus = loadCorpus();
  mkdirSync(FINDINGS_DIR, { recursive: true });
  const baseSeed = (Date.now() % 1_000_000) * 1000;
  const seen = new Set<string>();
  const findings: Finding[] = [];
  let inputs = 0;
  let chars = 0;
  let nextSeed = baseSeed;

  const save = (f: Finding): void => {
    const key = `${f.kind}:${f.target}:${f.kind === 'crash' ? f.message : ''}`;
    if (seen.has(key)) return;
    seen.add(key);
    findings.push(f);
    const input = makeInput(f.seed, corpus);
    const hash = createHash('sha256').update(input.text).digest('hex').slice(0, 12);
    const file = join(FINDINGS_DIR, `${f.kind}-${f.target.replace(/[^a-zA-Z]/g, '')}-${hash}${input.json ? '.pkr.json' : '.pkr.hcl'}`);
    if (input.text.length <= 1_000_000) writeFileSync(file, input.text);
    process.stdout.write(`finding: ${f.kind} in ${f.target} (seed ${f.seed}, ${input.how}): ${f.message}\n  ${input.text.length <= 1_000_000 ? `saved ${file}` : 'input too large to save; regenerate it from the seed'}\n`);
  };

  const start = Date.now();
  const deadline = start + seconds * 1000;
  while (Date.now() < deadline) {
    const progress = new SharedArrayBuffer(4 * Float64Array.BYTES_PER_ELEMENT);
    const state = new Float64Array(progress);
    state[0] = nextSeed;
    state[1] = cpuMs();
    const worker = new Worker(new URL(import.meta.url), { workerData: { firstSeed: nextSeed, progress } });
    worker.on('message', (m: { finding?: Finding }) => {
      if (m.finding) save(m.finding);
    });
    const crashed = new Promise<void>((resolve) => worker.on('error', (err) => {
      save({ seed: state[0], target: 'worker', kind: 'crash', message: describe(err), ms: 0 });
      resolve();
    }));
    let workerDead = false;
    void crashed.then(() => {
      workerDead = true;
    });
    while (!workerDead && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      if (cpuMs() - state[1] > HANG_CPU_MS) {
        save({ seed: state[0], target: 'all', kind: 'hang', message: `no progress after ${HANG_CPU_MS / 1000} s of CPU time`, ms: HANG_CPU_MS });
        break;
      }
    }
    inputs += state[2];
    chars += state[3];
    nextSeed = state[0] + 1;
    await worker.terminate();
  }
  const elapsed = (Date.now() - start) / 1000;
  process.stdout.write(
    `fuzz: ${elapsed.toFixed(0)} s, ${inputs} inputs (${(inputs / elapsed).toFixed(0)}/s), ${(chars / 1e6).toFixed(1)} M characters, ` +
    `${findings.length} distinct finding(s), seeds ${baseSeed}..${nextSeed}\n`,
  );
  process.exitCode = findings.length > 0 ? 1 : 0;
}

const runDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (!isMainThread) {
  void workerMain();
} else if (runDirectly) {
  void main();
}

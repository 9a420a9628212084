/**
 * Locals and data blocks, evaluated together in dependency order — current Packer's default (its
 * DAG of "build prerequisites"): a data block may use variables, locals and other data blocks, and
 * a local may use data blocks. References are found with `variablesOf` (`local.NAME…`,
 * `data.TYPE.NAME…`). With `sequential` (`-use-sequential-evaluation`, Packer's fallback: every
 * data block before the locals) a data block that refers to a local is an error and is not run;
 * any other template gives the same values in either order, so the same dependency order serves.
 *
 * Contracts:
 * - The graph is ordered with Tarjan's algorithm: every cycle is reported once, naming all its
 *   members (`local.a`, `data.null.b`), and whatever is outside a cycle is still evaluated.
 * - Every local and data block is visible from the start (unknown until evaluated), so a reference
 *   to a member of a cycle or to a failed block is not also reported as undeclared.
 * - Evaluation is a generator that yields each data source execution (`() => Promise<Value>`) and
 *   is resumed with its result (or the Error): `evaluatePrereqs` drives it asynchronously,
 *   `evaluatePrereqsSync` when nothing executes (`validate`, the synchronous loader).
 */
import { errorDiag, type Diagnostic } from '../diagnostics.js';
import type { EvalContext } from '../hcl/eval.js';
import { variablesOf } from '../hcl/traversals.js';
import type { Expression } from '../hcl/ast.js';
import { Value } from '../values/value.js';
import { dataObject } from './context.js';
import { bodyExpressions, dataFailure, startDataBlock, type DataEvaluation } from './data.js';
import { evaluateLocal, type DeclaredLocal } from './locals.js';
import type { LocalDef, Template } from './model.js';

/** Orders `deps` (node → the nodes it refers to) so each node comes after its dependencies;
 * nodes in a cycle (or referring to themselves) are left out of `order` and listed in `cycles`. */
export function orderGraph(deps: ReadonlyMap<string, readonly string[]>): { order: string[]; cycles: string[][] } {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const order: string[] = [];
  const cycles: string[][] = [];
  let counter = 0;
  const visit = (n: string): void => {
    index.set(n, counter);
    low.set(n, counter);
    counter++;
    stack.push(n);
    onStack.add(n);
    for (const d of deps.get(n) ?? []) {
      if (!index.has(d)) {
        visit(d);
        low.set(n, Math.min(low.get(n)!, low.get(d)!));
      } else if (onStack.has(d)) {
        low.set(n, Math.min(low.get(n)!, index.get(d)!));
      }
    }
    if (low.get(n) === index.get(n)) {
      const scc: string[] = [];
      let m: string;
      do {
        m = stack.pop()!;
        onStack.delete(m);
        scc.push(m);
      } while (m !== n);
      if (scc.length > 1 || (deps.get(n) ?? []).includes(n)) cycles.push(scc.reverse());
      else order.push(n);
    }
  };
  for (const n of deps.keys()) if (!index.has(n)) visit(n);
  return { order, cycles };
}

/** The graph nodes an expression refers to: `local.NAME`, `data.TYPE.NAME` (those in `nodes`). */
function refsOf(exprs: readonly Expression[], nodes: ReadonlySet<string>): string[] {
  const out = new Set<string>();
  for (const e of exprs) {
    for (const ref of variablesOf(e)) {
      const key = ref.root === 'local' && ref.steps[0] !== undefined ? `local.${ref.steps[0]}`
        : ref.root === 'data' && ref.steps[1] !== undefined ? `data.${ref.steps[0]}.${ref.steps[1]}` : undefined;
      if (key && nodes.has(key)) out.add(key);
    }
  }
  return [...out];
}

export interface PrereqInputs {
  template: Template;
  declaredLocals: ReadonlyMap<string, DeclaredLocal>;
  /** The context for a local (given the names of the locals it refers to) or a data block
   * (`refs` undefined: every local); `data` is the current `data` object. */
  contextFor(refs: readonly string[] | undefined, data: Value): EvalContext;
  data: DataEvaluation;
  /** `-use-sequential-evaluation`: data blocks may not refer to locals. */
  sequential?: boolean;
}

type Execution = () => Promise<Value>;

function* prereqSteps(p: PrereqInputs): Generator<Execution, Diagnostic[], Value | Error> {
  const { template, declaredLocals } = p;
  const diags: Diagnostic[] = [];
  const locals = new Map<string, LocalDef>();
  template.locals = locals;
  for (const l of declaredLocals.values()) locals.set(l.name, { name: l.name, sensitive: l.sensitive, range: l.range });
  const blocks = new Map(template.dataSources.map((d) => [`data.${d.type}.${d.name}`, d]));
  const nodes = new Set([...[...declaredLocals.keys()].map((n) => `local.${n}`), ...blocks.keys()]);
  const deps = new Map<string, string[]>();
  for (const [n, l] of declaredLocals) deps.set(`local.${n}`, refsOf([l.expr], nodes));
  for (const [key, d] of blocks) deps.set(key, refsOf(bodyExpressions(d.body), nodes));

  const refused = new Set<string>();
  if (p.sequential) {
    for (const [key, d] of blocks) {
      const usedLocals = (deps.get(key) ?? []).filter((n) => n.startsWith('local.'));
      if (usedLocals.length === 0) continue;
      refused.add(key);
      deps.set(key, (deps.get(key) ?? []).filter((n) => !n.startsWith('local.')));
      diags.push(errorDiag(
        'Data block refers to a local',
        `With -use-sequential-evaluation every data block is evaluated before the locals, so ${key} cannot use ${usedLocals.join(', ')}. ` +
          'Run without -use-sequential-evaluation (data blocks and locals are then evaluated together, in dependency order), or use a variable instead.',
        d.range,
      ));
    }
  }

  const { order, cycles } = orderGraph(deps);
  for (const cycle of cycles) {
    const onlyLocals = cycle.every((n) => n.startsWith('local.'));
    const first = cycle[0]!;
    const range = first.startsWith('local.') ? declaredLocals.get(first.slice(6))!.range : blocks.get(first)!.range;
    diags.push(errorDiag(
      onlyLocals ? 'Cycle in local variables' : 'Cycle in data sources and local variables',
      `${onlyLocals ? 'The local variables' : 'These refer to each other in a cycle:'} ${cycle.join(', ')}${onlyLocals ? ' refer to each other in a cycle,' : ';'} so none of them can be evaluated. ` +
        'Break the cycle by making one of them independent of the others.',
      range,
    ));
  }

  let data = dataObject(template);
  for (const key of order) {
    if (key.startsWith('local.')) {
      const l = declaredLocals.get(key.slice(6))!;
      const refs = (deps.get(key) ?? []).filter((d) => d.startsWith('local.')).map((d) => d.slice(6));
      const r = evaluateLocal(l, p.contextFor(refs, data));
      diags.push(...r.diagnostics);
      locals.set(l.name, r.local);
      continue;
    }
    const d = blocks.get(key)!;
    if (refused.has(key)) continue;
    const started = startDataBlock(d, p.contextFor(undefined, data), p.data);
    diags.push(...started.diagnostics);
    if (started.run) {
      const result = yield started.run;
      if (result instanceof Error) diags.push(dataFailure(d, result));
      else d.value = result;
    } else if (started.value) {
      d.value = started.value;
    }
    data = dataObject(template);
  }
  return diags;
}

/** Evaluates the locals and data blocks, executing data sources as they come (in order). */
export async function evaluatePrereqs(p: PrereqInputs): Promise<Diagnostic[]> {
  const steps = prereqSteps(p);
  let next = steps.next();
  while (!next.done) {
    let result: Value | Error;
    try {
      result = await next.value();
    } catch (e) {
      if (p.data.context.signal.aborted) throw e;
      result = e instanceof Error ? e : new Error(String(e));
    }
    next = steps.next(result);
  }
  return next.value;
}

/** As `evaluatePrereqs`, for an evaluation that executes nothing (`p.data.execute` false). */
export function evaluatePrereqsSync(p: PrereqInputs): Diagnostic[] {
  const steps = prereqSteps(p);
  const next = steps.next();
  if (!next.done) throw new Error('evaluatePrereqsSync: a data source would be executed');
  return next.value;
}

/**
 * `data "TYPE" "NAME" { … }` blocks: declared while loading (`decodeDataBlock`), then evaluated in
 * dependency order with the locals (src/template/prereqs.ts) by `startDataBlock`.
 *
 * Contracts:
 * - The body is evaluated in the locals context (`var`, `local`, `data`, `path`, `packer`) and
 *   checked against the data source's ConfigSpec (file:line:col diagnostics), then `prepare`d.
 * - Not executing (`validate` without `-evaluate-datasources`): the value is an unknown value of the
 *   data source's output type, so `data.T.N.wrong` is still reported where it is used.
 * - Executing: `run()` resolves to the result; its failure becomes a diagnostic on the block.
 * - A block whose configuration uses a sensitive value gives a sensitive result (masked in output).
 */
import { errorDiag, warningDiag, type Diagnostic } from '../diagnostics.js';
import type { Block, Body, Expression } from '../hcl/ast.js';
import type { EvalContext } from '../hcl/eval.js';
import type { DataSourceContext, DataSourceDef } from '../sdk/component.js';
import type { Registry } from '../sdk/registry.js';
import { Value } from '../values/value.js';
import { evaluateBody } from './evaluate-config.js';
import type { DataBlockDef } from './model.js';
import { defRange, placeString } from './ranges.js';

export function decodeDataBlock(block: Block, dataSources: DataBlockDef[]): Diagnostic[] {
  const [type, name] = block.labels as [string, string];
  const range = defRange(block);
  const existing = dataSources.find((d) => d.type === type && d.name === name);
  if (existing) {
    return [errorDiag('Duplicate data block', `This data block has the same type and name as a previous block declared at ${placeString(existing.range)}.`, range)];
  }
  dataSources.push({ type, name, body: block.body, range, typeRange: block.labelRanges[0] ?? range });
  return [];
}

/** Every attribute expression of a body and of the blocks inside it (for its references). */
export function bodyExpressions(body: Body): Expression[] {
  if (body.kind === 'json') return [{ kind: 'json', value: body.value, range: body.range }];
  return [...body.attributes.map((a) => a.expr), ...body.blocks.flatMap((b) => bodyExpressions(b.body))];
}

/** How data blocks are evaluated in one load. */
export interface DataEvaluation {
  registry: Registry<DataSourceDef<unknown>>;
  /** Run the data sources (build, plan, console, inspect, validate -evaluate-datasources), or give
   * unknown values of their output types (validate). */
  execute: boolean;
  context: DataSourceContext;
}

/** The sync part of evaluating a block: its diagnostics, and either its value or how to get it. */
export interface StartedDataBlock {
  diagnostics: Diagnostic[];
  value?: Value;
  run?: () => Promise<Value>;
}

/** The data source a block names, or the diagnostic saying why there is none. */
function dataSourceOf(d: DataBlockDef, registry: Registry<DataSourceDef<unknown>>): DataSourceDef<unknown> | Diagnostic {
  const def = registry.get(d.type);
  if (def) return def;
  if (d.type.startsWith('hcp-packer-')) {
    return errorDiag(
      `Data source type "${d.type}" is not supported`,
      `builder does not connect to HCP Packer, so the hcp-packer-* data sources are not available. Pass the value you read from HCP Packer as a variable instead (-var or a var file).`,
      d.typeRange,
    );
  }
  return errorDiag(
    `Unknown data source type "${d.type}"`,
    `Known data sources: ${registry.keys().join(', ')}. A plugin may serve it: install it (packer plugins install) and name it in required_plugins.`,
    d.typeRange,
  );
}

/** Evaluates a block's body in `ctx` and prepares it; executes it only through `run`. */
export function startDataBlock(d: DataBlockDef, ctx: EvalContext, how: DataEvaluation): StartedDataBlock {
  const def = dataSourceOf(d, how.registry);
  if (!('execute' in def)) return { diagnostics: [def] };
  const evaluated = evaluateBody(d.body, ctx, def.configSpec);
  const diagnostics = [...evaluated.diagnostics];
  if (diagnostics.some((x) => x.severity === 'error')) return { diagnostics };
  const prepared = def.prepare(evaluated.config);
  for (const w of prepared.warnings) diagnostics.push(warningDiag(w, undefined, d.range));
  if (prepared.errors.length > 0 || prepared.config === undefined) {
    for (const e of prepared.errors) diagnostics.push(errorDiag(`Invalid data "${d.type}" "${d.name}"`, e, d.range));
    return { diagnostics };
  }
  if (!how.execute) return { diagnostics, value: Value.unknown(def.outputType) };
  const sensitive = evaluated.sensitiveValues.length > 0;
  const config = prepared.config;
  return {
    diagnostics,
    run: async () => (await def.execute(config, how.context)).markSensitive(sensitive),
  };
}

/** The diagnostic of a data source whose execution failed. */
export function dataFailure(d: DataBlockDef, err: unknown): Diagnostic {
  const message = err instanceof Error ? err.message : String(err);
  return errorDiag(
    `Reading data "${d.type}" "${d.name}" failed: ${message}`,
    `Nothing that uses data.${d.type}.${d.name} can be evaluated. Fix the block or what it reads, then run again.`,
    d.range,
  );
}

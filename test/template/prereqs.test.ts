/**
 * Locals and data blocks evaluated together in dependency order (src/template/prereqs.ts), with
 * the native `null` data source and a recording test data source: order, cycles, failures,
 * unknown values while validating, sensitive results, unknown and hcp-packer-* types.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dataSources } from '../../src/datasources/registry.js';
import type { Diagnostic } from '../../src/diagnostics.js';
import type { DataSourceDef } from '../../src/sdk/component.js';
import { loadHclTemplate, loadTemplate, type DataSourceLoadOptions } from '../../src/template/loader.js';
import { orderGraph } from '../../src/template/prereqs.js';
import { componentContext } from '../../src/template/context.js';
import { evaluate } from '../../src/hcl/eval.js';
import { parseExpression } from '../../src/hcl/parser.js';
import { T, Value, typeExpression } from '../../src/values/value.js';

const errors = (ds: readonly Diagnostic[]): string[] => ds.filter((d) => d.severity === 'error').map((d) => d.summary);

async function withTemplate<T>(text: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'builder-prereqs-'));
  try {
    writeFileSync(join(dir, 't.pkr.hcl'), text);
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A data source that records the order of its executions and echoes `in` as `out`. */
function recorder(log: string[]): DataSourceDef<{ in: string }> {
  return {
    type: 'rec',
    configSpec: { attributes: { in: { type: 'string', required: true } } },
    outputType: T.object({ out: T.string }),
    prepare: (raw) => ({ config: { in: String(raw.in) }, errors: [], warnings: [] }),
    async execute(config) {
      log.push(config.in);
      if (config.in === 'boom') throw new Error('it went boom');
      return Value.object({ out: Value.string(config.in) });
    },
  };
}

function options(dir: string, log: string[], execute = true): { env: NodeJS.ProcessEnv; cwd: string; dataSources: DataSourceLoadOptions } {
  const registry = dataSources.with([recorder(log) as DataSourceDef<unknown>]);
  return { env: {}, cwd: dir, dataSources: { execute, resolve: async () => ({ registry, diagnostics: [], close: async () => undefined }) } };
}

function show(t: Parameters<typeof componentContext>[0], expr: string): unknown {
  const r = evaluate(parseExpression(expr, 'x').expr, componentContext(t, {}));
  assert.deepEqual(r.diagnostics.map((d) => d.summary), []);
  return r.value.unknown ? '<unknown>' : r.value.toJS();
}

describe('locals and data blocks in dependency order', () => {
  it('orders a graph and reports its cycles (Tarjan), leaving the rest in order', () => {
    const deps = new Map([['a', ['b']], ['b', []], ['c', ['d']], ['d', ['c']], ['e', ['e']], ['f', ['a', 'c']]]);
    const { order, cycles } = orderGraph(deps);
    assert.deepEqual(order, ['b', 'a', 'f']);
    assert.deepEqual(cycles.map((c) => [...c].sort()), [['c', 'd'], ['e']]);
  });

  it('data sources use variables, locals and other data sources; locals use data sources; each runs after what it uses, once', async () => {
    await withTemplate(`variable "v" {
  default = "V"
}
locals {
  from_a = "\${data.rec.a.out}+L"
  both   = "\${local.from_a}|\${data.rec.b.out}"
}
data "rec" "b" {
  in = "\${local.from_a}-b"
}
data "rec" "a" {
  in = var.v
}
data "null" "n" {
  input = local.both
}
`, async (dir) => {
      const log: string[] = [];
      const r = await loadTemplate('t.pkr.hcl', options(dir, log));
      assert.deepEqual(errors(r.diagnostics), []);
      assert.deepEqual(log, ['V', 'V+L-b']);
      assert.equal(show(r.template!, 'data.null.n.output'), 'V+L|V+L-b');
      assert.equal(show(r.template!, 'local.both'), 'V+L|V+L-b');
    });
  });

  it('-use-sequential-evaluation: data blocks that use only variables and data give the same values; one that uses a local is an error and does not run', async () => {
    await withTemplate(`variable "v" {
  default = "V"
}
locals {
  from_a = "\${data.rec.a.out}+L"
}
data "rec" "b" {
  in = "\${data.rec.a.out}-b"
}
data "rec" "a" {
  in = var.v
}
`, async (dir) => {
      const log: string[] = [];
      const o = options(dir, log);
      const r = await loadTemplate('t.pkr.hcl', { ...o, dataSources: { ...o.dataSources, sequential: true } });
      assert.deepEqual(errors(r.diagnostics), []);
      assert.deepEqual(log, ['V', 'V-b']);
      assert.equal(show(r.template!, 'local.from_a'), 'V+L');
    });
    await withTemplate(`locals {
  l = "L"
}
data "rec" "a" {
  in = local.l
}
`, async (dir) => {
      const log: string[] = [];
      const o = options(dir, log);
      const r = await loadTemplate('t.pkr.hcl', { ...o, dataSources: { ...o.dataSources, sequential: true } });
      const e = r.diagnostics.find((d) => d.summary === 'Data block refers to a local');
      assert.ok(e, JSON.stringify(r.diagnostics));
      assert.match(e.detail ?? '', /data\.rec\.a cannot use local\.l/);
      assert.equal(e.subject?.start.line, 4);
      assert.deepEqual(log, [], 'not run');
      // without the flag, the same template runs
      const ok = await loadTemplate('t.pkr.hcl', options(dir, log));
      assert.deepEqual(errors(ok.diagnostics), []);
      assert.deepEqual(log, ['L']);
    });
  });

  it('a cycle through data sources and locals is reported once, naming every member; what is outside it still runs', async () => {
    await withTemplate(`locals {
  l = data.rec.a.out
  ok = "fine"
}
data "rec" "a" {
  in = data.rec.b.out
}
data "rec" "b" {
  in = local.l
}
data "rec" "c" {
  in = local.ok
}
`, async (dir) => {
      const log: string[] = [];
      const r = await loadTemplate('t.pkr.hcl', options(dir, log));
      const cycle = r.diagnostics.filter((d) => d.summary === 'Cycle in data sources and local variables');
      assert.equal(cycle.length, 1, JSON.stringify(r.diagnostics));
      for (const m of ['local.l', 'data.rec.a', 'data.rec.b']) assert.match(cycle[0]!.detail!, new RegExp(m.replaceAll('.', '\\.')));
      assert.deepEqual(errors(r.diagnostics), ['Cycle in data sources and local variables']);
      assert.deepEqual(log, ['fine']);
    });
  });

  it('a failed data source is one diagnostic at its block; what uses it is not reported again', async () => {
    await withTemplate(`data "rec" "a" {
  in = "boom"
}
locals {
  x = data.rec.a.out
}
`, async (dir) => {
      const r = await loadTemplate('t.pkr.hcl', options(dir, []));
      assert.deepEqual(errors(r.diagnostics), ['Reading data "rec" "a" failed: it went boom']);
      assert.equal(r.diagnostics[0]!.subject!.start.line, 1);
    });
  });

  it('not executing (validate): values are unknown of the output type, so a wrong attribute is still an error', async () => {
    await withTemplate(`data "rec" "a" {
  in = "x"
}
locals {
  good = data.rec.a.out
  bad  = data.rec.a.nope
}
`, async (dir) => {
      const log: string[] = [];
      const r = await loadTemplate('t.pkr.hcl', options(dir, log, false));
      assert.deepEqual(log, []);
      assert.deepEqual(errors(r.diagnostics), ['Unsupported attribute']);
      assert.equal(r.template!.dataSources[0]!.value!.unknown, true);
      assert.equal(typeExpression(r.template!.dataSources[0]!.value!.type), 'object({out=string})');
      // The synchronous loader executes nothing either.
      const sync = loadHclTemplate('t.pkr.hcl', { env: {}, cwd: dir });
      assert.deepEqual(errors(sync.diagnostics), ['Unknown data source type "rec"']);
    });
  });

  it('a data source configured with a sensitive value gives a sensitive result, masked in component configurations', async () => {
    await withTemplate(`variable "secret" {
  default   = "hunter2"
  sensitive = true
}
data "null" "s" {
  input = "token-\${var.secret}"
}
`, async (dir) => {
      const r = await loadTemplate('t.pkr.hcl', options(dir, []));
      assert.deepEqual(errors(r.diagnostics), []);
      const v = r.template!.dataSources[0]!.value!;
      assert.equal(v.containsSensitive(), true);
      assert.equal(v.unmark().entries().get('output')!.toJS(), 'token-hunter2');
    });
  });

  it('unknown types name the known ones; hcp-packer-* types are refused as not supported', async () => {
    await withTemplate(`data "nope" "a" {}
data "hcp-packer-image" "b" {
  bucket_name = "x"
}
`, async (dir) => {
      const r = await loadTemplate('t.pkr.hcl', options(dir, []));
      assert.deepEqual(errors(r.diagnostics), ['Unknown data source type "nope"', 'Data source type "hcp-packer-image" is not supported']);
      assert.match(r.diagnostics[0]!.detail!, /Known data sources: null, http, rec/);
      assert.equal(r.diagnostics[1]!.subject!.start.line, 2);
    });
  });
});

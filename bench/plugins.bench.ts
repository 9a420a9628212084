/**
 * Plugin path vs Packer, on the issue's template: a null build (communicator none), 10 shell-local
 * provisioners and a manifest, all served by Packer 1.6.6's plugins.
 * - packer: `packer build` of the template (it starts one plugin process per component instance);
 * - builder: the plugin adapters driven directly (not yet through the CLI): the three components
 *   loaded at once, and each next shell-local process started while the current one runs;
 * - builder with `reuseProcesses`: one shell-local process configured again for each step.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/plugins.bench.js [runs]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Artifact, BuildUi, StepContext } from '../src/sdk/component.js';
import { pluginBuilder } from '../src/plugins/builder.js';
import { PluginComponent, type PluginKind } from '../src/plugins/component.js';
import { pluginPostProcessor } from '../src/plugins/post-processor.js';
import { pluginProvisioner } from '../src/plugins/provisioner.js';
import { loadAverage } from './common.js';

const packer = '/usr/bin/packer';
const steps = 10;
const template =
  'source "null" "s" {\n  communicator = "none"\n}\nbuild {\n  sources = ["source.null.s"]\n' +
  Array.from({ length: steps }, (_, i) => `  provisioner "shell-local" {\n    inline = ["echo step ${i}"]\n  }\n`).join('') +
  '  post-processor "manifest" {\n    output = "manifest.json"\n  }\n}\n';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function viaPlugins(dir: string, reuseProcesses: boolean): Promise<void> {
  const ui: BuildUi = { say: () => undefined, message: () => undefined, error: () => undefined };
  const ctx: StepContext = { ui, signal: new AbortController().signal, buildName: 'null.s', builderType: 'null', runUuid: 'u', cwd: dir, env: { ...process.env, PACKER_BUILD_NAME: 's' }, sensitive: [] };
  const load = (kind: PluginKind, type: string): Promise<PluginComponent> =>
    PluginComponent.load({ kind, type, command: packer, args: ['plugin', `packer-${kind}-${type}`], origin: 'packer' }, { socketDir: dir, reuseProcesses, env: { ...process.env, CHECKPOINT_DISABLE: '1' } });
  const [nb, sl, mf] = await Promise.all([load('builder', 'null'), load('provisioner', 'shell-local'), load('post-processor', 'manifest')]);
  try {
    const b = pluginBuilder(nb);
    const p = pluginProvisioner(sl);
    const m = pluginPostProcessor(mf);
    const bc = b.prepare({ communicator: 'none' }).config!;
    const instance = await b.create(bc, ctx);
    await b.connect(bc, instance, ctx);
    for (let i = 0; i < steps; i++) {
      if (i + 1 < steps && !reuseProcesses) sl.prestart();
      await p.run(p.prepare({ inline: [`echo step ${i}`] }).config!, ctx);
    }
    const artifact = (await b.finish(bc, instance, ctx)) as Artifact;
    await m.run(m.prepare({ output: join(dir, 'manifest.json') }).config!, artifact, ctx);
    await b.destroy(bc, instance, ctx);
  } finally {
    await Promise.all([nb.shutdown(), sl.shutdown(), mf.shutdown()]);
  }
}

const runs = Number(process.argv[2] ?? 3);
const times = { packer: [] as number[], builder: [] as number[], reuse: [] as number[] };
for (let r = 0; r < runs; r++) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-plugins-'));
  try {
    writeFileSync(join(dir, 't.pkr.hcl'), template);
    let t = process.hrtime.bigint();
    execFileSync(packer, ['build', 't.pkr.hcl'], { cwd: dir, env: { ...process.env, CHECKPOINT_DISABLE: '1', TMPDIR: dir }, stdio: 'ignore' });
    times.packer.push(Number(process.hrtime.bigint() - t) / 1e6);
    t = process.hrtime.bigint();
    await viaPlugins(dir, false);
    times.builder.push(Number(process.hrtime.bigint() - t) / 1e6);
    t = process.hrtime.bigint();
    await viaPlugins(dir, true);
    times.reuse.push(Number(process.hrtime.bigint() - t) / 1e6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
process.stdout.write(`null + ${steps} shell-local + manifest through Packer 1.6.6's plugins, ${runs} runs, load ${loadAverage()}\n`);
process.stdout.write(`  packer build: median ${median(times.packer).toFixed(0)} ms  (${times.packer.map((x) => x.toFixed(0)).join(', ')})\n`);
process.stdout.write(`  builder adapters, one process per instance: median ${median(times.builder).toFixed(0)} ms  (${times.builder.map((x) => x.toFixed(0)).join(', ')})\n`);
process.stdout.write(`  builder adapters, processes reused (reuseProcesses): median ${median(times.reuse).toFixed(0)} ms  (${times.reuse.map((x) => x.toFixed(0)).join(', ')})\n`);

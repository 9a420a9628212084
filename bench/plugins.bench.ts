/**
 * Plugin path vs Packer, on the issue's template: a null build (communicator none), 10 shell-local
 * provisioners and a manifest, all served by Packer 1.6.6's plugins.
 * - packer: `packer build` of the template (it starts one plugin process per component instance);
 * - builder CLI: `builder build` with BUILDER_PREFER_PLUGINS=1 (every component from Packer's
 *   plugins; a fresh folder, so a fresh state, each run): the three components loaded at once,
 *   each next shell-local process started while the current one runs;
 *   that is BUILDER_PLUGIN_REUSE=0; the default configures one shell-local process again for each step;
 * - the adapters driven directly (no CLI, no state), both ways, as before the wiring.
 * Runs are interleaved; medians and the ratio to packer are printed.
 *
 *   npm run build && node dist/bench/plugins.bench.js [runs]
 *
 * The CLI rows run bin/builder.cjs, the executable users run (the bundle and its code cache).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Artifact, BuildUi, StepContext } from '../src/sdk/component.js';
import { pluginBuilder } from '../src/plugins/builder.js';
import { PluginComponent, type PluginKind } from '../src/plugins/component.js';
import { pluginPostProcessor } from '../src/plugins/post-processor.js';
import { pluginProvisioner } from '../src/plugins/provisioner.js';
import { loadAverage } from './common.js';

// the executable users run (the bundle with its code cache; `npm run bench` builds it)
const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'builder.cjs');
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
const times: Record<string, number[]> = { packer: [], cli: [], cliReuse: [], adapters: [], adaptersReuse: [] };
const timed = async (key: string, fn: () => unknown): Promise<void> => {
  const t = process.hrtime.bigint();
  await fn();
  times[key]!.push(Number(process.hrtime.bigint() - t) / 1e6);
};
for (let r = 0; r < runs; r++) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-plugins-'));
  try {
    const env = { ...process.env, CHECKPOINT_DISABLE: '1', TMPDIR: dir };
    const inFolder = (name: string): string => {
      const d = join(dir, name);
      execFileSync('mkdir', ['-p', d]);
      writeFileSync(join(d, 't.pkr.hcl'), template);
      return d;
    };
    await timed('packer', () => execFileSync(packer, ['build', 't.pkr.hcl'], { cwd: inFolder('p'), env, stdio: 'ignore' }));
    await timed('cli', () => execFileSync(process.execPath, [cli, 'build', 't.pkr.hcl'], { cwd: inFolder('b'), env: { ...env, BUILDER_PREFER_PLUGINS: '1', BUILDER_PLUGIN_REUSE: '0' }, stdio: 'ignore' }));
    await timed('cliReuse', () => execFileSync(process.execPath, [cli, 'build', 't.pkr.hcl'], { cwd: inFolder('r'), env: { ...env, BUILDER_PREFER_PLUGINS: '1' }, stdio: 'ignore' }));
    await timed('adapters', () => viaPlugins(inFolder('a'), false));
    await timed('adaptersReuse', () => viaPlugins(inFolder('ar'), true));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const med = (k: string): number => median(times[k]!);
const line = (label: string, k: string): string =>
  `  ${label}: median ${med(k).toFixed(0)} ms, ${(med(k) / med('packer')).toFixed(2)}× packer  (${times[k]!.map((x) => x.toFixed(0)).join(', ')})\n`;
process.stdout.write(`null + ${steps} shell-local + manifest through Packer 1.6.6's plugins, ${runs} runs, load ${loadAverage()}\n`);
process.stdout.write(line('packer build', 'packer'));
process.stdout.write(line('builder build, BUILDER_PREFER_PLUGINS=1 BUILDER_PLUGIN_REUSE=0', 'cli'));
process.stdout.write(line('builder build, BUILDER_PREFER_PLUGINS=1 (processes reused, the default)', 'cliReuse'));
process.stdout.write(line('adapters alone, one process per instance', 'adapters'));
process.stdout.write(line('adapters alone, processes reused', 'adaptersReuse'));

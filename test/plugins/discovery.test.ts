import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BuildUi, StepContext } from '../../src/sdk/component.js';
import { chooseComponent, findPluginBinaries, pluginComponents, type LazyComponent } from '../../src/plugins/discovery.js';
import { livePluginPids } from '../../src/plugins/launcher.js';
import { packerBinary, packerSkipReason } from '../helpers/packer.js';

const fakeScript = join(process.cwd(), 'dist', 'test', 'plugins', 'fake-plugin.js');
const specFile = join(process.cwd(), 'test', 'fixtures', 'plugins', 'shell-local-provisioner.configspec.gob');

function writePlugin(path: string): void {
  writeFileSync(path, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(fakeScript)} "$@"\n`);
  chmodSync(path, 0o755);
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

describe('plugin discovery and the current (SDK) protocol, with a fake plugin', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'builder-discovery-'));
    const installed = join(dir, 'home', '.packer.d', 'plugins', 'github.com', 'example', 'fake');
    mkdirSync(installed, { recursive: true });
    const arch = process.arch.replace('x64', 'amd64');
    for (const v of ['1.0.0', '1.2.3']) {
      const p = join(installed, `packer-plugin-fake_v${v}_x5.0_${process.platform}_${arch}`);
      writePlugin(p);
      writeFileSync(`${p}_SHA256SUM`, createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
    const tampered = join(installed, `packer-plugin-fake_v9.9.9_x5.0_${process.platform}_${arch}`);
    writePlugin(tampered);
    writeFileSync(`${tampered}_SHA256SUM`, '00');
    mkdirSync(join(dir, 'sockets'));
    env = { ...process.env, HOME: join(dir, 'home'), PACKER_PLUGIN_PATH: '', PATH: '/nonexistent', SPEC_FILE: specFile, BUILDER_PREFER_PLUGINS: '1' };
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('chooses native components unless plugins are preferred or required, or there is no native one', () => {
    const plugin: LazyComponent<string> = { source: { kind: 'provisioner', type: 'x', command: 'c', args: [], origin: 'o' }, load: async () => 'plugin' };
    assert.deepEqual(chooseComponent('native', plugin, { preferPlugins: false }), { native: 'native' });
    assert.deepEqual(chooseComponent('native', plugin, { preferPlugins: true }), { plugin });
    assert.deepEqual(chooseComponent('native', plugin, { preferPlugins: false, requiredByTemplate: true }), { plugin });
    assert.deepEqual(chooseComponent(undefined, plugin, { preferPlugins: false }), { plugin });
    assert.deepEqual(chooseComponent('native', undefined, { preferPlugins: true }), { native: 'native' });
    assert.equal(chooseComponent<string>(undefined, undefined, { preferPlugins: true }), undefined);
  });

  it('finds installed binaries, highest version first, and ignores one whose checksum does not match', () => {
    const warnings: string[] = [];
    const found = findPluginBinaries({ env, cwd: dir }, warnings);
    assert.deepEqual(found.map((b) => b.version), ['1.2.3', '1.0.0']);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /v9\.9\.9.*checksum does not match/);
  });

  it('names components from describe, and runs one over the four-field handshake (a reply larger than the window)', async () => {
    const pc = await pluginComponents({ env, cwd: dir, load: { socketDir: join(dir, 'sockets'), env } });
    try {
      assert.deepEqual([...pc.provisioners.keys()].sort(), ['fake', 'fake-crash', 'fake-garbage', 'fake-slow-accept']);
      assert.equal(pc.preferPlugins, true);
      assert.match(pc.provisioners.get('fake')!.source.origin, /packer-plugin-fake v1\.2\.3/);
      const prov = await pc.provisioners.get('fake')!.load();
      const lines: string[] = [];
      const ui: BuildUi = { say: (m) => lines.push(m), message: (m) => lines.push(m), error: (m) => lines.push(m) };
      const ctx: StepContext = { ui, signal: new AbortController().signal, buildName: 'b', builderType: 'null', runUuid: 'u', cwd: dir, env, sensitive: [] };
      await prov.run(prov.prepare({ inline: ['x'] }).config!, ctx);
      assert.equal(lines[0], 'hello from the fake plugin');
      assert.equal(lines[1]!.length, 600 * 1024);

      const slow = await pc.provisioners.get('fake-slow-accept')!.load();
      await slow.run(slow.prepare({}).config!, ctx);

      const crash = await pc.provisioners.get('fake-crash')!.load();
      await assert.rejects(crash.run(crash.prepare({}).config!, ctx), /plugin provisioner "fake-crash" stopped during Provisioner.Provision \(it exited with code 3\)/);

      const garbage = await pc.provisioners.get('fake-garbage')!.load();
      let pids: number[] = [];
      const watching: StepContext = { ...ctx, ui: { ...ui, say: () => undefined } };
      const run = garbage.run(garbage.prepare({}).config!, watching);
      pids = livePluginPids();
      await assert.rejects(run, /plugin provisioner "fake-garbage" failed during Provisioner.Provision: .*malformed reply/);
      for (let i = 0; i < 500 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(pids.filter(alive), []);
    } finally {
      await pc.shutdown();
    }
    assert.deepEqual(livePluginPids(), []);
  });

  it("offers Packer's in-tree components when BUILDER_PACKER names a Packer 1.x", { skip: packerSkipReason() }, async () => {
    const pc = await pluginComponents({ env: { ...env, BUILDER_PACKER: packerBinary()! }, cwd: dir });
    assert.equal(pc.builders.get('null')!.source.origin.startsWith('packer 1.'), true);
    assert.deepEqual(pc.builders.get('null')!.source.args, ['plugin', 'packer-builder-null']);
    assert.ok(pc.postProcessors.has('manifest'));
    assert.equal(pc.provisioners.get('fake')!.source.command.includes('packer-plugin-fake'), true);
    await pc.shutdown();
  });
});

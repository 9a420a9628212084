/**
 * Packer 1.6.6's null builder through the plugin path: with communicator "none", and over SSH to a
 * loopback sshd, where builder's side runs commands and transfers files through the plugin's
 * communicator.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BuildUi, StepContext } from '../../src/sdk/component.js';
import { pluginBuilder } from '../../src/plugins/builder.js';
import { shellProvisioner } from '../../src/provisioners/shell.js';
import { PluginComponent } from '../../src/plugins/component.js';
import { livePluginPids } from '../../src/plugins/launcher.js';
import { packerBinary, packerSkipReason } from '../helpers/packer.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

async function assertGone(pids: number[]): Promise<void> {
  for (let i = 0; i < 500 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(pids.filter(alive), [], 'plugin processes left behind');
}

describe("Packer 1.6.6's null builder as a plugin", { skip: packerSkipReason() }, () => {
  let dir: string;
  let component: PluginComponent;
  const lines: string[] = [];
  const ui: BuildUi = { say: (m) => lines.push(`say: ${m}`), message: (m) => lines.push(`message: ${m}`), error: (m) => lines.push(`error: ${m}`) };

  function ctx(): StepContext {
    return { ui, signal: new AbortController().signal, buildName: 'null.test', builderType: 'null', runUuid: 'u', cwd: dir, env: { ...process.env, PACKER_BUILD_NAME: 'test' }, sensitive: [] };
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'builder-plugin-builder-'));
    component = await PluginComponent.load(
      { kind: 'builder', type: 'null', command: packerBinary()!, args: ['plugin', 'packer-builder-null'], origin: 'packer 1.6.6' },
      { socketDir: dir, env: { ...process.env, CHECKPOINT_DISABLE: '1' } },
    );
  });

  after(async () => {
    await component.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds with communicator "none": no communicator, build.ID "Null", the Null artifact, nothing left running', async () => {
    const b = pluginBuilder(component);
    const prepared = b.prepare({ communicator: 'none' });
    assert.deepEqual(prepared.errors, []);
    const instance = await b.create(prepared.config!, ctx());
    const pids = livePluginPids();
    // no communicator; the build.* values of the plugin's hook data (its ID is Packer's "Null")
    const connected = await b.connect(prepared.config!, instance, ctx());
    assert.equal(connected.comm, undefined);
    assert.equal(connected.values?.ID, 'Null');
    const artifact = await b.finish(prepared.config!, instance, ctx());
    assert.equal(artifact?.builderId, 'fnoeding.null');
    assert.equal(artifact?.id, 'Null');
    assert.equal(artifact?.description, 'Did not export anything. This is the null builder');
    await b.destroy(prepared.config!, instance, ctx());
    await assertGone(pids);
  });

  it("reports the plugin's configuration error", async () => {
    const b = pluginBuilder(component);
    const prepared = b.prepare({ communicator: 'ssh' });
    await assert.rejects(b.create(prepared.config!, ctx()), /a Host must be specified/);
  });

  it('stops at once when cancelled while the plugin waits for SSH, and reports the cancellation', async () => {
    const b = pluginBuilder(component);
    const prepared = b.prepare({ communicator: 'ssh', ssh_host: '127.0.0.1', ssh_port: 1, ssh_username: 'nobody', ssh_password: 'x', ssh_timeout: '10m' });
    assert.deepEqual(prepared.errors, []);
    const ac = new AbortController();
    let pids: number[] = [];
    const waiting: BuildUi = { ...ui, say: (m) => { if (/Waiting for SSH/.test(m)) { pids = livePluginPids(); ac.abort(); } } };
    await assert.rejects(b.create(prepared.config!, { ...ctx(), ui: waiting, signal: ac.signal }), /cancelled/);
    assert.ok(pids.length > 0);
    await assertGone(pids);
  });

  describe('over SSH', () => {
    let sshd: Sshd | undefined;
    let skip: string | undefined;
    before(async () => {
      const s = await startSshd();
      if ('skip' in s) skip = s.skip;
      else sshd = s;
    });
    after(async () => { await sshd?.stop(); });

    it("runs commands and moves files through the plugin's communicator, then cleans up when destroyed early", async (t) => {
      if (!sshd) return t.skip(skip ?? 'no sshd');
      const b = pluginBuilder(component);
      const prepared = b.prepare({ communicator: 'ssh', ssh_host: sshd.host, ssh_port: sshd.port, ssh_username: sshd.user, ssh_private_key_file: sshd.keyPath });
      assert.deepEqual(prepared.errors, []);
      const instance = await b.create(prepared.config!, ctx());
      const pids = livePluginPids();
      const { comm, info } = await b.connect(prepared.config!, instance, ctx());
      assert.ok(comm);
      assert.equal(info?.type, 'ssh');
      assert.equal(info?.host, sshd.host);
      const out: string[] = [];
      const err: string[] = [];
      const r = await comm.start({ command: 'echo one; echo two; echo oops >&2; exit 4', onStdout: (l) => out.push(l), onStderr: (l) => err.push(l) }, new AbortController().signal);
      assert.deepEqual(r, { exitStatus: 4, disconnected: false });
      assert.deepEqual(out, ['one', 'two']);
      assert.deepEqual(err, ['oops']);
      const remote = join(dir, 'uploaded.txt');
      await comm.upload(remote, Buffer.from('payload\n'), 0o600, new AbortController().signal);
      assert.equal(readFileSync(remote, 'utf8'), 'payload\n');
      assert.equal(statSync(remote).mode & 0o777, 0o600);
      await comm.download(remote, join(dir, 'downloaded.txt'), new AbortController().signal);
      assert.equal(readFileSync(join(dir, 'downloaded.txt'), 'utf8'), 'payload\n');
      // builder's own shell provisioner over the plugin's communicator.
      const shell = shellProvisioner.prepare({ inline: ['echo "shell over the plugin: $((6 * 7))"'] });
      assert.deepEqual(shell.errors, []);
      const shellLines: string[] = [];
      const shellUi: BuildUi = { say: (m) => shellLines.push(m), message: (m) => shellLines.push(m), error: (m) => shellLines.push(m) };
      await shellProvisioner.run(shell.config!, { ...ctx(), ui: shellUi, comm, ...(info ? { conn: info } : {}) });
      assert.ok(shellLines.includes('shell over the plugin: 42'), shellLines.join('\n'));
      // A failed provisioning: destroy before finish.
      await b.destroy(prepared.config!, instance, ctx());
      await assertGone(pids);
    });
  });
});

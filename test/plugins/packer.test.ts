/**
 * Packer 1.6.6's in-tree components as real plugin peers (`packer plugin packer-KIND-NAME`).
 * Skipped, with the reason, when packer is not installed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Artifact, BuildUi, Communicator, StepContext } from '../../src/sdk/component.js';
import { PluginComponent, type PluginKind } from '../../src/plugins/component.js';
import { livePluginPids } from '../../src/plugins/launcher.js';
import { pluginPostProcessor } from '../../src/plugins/post-processor.js';
import { parseHandshake, startPlugin } from '../../src/plugins/process.js';
import { pluginProvisioner } from '../../src/plugins/provisioner.js';
import { packerBinary, packerSkipReason } from '../helpers/packer.js';

const skip = packerSkipReason();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until none of `pids` runs (killed processes are reaped by init a moment later). */
async function assertGone(pids: number[]): Promise<void> {
  for (let i = 0; i < 500 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(pids.filter(alive), [], 'plugin processes left behind');
}

function recordingUi(onSay?: (m: string) => void): BuildUi & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    say: (m) => { lines.push(`say: ${m}`); onSay?.(m); },
    message: (m) => lines.push(`message: ${m}`),
    error: (m) => lines.push(`error: ${m}`),
  };
}

describe('plugin handshake lines', () => {
  it('reads both forms and refuses others', () => {
    assert.deepEqual(parseHandshake('5|unix|/tmp/packer-plugin1\n'), { apiMajor: 5, network: 'unix', address: '/tmp/packer-plugin1' });
    assert.deepEqual(parseHandshake('5|0|unix|/tmp/p'), { apiMajor: 5, apiMinor: 0, network: 'unix', address: '/tmp/p' });
    assert.deepEqual(parseHandshake('5|1|tcp|127.0.0.1:10000'), { apiMajor: 5, apiMinor: 1, network: 'tcp', address: '127.0.0.1:10000' });
    assert.throws(() => parseHandshake('hello'), /not a plugin handshake/);
    assert.throws(() => parseHandshake('4|unix|/tmp/p'), /API version 4/);
    assert.throws(() => parseHandshake('5|udp|x'), /unknown network/);
  });

  it('kills a process that prints something else, and says what it printed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'builder-plugin-'));
    try {
      const pidFile = join(dir, 'pid');
      await assert.rejects(
        startPlugin({ command: 'sh', args: ['-c', `sleep 30 & echo $! > ${pidFile}; echo 'not a handshake'; wait`] }),
        /not a plugin handshake: "not a handshake"/,
      );
      await assertGone([Number(readFileSync(pidFile, 'utf8'))]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a process that exits before its handshake with its last stderr line', async () => {
    await assert.rejects(startPlugin({ command: 'sh', args: ['-c', 'echo "no cookie" >&2; exit 1'] }), /exited \(code 1\) before its handshake:\nno cookie/);
  });
});

describe('Packer 1.6.6 components as plugins', { skip }, () => {
  let dir: string;
  let socketDir: string;
  const debug: string[] = [];
  const loaded: PluginComponent[] = [];

  async function load(kind: PluginKind, type: string): Promise<PluginComponent> {
    const c = await PluginComponent.load(
      { kind, type, command: packerBinary()!, args: ['plugin', `packer-${kind}-${type}`], origin: 'packer 1.6.6' },
      { socketDir, debug: (l) => debug.push(l), env: { ...process.env, CHECKPOINT_DISABLE: '1', PACKER_RUN_UUID: 'run-uuid-1' } },
    );
    loaded.push(c);
    return c;
  }

  function ctx(ui: BuildUi, signal = new AbortController().signal): StepContext {
    return { ui, signal, buildName: 'null.test', builderType: 'null', runUuid: 'run-uuid-1', cwd: dir, env: { ...process.env, PACKER_BUILD_NAME: 'test' }, sensitive: [] };
  }

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'builder-plugins-'));
    socketDir = mkdtempSync(join(dir, 'sock-'));
    writeFileSync(join(dir, 'input.txt'), 'hello\n');
  });

  after(async () => {
    for (const c of loaded) await c.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads shell-local's ConfigSpec and runs a real command, its output through our Ui, leaving no process or socket", async () => {
    const comp = await load('provisioner', 'shell-local');
    assert.deepEqual(comp.configSpec.attributes.inline, { type: 'list(string)' });
    const prov = pluginProvisioner(comp);
    const prepared = prov.prepare({ inline: ['echo "hello from $PACKER_BUILD_NAME"', 'echo oops >&2'] });
    assert.deepEqual(prepared.errors, []);
    let pids: number[] = [];
    const ui = recordingUi(() => { pids = livePluginPids(); });
    await prov.run(prepared.config!, ctx(ui));
    assert.match(ui.lines[0]!, /^say: Running local shell script: /);
    assert.ok(ui.lines.includes('message: hello from test'), ui.lines.join('\n'));
    assert.ok(ui.lines.includes('error: oops'), ui.lines.join('\n'));
    await comp.shutdown();
    assert.ok(pids.length > 0);
    await assertGone(pids);
    assert.deepEqual(readdirSync(socketDir), []);
  });

  it("reports the plugin's own Prepare error and a failing command as build errors", async () => {
    const prov = pluginProvisioner(await load('provisioner', 'shell-local'));
    const both = prov.prepare({ command: 'true', inline: ['true'] });
    await assert.rejects(prov.run(both.config!, ctx(recordingUi())), /You may only specify one of the following options: Command, Inline, Script or Scripts/);
    const failing = prov.prepare({ inline: ['exit 3'] });
    await assert.rejects(prov.run(failing.config!, ctx(recordingUi())), /non-zero exit status: 3/);
    assert.deepEqual(prov.prepare({ bogus: true }).errors, ['bogus: unsupported argument; the plugin does not expect it here']);
  });

  it('turns a plugin killed mid-call into a clear error, not a hang', async () => {
    const prov = pluginProvisioner(await load('provisioner', 'shell-local'));
    const prepared = prov.prepare({ inline: ['sleep 60'] });
    let pids: number[] = [];
    const ui = recordingUi(() => {
      pids = livePluginPids();
      for (const pid of pids) process.kill(-pid, 'SIGKILL');
    });
    await assert.rejects(prov.run(prepared.config!, ctx(ui)), /plugin provisioner "shell-local" stopped during Provisioner.Provision/);
    await assertGone(pids);
  });

  it('stops the plugin and its command when the step is cancelled', async () => {
    const prov = pluginProvisioner(await load('provisioner', 'shell-local'));
    const prepared = prov.prepare({ inline: ['sleep 60'] });
    const ac = new AbortController();
    let pids: number[] = [];
    const ui = recordingUi(() => { pids = livePluginPids(); ac.abort(); });
    await assert.rejects(prov.run(prepared.config!, ctx(ui, ac.signal)));
    await assertGone(pids.filter((p) => !livePluginPids().includes(p))); // the spare may still run
  });

  it('with reuseProcesses, configures one process again for the next instance, earlier settings not leaking', async () => {
    const before = new Set(livePluginPids());
    const comp = await PluginComponent.load(
      { kind: 'provisioner', type: 'shell-local', command: packerBinary()!, args: ['plugin', 'packer-provisioner-shell-local'], origin: 'packer 1.6.6' },
      { socketDir, reuseProcesses: true, env: { ...process.env, CHECKPOINT_DISABLE: '1' } },
    );
    loaded.push(comp);
    const prov = pluginProvisioner(comp);
    const seen = new Set<number>();
    const ui = recordingUi(() => livePluginPids().forEach((p) => seen.add(p)));
    await prov.run(prov.prepare({ inline: ['echo "A=$A"'], environment_vars: ['A=1'] }).config!, ctx(ui));
    await prov.run(prov.prepare({ inline: ['echo "A=$A"'] }).config!, ctx(ui));
    assert.deepEqual(ui.lines.filter((l) => l.startsWith('message:')), ['message: A=1', 'message: A=']);
    assert.equal([...seen].filter((p) => !before.has(p)).length, 1);
    await comp.shutdown();
    await assertGone([...seen].filter((p) => !before.has(p)));
  });

  it("serves our Communicator to Packer's file provisioner (upload with name, size and mode)", async () => {
    const prov = pluginProvisioner(await load('provisioner', 'file'));
    const src = join(dir, 'src.txt');
    writeFileSync(src, 'file content\n', { mode: 0o640 });
    const uploads: Array<{ path: string; mode: number | undefined; data: string }> = [];
    const comm: Communicator = {
      async upload(path, data, mode) {
        const chunks: Buffer[] = [];
        if (Buffer.isBuffer(data)) chunks.push(data);
        else for await (const c of data) chunks.push(c as Buffer);
        uploads.push({ path, mode, data: Buffer.concat(chunks).toString() });
      },
      start: async () => ({ exitStatus: 0, disconnected: false }),
      uploadDir: async () => undefined,
      download: async () => undefined,
      downloadDir: async () => undefined,
      close: async () => undefined,
    };
    const prepared = prov.prepare({ source: src, destination: '/remote/dst.txt' });
    assert.deepEqual(prepared.errors, []);
    const ui = recordingUi();
    await prov.run(prepared.config!, { ...ctx(ui), comm, conn: { type: 'ssh', host: '127.0.0.1' } });
    assert.deepEqual(uploads, [{ path: '/remote/dst.txt', mode: 0o640, data: 'file content\n' }]);
    assert.deepEqual(ui.lines, [`say: Uploading ${src} => /remote/dst.txt`]);
  });

  it('kills a plugin that is still starting when builder exits', async () => {
    const r = spawnSync(process.execPath, [join(process.cwd(), 'dist', 'test', 'plugins', 'exit-early.js'), packerBinary()!, socketDir], { encoding: 'utf8' });
    const pids = r.stdout.trim().split(',').filter(Boolean).map(Number);
    assert.equal(pids.length, 1, r.stdout + r.stderr);
    await assertGone(pids);
  });

  it('runs the manifest post-processor on our artifact', async () => {
    const pp = pluginPostProcessor(await load('post-processor', 'manifest'));
    const output = join(dir, 'manifest.json');
    const prepared = pp.prepare({ output });
    assert.deepEqual(prepared.errors, []);
    const input: Artifact = {
      builderId: 'packer.file', id: 'input.txt', files: [join(dir, 'input.txt')], description: 'Stored file: input.txt',
      state: { generated_data: { Foo: 'bar' } }, destroy: async () => undefined,
    };
    const r = await pp.run(prepared.config!, input, ctx(recordingUi()));
    assert.equal(r.artifact.id, 'input.txt');
    assert.equal(r.keep, true);
    const manifest = JSON.parse(readFileSync(output, 'utf8')) as { builds: Array<Record<string, unknown>>; last_run_uuid: string };
    assert.equal(manifest.builds[0]!.name, 'test');
    assert.equal(manifest.builds[0]!.builder_type, 'null');
    assert.equal(manifest.builds[0]!.artifact_id, 'input.txt');
    assert.deepEqual(manifest.builds[0]!.files, [{ name: join(dir, 'input.txt'), size: 6 }]);
    assert.equal(manifest.last_run_uuid, 'run-uuid-1');
  });
});

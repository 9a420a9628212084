/**
 * The `file` provisioner: configuration, and transfers against a real sshd (the "remote" side is
 * this machine, so results are checked on the local file system).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sshCommunicator } from '../../src/communicators/ssh.js';
import type { Communicator } from '../../src/sdk/component.js';
import { fileProvisioner, prepareFile, type FileConfig } from '../../src/provisioners/file.js';
import { startSshd, sshdSkipReason, type Sshd } from '../helpers/sshd.js';
import { testContext } from '../communicators/context.js';

function prepared(raw: Record<string, unknown>): FileConfig {
  const r = prepareFile(raw);
  assert.deepEqual(r.errors, []);
  return r.config!;
}

test('configuration errors use Packer wording', () => {
  assert.deepEqual(prepareFile({ direction: 'sideways', source: '/nonexistent/x' }).errors, [
    'Direction must be one of: download, upload.',
    'Destination must be specified.',
  ]);
  assert.deepEqual(prepareFile({ source: '/nonexistent/x', destination: '/tmp/x' }).errors, [
    "Bad source '/nonexistent/x': stat /nonexistent/x: no such file or directory",
  ]);
  assert.deepEqual(prepareFile({ source: '/etc/hostname', content: 'x', destination: '/tmp/x' }).errors, ['source(s) conflicts with content.']);
  assert.deepEqual(prepareFile({ destination: '/tmp/x' }).errors, ['Source must be specified.']);
  // generated: the source may appear later; download sources are remote.
  assert.deepEqual(prepareFile({ source: '/nonexistent/x', destination: '/tmp/x', generated: true }).errors, []);
  assert.deepEqual(prepareFile({ source: '/nonexistent/x', destination: '/tmp/x', direction: 'download' }).errors, []);
});

test('sources come before source, and inputFiles lists uploads only', () => {
  const c = prepared({ sources: ['/etc/hostname'], source: '/etc/hosts', destination: '/tmp/' });
  assert.deepEqual(c.sources, ['/etc/hostname', '/etc/hosts']);
  assert.deepEqual(fileProvisioner.inputFiles(c), ['/etc/hostname', '/etc/hosts']);
  assert.deepEqual(fileProvisioner.inputFiles(prepared({ source: '/remote/x', destination: 'y', direction: 'download' })), []);
});

describe('file provisioner over ssh', { skip: sshdSkipReason() }, () => {
  let sshd: Sshd;
  let work: string;
  const comms: Record<string, Communicator> = {};

  before(async () => {
    const started = await startSshd();
    if ('skip' in started) throw new Error(started.skip);
    sshd = started;
    work = await mkdtemp(join(tmpdir(), 'file-prov-'));
    for (const method of ['scp', 'sftp']) {
      const c = sshCommunicator.prepare({
        ssh_host: sshd.host,
        ssh_port: sshd.port,
        ssh_username: sshd.user,
        ssh_private_key_file: sshd.keyPath,
        ssh_file_transfer_method: method,
      });
      comms[method] = (await sshCommunicator.connect(c.config!, testContext())).comm;
    }
    await mkdir(join(work, 'local', 'site', 'css'), { recursive: true });
    await writeFile(join(work, 'local', 'site', 'index.html'), '<h1>hi</h1>\n');
    await writeFile(join(work, 'local', 'site', 'css', 'a.css'), 'a{}\n');
    await writeFile(join(work, 'local', 'run.sh'), '#!/bin/sh\n', { mode: 0o750 });
  });
  after(async () => {
    for (const c of Object.values(comms)) await c.close();
    await sshd?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  for (const method of ['scp', 'sftp']) {
    test(`${method}: uploads with and without trailing slashes, keeping modes`, async () => {
      const remote = join(work, `remote-${method}`);
      await mkdir(join(remote, 'a'), { recursive: true });
      await mkdir(join(remote, 'b'), { recursive: true });
      const ctx = testContext({ cwd: join(work, 'local') });
      const run = (raw: Record<string, unknown>) => fileProvisioner.run(prepared(raw), { ...ctx, comm: comms[method] });
      const cwd = process.cwd();
      process.chdir(join(work, 'local')); // prepare checks sources against the starting folder, as Packer does
      try {
        await run({ source: 'site', destination: join(remote, 'a') });
        await run({ source: 'site/', destination: join(remote, 'b') });
        await run({ source: 'run.sh', destination: `${remote}/` });
        await run({ source: 'run.sh', destination: join(remote, 'renamed.sh') });
        await run({ content: 'from content\n', destination: join(remote, 'content.txt') });
        await run({ sources: ['run.sh', 'site/index.html'], destination: `${remote}/` });
      } finally {
        process.chdir(cwd);
      }
      assert.deepEqual(ctx.ui.lines.slice(0, 4), [
        `==> Uploading site => ${join(remote, 'a')}`,
        `==> Uploading site/ => ${join(remote, 'b')}`,
        `==> Uploading run.sh => ${remote}/`,
        `==> Uploading run.sh => ${join(remote, 'renamed.sh')}`,
      ]);
      assert.match(ctx.ui.lines[4]!, new RegExp(`^==> Uploading .*/pkr-file-content => ${join(remote, 'content.txt')}$`));
      assert.equal(await readFile(join(remote, 'a', 'site', 'css', 'a.css'), 'utf8'), 'a{}\n');
      assert.deepEqual((await readdir(join(remote, 'b'))).sort(), ['css', 'index.html']);
      assert.equal((await stat(join(remote, 'run.sh'))).mode & 0o777, 0o750);
      assert.equal((await stat(join(remote, 'renamed.sh'))).mode & 0o777, 0o750);
      assert.equal(await readFile(join(remote, 'content.txt'), 'utf8'), 'from content\n');
      assert.equal(await readFile(join(remote, 'index.html'), 'utf8'), '<h1>hi</h1>\n');
    });
  }

  test('on a terminal (a UI that tracks progress) an upload and a download report every byte and stop their bar; the files arrive whole', async () => {
    const remote = join(work, 'remote-progress');
    await mkdir(remote, { recursive: true });
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    await writeFile(join(work, 'local', 'big.bin'), big);
    const ctx = testContext({ cwd: join(work, 'local') });
    const bars: { label: string; total: number; last: number; stopped: number }[] = [];
    ctx.ui.trackProgress = (label, total) => {
      const bar = { label, total, last: 0, stopped: 0 };
      bars.push(bar);
      return { update: (n) => void (bar.last = n), stop: () => void bar.stopped++ };
    };
    const cwd = process.cwd();
    process.chdir(join(work, 'local'));
    try {
      await fileProvisioner.run(prepared({ source: 'big.bin', destination: join(remote, 'big.bin') }), { ...ctx, comm: comms.sftp });
    } finally {
      process.chdir(cwd);
    }
    await fileProvisioner.run(prepared({ direction: 'download', source: join(remote, 'big.bin'), destination: join(work, 'big-back.bin') }), { ...ctx, comm: comms.scp });
    assert.deepEqual(bars, [
      { label: 'big.bin', total: big.length, last: big.length, stopped: 1 },
      { label: join(remote, 'big.bin'), total: 0, last: big.length, stopped: 1 },
    ]);
    assert.ok((await readFile(join(work, 'big-back.bin'))).equals(big));
  });

  for (const method of ['scp', 'sftp']) {
    test(`${method}: on a terminal a folder upload and a folder download have one bar each, over the folder's bytes, updated as they move`, async () => {
      const local = join(work, `progress-tree-${method}`);
      await mkdir(join(local, 'sub'), { recursive: true });
      const big = Buffer.alloc(2 * 1024 * 1024 + 5, 1);
      await writeFile(join(local, 'big.bin'), big);
      await writeFile(join(local, 'sub', 'small.txt'), 'small\n');
      const size = big.length + 'small\n'.length;
      const remote = join(work, `remote-progress-dir-${method}`);
      await mkdir(remote, { recursive: true });
      const ctx = testContext({ cwd: work });
      const bars: { label: string; total: number; updates: number[]; stopped: number }[] = [];
      ctx.ui.trackProgress = (label, total) => {
        const bar = { label, total, updates: [] as number[], stopped: 0 };
        bars.push(bar);
        return { update: (n) => void bar.updates.push(n), stop: () => void bar.stopped++ };
      };
      await fileProvisioner.run(prepared({ source: local, destination: remote }), { ...ctx, comm: comms[method] });
      const back = join(work, `progress-back-${method}`);
      await fileProvisioner.run(prepared({ direction: 'download', source: `${join(remote, `progress-tree-${method}`)}/`, destination: `${back}/` }), { ...ctx, comm: comms[method] });
      assert.deepEqual(bars.map((b) => [b.label, b.total, b.updates.at(-1), b.stopped]), [
        [local, size, size, 1],
        [`${join(remote, `progress-tree-${method}`)}/`, 0, size, 1],
      ]);
      for (const bar of bars) {
        assert.ok(bar.updates.length > 2, `the bar moves during the transfer: ${bar.updates.join(',')}`);
        assert.deepEqual([...bar.updates].sort((a, b) => a - b), bar.updates, 'the count only grows');
      }
      assert.ok((await readFile(join(remote, `progress-tree-${method}`, 'big.bin'))).equals(big));
      assert.ok((await readFile(join(back, `progress-tree-${method}`, 'big.bin'))).equals(big));
      assert.equal(await readFile(join(back, `progress-tree-${method}`, 'sub', 'small.txt'), 'utf8'), 'small\n');
    });
  }

  test('downloads: a file, a file into a folder, a folder, and a glob', async () => {
    const remote = join(work, 'remote-dl');
    await mkdir(join(remote, 'logs'), { recursive: true });
    await writeFile(join(remote, 'logs', 'one.log'), '1\n');
    await writeFile(join(remote, 'logs', 'two.log'), '2\n');
    await writeFile(join(remote, 'logs', 'skip.txt'), 'x\n');
    const out = join(work, 'out');
    const ctx = testContext({ cwd: work });
    const run = (raw: Record<string, unknown>) => fileProvisioner.run(prepared({ direction: 'download', ...raw }), { ...ctx, comm: comms.sftp! });
    await run({ source: join(remote, 'logs', 'one.log'), destination: join(out, 'deep', 'copy.log') });
    await run({ source: join(remote, 'logs', 'two.log'), destination: `${out}/` });
    await run({ source: `${join(remote, 'logs')}/`, destination: `${join(out, 'tree')}/` });
    // A source ending in "*" keeps the destination folder as it is (Packer's rule).
    await run({ source: join(remote, 'logs', 't*'), destination: `${join(out, 'glob')}/` });
    assert.deepEqual(ctx.ui.lines, [
      `==> Downloading ${join(remote, 'logs', 'one.log')} => ${join(out, 'deep', 'copy.log')}`,
      `==> Downloading ${join(remote, 'logs', 'two.log')} => ${out}/`,
      `==> Downloading ${join(remote, 'logs')}/ => ${join(out, 'tree')}/`,
      `==> Downloading ${join(remote, 'logs', 't*')} => ${join(out, 'glob')}/`,
    ]);
    assert.equal(await readFile(join(out, 'deep', 'copy.log'), 'utf8'), '1\n');
    assert.equal(await readFile(join(out, 'two.log'), 'utf8'), '2\n');
    assert.deepEqual((await readdir(join(out, 'tree', 'logs'))).sort(), ['one.log', 'skip.txt', 'two.log']);
    assert.deepEqual(await readdir(join(out, 'glob')), ['two.log']);
    await assert.rejects(run({ source: join(remote, 'missing.log'), destination: join(out, 'm') }));
    assert.match(ctx.ui.lines.at(-1)!, /^==> Download failed: .*missing\.log/);
  });
});

/**
 * Transfer progress bars (src/ui/progress.ts, issue 13): drawn on a terminal only, with
 * cli-progress; on a pipe or with -machine-readable there is no tracker and not a byte of output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { RunUi } from '../../src/ui/ui.js';
import { formatBytes, progressBar, trackStream } from '../../src/ui/progress.js';
import { Capture } from '../build/helpers.js';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Communicator, OnTransferProgress } from '../../src/sdk/component.js';
import { fileProvisioner, prepareFile } from '../../src/provisioners/file.js';
import { testContext } from '../communicators/context.js';

/** A capture that says it is a terminal, as cli-progress checks. */
function terminal(): Capture & { isTTY: boolean; columns: number } {
  return Object.assign(new Capture(), { isTTY: true, columns: 100 });
}

test('no terminal (or -machine-readable): no tracker, nothing written', () => {
  for (const opts of [{ progress: false, machineReadable: false }, { progress: true, machineReadable: true }]) {
    const out = terminal();
    const run = new RunUi({ out, color: false, timestamp: false, ...opts });
    assert.equal(run.build('null.a', 0).trackProgress('big.iso', 1000), undefined);
    assert.equal(out.text, '');
  }
});

test('on a terminal the bar names the build and file and reaches 100% with the sizes', async () => {
  const out = terminal();
  const run = new RunUi({ out, color: false, timestamp: false, machineReadable: false, progress: true });
  const tracker = run.build('null.a', 0).trackProgress('big.iso', 3 * 1024 * 1024);
  assert.ok(tracker);
  const data = Readable.from([Buffer.alloc(1024 * 1024), Buffer.alloc(2 * 1024 * 1024)]);
  let received = 0;
  for await (const chunk of trackStream(data, tracker)) received += (chunk as Buffer).length;
  tracker.stop();
  tracker.stop();
  assert.equal(received, 3 * 1024 * 1024, 'every byte passes through');
  assert.match(out.text, / {4}null\.a: big\.iso \[[^\]]+\] 100% 3\.0 MiB \/ 3\.0 MiB/);
});

test('a download of unknown size shows the bytes so far', () => {
  const out = terminal();
  const bar = progressBar(out, 'log.tgz', 0);
  bar.update(1536);
  bar.stop();
  assert.match(out.text, /log\.tgz 1\.5 KiB/);
});

test('sizes', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(5 * 1024 ** 3), '5.0 GiB');
});

/** A communicator whose folder transfers move `chunks` bytes, telling the caller the running total. */
function folderComm(chunks: number[]): Communicator {
  const move = async (onProgress?: OnTransferProgress): Promise<void> => {
    let total = 0;
    for (const n of chunks) onProgress?.((total += n));
  };
  return {
    start: async () => ({ exitStatus: 0, disconnected: false }),
    upload: async () => undefined,
    uploadDir: async (_r, _l, _e, _s, onProgress) => move(onProgress),
    download: async () => undefined,
    downloadDir: async (_r, _l, _s, onProgress) => move(onProgress),
    close: async () => undefined,
  };
}

test('a folder transfer of the file provisioner: one bar over the folder on a terminal, nothing but its line elsewhere', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'progress-folder-'));
  try {
    await mkdir(join(dir, 'site', 'sub'), { recursive: true });
    await writeFile(join(dir, 'site', 'a.bin'), Buffer.alloc(1024));
    await writeFile(join(dir, 'site', 'sub', 'b.bin'), Buffer.alloc(2048));
    const upload = prepareFile({ source: join(dir, 'site'), destination: '/srv' }).config!;
    const download = prepareFile({ source: '/srv/site/', destination: `${join(dir, 'back')}/`, direction: 'download' }).config!;
    for (const tty of [true, false]) {
      const out = terminal();
      const run = new RunUi({ out, color: false, timestamp: false, machineReadable: false, progress: tty });
      const ctx = { ...testContext({ cwd: dir }), ui: run.build('null.a', 0), comm: folderComm([1000, 2072]) };
      await fileProvisioner.run(upload, ctx);
      await fileProvisioner.run(download, ctx);
      if (tty) {
        assert.match(out.text, /null\.a: .*site \[[^\]]+\] 100% 3\.0 KiB \/ 3\.0 KiB/);
        assert.match(out.text, /null\.a: \/srv\/site\/ 3\.0 KiB/);
      } else {
        assert.doesNotMatch(out.text, /\[|KiB|%/);
        assert.match(out.text, /Uploading .*site => \/srv\n.*Downloading \/srv\/site\/ => /s);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

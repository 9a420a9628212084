/**
 * Differential test of the ssh communicator and the remote shell and file provisioners: the
 * template in test/fixtures/remote/ (filled in with a throwaway sshd's port and key) is built by
 * Packer 1.6.6 and by builder; per build, the output lines, the exit code and the files left in
 * the folder (uploads land under it too) must be the same. See test/differential/harness.ts for
 * what is normalised.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { provisioners } from '../../src/provisioners/registry.js';
import { packerAvailable, runBoth } from '../differential/harness.js';
import { startSshd, sshdSkipReason } from '../helpers/sshd.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const fixture = join(repo, 'test/fixtures/remote');

function skipReason(): string | undefined {
  if (!packerAvailable) return 'packer (1.6.6) is not installed at /usr/bin/packer';
  if (!provisioners.has('shell') || !provisioners.has('file')) return 'the shell and file provisioners are not registered in src/provisioners/registry.ts';
  return sshdSkipReason();
}

test('remote shell and file provisioners over ssh give the same results as Packer 1.6.6', { skip: skipReason() }, async () => {
  const sshd = await startSshd();
  if ('skip' in sshd) throw new Error(sshd.skip);
  const source = await mkdtemp(join(tmpdir(), 'remote-diff-'));
  try {
    await cp(fixture, source, { recursive: true });
    const template = (await readFile(join(fixture, 'template.pkr.hcl.in'), 'utf8'))
      .replaceAll('@PORT@', String(sshd.port))
      .replaceAll('@USER@', sshd.user)
      .replaceAll('@KEY@', sshd.keyPath);
    await rm(join(source, 'template.pkr.hcl.in'));
    await writeFile(join(source, 'template.pkr.hcl'), template);
    const { packer, builder } = await runBoth(source, 'template.pkr.hcl', {});
    const context = `\n--- packer output ---\n${packer.raw}\n--- builder output ---\n${builder.raw}`;
    assert.equal(packer.exitCode, 1, `the template ends with a failing step${context}`);
    assert.equal(builder.exitCode, packer.exitCode, `exit code${context}`);
    assert.deepEqual(Object.keys(builder.builds).sort(), ['null.scp', 'null.sftp'], `builds${context}`);
    for (const name of Object.keys(packer.builds)) {
      assert.deepEqual(builder.builds[name], packer.builds[name], `output of build ${name}${context}`);
    }
    assert.deepEqual(builder.run, packer.run, `run-level lines${context}`);
    assert.deepEqual(builder.files, packer.files, `files left behind${context}`);
    assert.ok(Object.keys(packer.files).some((f) => f.startsWith('down/sftp/tree/')), `downloads happened${context}`);
  } finally {
    await sshd.stop();
    await rm(source, { recursive: true, force: true });
  }
});

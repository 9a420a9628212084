/**
 * A `checksum` post-processor given an artifact without files writes no checksum (as Packer) —
 * and must not leave its build never up to date (issue 15): its declared output file exists
 * after it ran, empty.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInProcess } from '../cli/run.js';

const template = `source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  post-processor "checksum" {
    checksum_types = ["sha256"]
  }
}
`;

test('a checksum post-processor over an artifact without files: the second run finds the build up to date', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'builder-checksum-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 't.pkr.hcl'), template);
  const build = () => runInProcess(['build', '-color=false', 't.pkr.hcl'], { cwd: dir, env: { PATH: process.env.PATH } });
  const first = await build();
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.equal(readFileSync(join(dir, 'packer_a_null_sha256.checksum'), 'utf8'), '', 'no checksum line, as Packer; an empty file');
  const second = await build();
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.match(second.stdout, /Up to date: nothing changed since the build completed/);
  assert.doesNotMatch(second.stdout, /which is gone/);
});

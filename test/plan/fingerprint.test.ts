import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprint, maskSensitive, artifactFilesHash } from '../../src/plan/fingerprint.js';
import { canonicalJson } from '../../src/state/sensitive.js';

test('canonical JSON sorts keys and marks unknown values', () => {
  assert.equal(canonicalJson({ b: 1, a: [true, null, undefined] }), '{"a":[true,null,"\u0000unknown"],"b":1}');
  assert.equal(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
});

test('sensitive values are replaced by salted hashes', () => {
  const masked = JSON.stringify(maskSensitive({ cmd: 'login hunter2 now', list: ['hunter2'] }, ['hunter2'], 'salt-1'));
  assert.ok(!masked.includes('hunter2'));
  assert.notEqual(masked, JSON.stringify(maskSensitive({ cmd: 'login hunter2 now', list: ['hunter2'] }, ['hunter2'], 'salt-2')));
});

test('fingerprints change with the configuration and with the content of files read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fp-'));
  try {
    writeFileSync(join(dir, 'script.sh'), 'echo 1\n');
    mkdirSync(join(dir, 'files'));
    writeFileSync(join(dir, 'files', 'a.txt'), 'a');
    const base = { config: { script: 'script.sh' }, files: ['script.sh', 'files'] };
    const f1 = fingerprint(base, 's', dir);
    assert.match(f1, /^sha256:[0-9a-f]{64}$/);
    assert.equal(fingerprint(base, 's', dir), f1, 'stable');
    writeFileSync(join(dir, 'script.sh'), 'echo 2\n');
    const f2 = fingerprint(base, 's', dir);
    assert.notEqual(f2, f1, 'editing a script counts as an edit');
    writeFileSync(join(dir, 'files', 'b.txt'), 'b');
    assert.notEqual(fingerprint(base, 's', dir), f2, 'a new file in a folder source counts');
    assert.notEqual(fingerprint({ ...base, config: { script: 'script.sh', x: 1 } }, 's', dir), fingerprint(base, 's', dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the same secret under different salts gives different fingerprints; no secret, same fingerprint', () => {
  const input = { config: { password: 'pw' }, sensitive: ['pw'] };
  assert.notEqual(fingerprint(input, 'a', '/'), fingerprint(input, 'b', '/'));
  const plain = { config: { password: 'x' } };
  assert.equal(fingerprint(plain, 'a', '/'), fingerprint(plain, 'b', '/'));
});

test('artifact hashes follow file content', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fp-'));
  try {
    writeFileSync(join(dir, 'out.txt'), 'x');
    const h = artifactFilesHash(['out.txt'], dir);
    writeFileSync(join(dir, 'out.txt'), 'y');
    assert.notEqual(artifactFilesHash(['out.txt'], dir), h);
    assert.equal(artifactFilesHash([], dir), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

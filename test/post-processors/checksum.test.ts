import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { fileArtifact } from '../../src/builders/file.js';
import { checksumPostProcessor } from '../../src/post-processors/checksum.js';
import { join } from 'node:path';
import { inTempDir, prepared, ctxWith } from './helpers.js';

test('checksum: every type, Packer\'s line format, default output name, files added once', async () => {
  await inTempDir(async (dir) => {
    await writeFile(join(dir, 'f.txt'), 'hello');
    const cfg = prepared(checksumPostProcessor, { checksum_types: ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] });
    const r = await checksumPostProcessor.run(cfg, fileArtifact('f.txt', dir), ctxWith(dir));
    assert.equal(r.keep, true);
    for (const t of ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512']) {
      const name = `packer_b_file_${t}.checksum`;
      assert.equal(await readFile(join(dir, name), 'utf8'), `${createHash(t).update('hello').digest('hex')}\tf.txt\n`);
      assert.ok(r.artifact.files.includes(name));
    }
    assert.equal(r.artifact.builderId, 'packer.post-processor.checksum');
    assert.match(r.artifact.description, /^Created artifact from files: f\.txt, packer_b_file_md5\.checksum, /);
    const again = await checksumPostProcessor.run(prepared(checksumPostProcessor, {}), fileArtifact('f.txt', dir), ctxWith(dir));
    assert.deepEqual(again.artifact.files, ['f.txt'], 'an existing checksum file is appended to, not listed again (as Packer)');
    assert.equal((await readFile(join(dir, 'packer_b_file_md5.checksum'), 'utf8')).split('\n').length, 3);
    assert.deepEqual(checksumPostProcessor.prepare({ checksum_types: ['crc32'] }).errors, ['Unrecognized checksum type: crc32']);
    const custom = prepared(checksumPostProcessor, { checksum_types: ['sha256'], output: 'sums/{{.BuildName}}.{{.ChecksumType}}' });
    await checksumPostProcessor.run(custom, fileArtifact('f.txt', dir), ctxWith(dir));
    assert.ok((await stat(join(dir, 'sums/b.sha256'))).isFile());
  });
});

/**
 * `builder fix`'s fixers and Go-style JSON output, without Packer (the differential test,
 * test/differential/legacy-fix.test.ts, compares with `packer fix` when it is installed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixLegacyTemplate, goIndentedJson } from '../../src/template/legacy/fix.js';
import { FIXERS } from '../../src/template/legacy/fixers.js';

test('the 34 fixers of Packer, in its order', () => {
  assert.equal(FIXERS.length, 34);
  assert.deepEqual(
    FIXERS.slice(0, 3).map((f) => f.name),
    ['iso-md5', 'createtime', 'virtualbox-gaattach'],
  );
  assert.equal(FIXERS.at(-1)!.name, 'proxmox-type');
});

test('fixed JSON is printed as Go encodes it', () => {
  assert.equal(goIndentedJson({ b: [1e21, 1e-7, -0], a: '<&>\u2028\u0007', c: {}, d: [] }), '{\n  "a": "<\\u0026>\\u2028\\u0007",\n  "b": [\n    1e+21,\n    1e-7,\n    -0\n  ],\n  "c": {},\n  "d": []\n}');
});

test('fixers rewrite old templates; validation runs on the result', () => {
  const r = fixLegacyTemplate(
    JSON.stringify({
      builders: [{ type: 'virtualbox', iso_md5: 'x', ssh_wait_timeout: '5m' }],
      provisioners: [{ type: 'shell', inline: ['true'], override: { virtualbox: {} } }],
      'post-processors': [{ type: 'manifest', filename: 'm.json' }],
    }),
    true,
  );
  assert.equal(r.code, 0, r.stderr);
  const fixed = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.deepEqual(fixed, {
    builders: [{ type: 'virtualbox-iso', iso_checksum: 'md5:x', ssh_timeout: '5m' }],
    provisioners: [{ type: 'shell', inline: ['true'], override: { 'virtualbox-iso': {} } }],
    'post-processors': [{ type: 'manifest', output: 'm.json' }],
  });
  assert.ok(r.stdout.endsWith('}\n\n'));

  const invalid = fixLegacyTemplate('{}', true);
  assert.equal(invalid.code, 1);
  assert.equal(invalid.stdout, '{\n  "builders": null\n}\n\n');
  assert.match(invalid.stderr, /^Error! Fixed template failed to validate: 1 error occurred:\n\t\* at least one builder must be defined\n/);
  assert.equal(fixLegacyTemplate('{}', false).code, 0);
  assert.match(fixLegacyTemplate('{"builders": ["x"]}', true).stderr, /^Error fixing: 1 error\(s\) decoding:\n\n\* 'Builders\[0\]' expected a map, got 'string'/);
});

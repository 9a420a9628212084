/**
 * HCL's ContextString, which Packer prints as "on FILE line N, in CONTEXT:": the header of the
 * top-level block holding the problem (labels quoted), or the JSON key path. Expected texts are
 * those Packer 1.6.6 prints for the same files (`in build:`, `in variable "region":`,
 * `in communicator "ssh":`, `in count:`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contextString } from '../../src/hcl/context-string.js';
import { errorDiag, formatDiagnostic } from '../../src/diagnostics.js';

const HCL = `variable "region" {
  type = string
}

build {
  post-processors {
    post-processor "shell-local" {
      nonsense = 2
    }
  }
}
communicator "ssh" {
}
locals { a = 1 }
`;

const at = (text: string, needle: string): number => text.indexOf(needle);

test('native syntax: the top-level block that holds the offset, labels quoted', () => {
  assert.equal(contextString('t.pkr.hcl', HCL, at(HCL, 'string')), 'variable "region"');
  assert.equal(contextString('t.pkr.hcl', HCL, at(HCL, 'nonsense')), 'build');
  assert.equal(contextString('t.pkr.hcl', HCL, at(HCL, 'communicator')), 'communicator "ssh"');
  assert.equal(contextString('t.pkr.hcl', HCL, at(HCL, 'a = 1')), 'locals');
  assert.equal(contextString('t.pkr.hcl', HCL, HCL.indexOf('\n\nbuild')), undefined);
});

test('JSON syntax: the path of keys and indexes to the innermost object or array', () => {
  const json = '{\n  "count": [1, 2],\n  "name": "x",\n  "build": {"provisioner": [{"shell": {"inline": ["a"]}}]}\n}\n';
  assert.equal(contextString('v.pkrvars.json', json, at(json, '[1, 2]') + 1), 'count');
  assert.equal(contextString('v.pkrvars.json', json, at(json, '"x"')), undefined);
  assert.equal(contextString('t.pkr.json', json, at(json, '"a"')), 'build.provisioner[0].shell.inline');
});

test('a diagnostic inside a block prints "in CONTEXT" instead of the column, as Packer', () => {
  const off = at(HCL, 'nonsense');
  const line = HCL.slice(0, off).split('\n').length;
  const subject = { filename: 't.pkr.hcl', start: { line, column: 7, byte: off }, end: { line, column: 15, byte: off + 8 } };
  const text = formatDiagnostic(errorDiag('Unsupported argument', 'An argument named "nonsense" is not expected here.', subject), () => HCL);
  assert.match(text, /^Error: Unsupported argument\n\n {2}on t\.pkr\.hcl line 8, in build:\n {2}8: {7}nonsense = 2\n/);
});

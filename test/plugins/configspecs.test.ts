/**
 * The ConfigSpecs of all 81 components Debian's Packer 1.6.6 serves (captured by
 * scripts/capture-plugin-specs.ts), decoded, and every attribute type they use round-tripped
 * through the cty JSON a plugin is sent.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { configJson, decodeConfigSpec, toConfigSpec, type PluginSpec, type SpecNode } from '../../src/plugins/config-spec.js';
import { typeJson, typeString, type CtyType } from '../../src/plugins/cty.js';

const specs = new Map(Object.entries(JSON.parse(gunzipSync(readFileSync(join(process.cwd(), 'test', 'fixtures', 'plugins', 'packer-1.6.6-configspecs.json.gz'))).toString()) as Record<string, string>)
  .map(([k, v]) => [k, decodeConfigSpec(Buffer.from(v, 'base64'))]));

function sample(t: CtyType): unknown {
  switch (t.kind) {
    case 'string': return 'text';
    case 'number': return 42;
    case 'bool': return true;
    case 'list': case 'set': return [sample(t.elem), sample(t.elem)];
    case 'map': return { a: sample(t.elem) };
    default: throw new Error(`no sample for ${typeString(t)}`);
  }
}

describe("Packer 1.6.6's ConfigSpecs", () => {
  it('decode: 81 components, 5,334 attributes, 67 blocks, 78 block lists, 145 nested objects', () => {
    const count: Record<string, number> = {};
    const types = new Map<string, CtyType>();
    const walk = (n: SpecNode): void => {
      count[n.kind] = (count[n.kind] ?? 0) + 1;
      if (n.kind === 'attr') types.set(typeString(n.type), n.type);
      if (n.kind === 'object') Object.values(n.fields).forEach(walk);
      if (n.kind === 'block' || n.kind === 'blockList') walk(n.nested);
    };
    specs.forEach(walk);
    assert.equal(specs.size, 81);
    assert.deepEqual(count, { object: 81 + 145, attr: 5334, block: 67, blockList: 78 });
    assert.deepEqual([...types.keys()].sort(), ['bool', 'list(list(string))', 'list(number)', 'list(string)', 'map(string)', 'number', 'string']);

    // Every attribute type round-trips through the cty JSON a plugin receives.
    for (const [name, t] of types) {
      const spec: PluginSpec = { kind: 'object', fields: { a: { kind: 'attr', name: 'a', type: t, required: false } } };
      const json = JSON.parse(configJson(spec, { a: sample(t) }).toString()) as { value: { a: unknown }; type: unknown };
      assert.deepEqual(json.value.a, sample(t), name);
      assert.deepEqual(json.type, ['object', { a: typeJson(t) }], name);
    }
  });

  it('give validate a spec and the plugin a typed body, blocks included', () => {
    const ebs = specs.get('builder/amazon-ebs')!;
    const ours = toConfigSpec(ebs);
    assert.deepEqual(ours.attributes.ami_name, { type: 'string' });
    assert.equal(ours.blocks?.launch_block_device_mappings?.nesting, 'list');
    const body = {
      ami_name: 'x', region: 'eu-west-1', instance_type: 't3.micro', source_ami: 'ami-1',
      launch_block_device_mappings: [{ device_name: '/dev/sda1', volume_size: '20' }],
    };
    const json = JSON.parse(configJson(ebs, body).toString()) as { value: Record<string, unknown> };
    const mapping = (json.value.launch_block_device_mappings as Array<Record<string, unknown>>)[0]!;
    assert.equal(mapping.volume_size, 20); // converted to the spec's number
    assert.equal(mapping.encrypted, null);
    assert.throws(() => configJson(ebs, { launch_block_device_mappings: [{ bogus: 1 }] }), /launch_block_device_mappings\[0\]\.bogus: unsupported argument/);
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { configJson, decodeConfigSpec, toConfigSpec } from '../../src/plugins/config-spec.js';
import { decodeCtyType, typeString } from '../../src/plugins/cty.js';
import { GobDecoder, GobEncoded, GobInterface, decodeGob, encodeCommandFinished } from '../../src/plugins/gob.js';

const fixtures = join(process.cwd(), 'test', 'fixtures', 'plugins');

describe('gob decoder', () => {
  it('decodes the CommandFinished stream builder sends, for zero, positive and negative statuses', () => {
    assert.deepEqual(decodeGob(encodeCommandFinished(0)), {});
    assert.deepEqual(decodeGob(encodeCommandFinished(3)), { ExitStatus: 3 });
    assert.deepEqual(decodeGob(encodeCommandFinished(-1)), { ExitStatus: -1 });
    assert.deepEqual(decodeGob(encodeCommandFinished(70000)), { ExitStatus: 70000 });
  });

  it('decodes singletons: a string, a multi-byte uint and a float', () => {
    // Hand-assembled: [len][int id 6 = string][0 delta][len "hi"]; [len][id 3 = uint][0][FE 01 00 = 256];
    // [len][id 4 = float][0][FE F0 3F = 1.0 with its bytes reversed].
    const bytes = Buffer.from([5, 0x0c, 0, 2, 0x68, 0x69, 5, 0x06, 0, 0xfe, 0x01, 0x00, 5, 0x08, 0, 0xfe, 0xf0, 0x3f]);
    assert.deepEqual(new GobDecoder(bytes).all(), ['hi', 256, 1]);
  });

  it('rejects truncated data with a gob error', () => {
    const bytes = encodeCommandFinished(3);
    assert.throws(() => decodeGob(bytes.subarray(0, bytes.length - 2)), /gob/);
  });

  it("decodes Packer 1.6.6 shell-local's ConfigSpec (type definitions inside the value, nested cty gob streams)", () => {
    const raw = decodeGob(readFileSync(join(fixtures, 'shell-local-provisioner.configspec.gob')));
    assert.ok(raw instanceof Map);
    const inline = raw.get('inline');
    assert.ok(inline instanceof GobInterface);
    assert.equal(inline.typeName, '*hcldec.AttrSpec');
    const t = (inline.value as { Type: unknown }).Type;
    assert.ok(t instanceof GobEncoded);
    assert.equal(typeString(decodeCtyType(t.bytes)), 'list(string)');

    const spec = decodeConfigSpec(readFileSync(join(fixtures, 'shell-local-provisioner.configspec.gob')));
    assert.equal(Object.keys(spec.fields).length, 20);
    const ours = toConfigSpec(spec);
    assert.deepEqual(ours.attributes.inline, { type: 'list(string)' });
    assert.deepEqual(ours.attributes.environment_vars, { type: 'list(string)' });
    assert.deepEqual(ours.attributes.use_linux_pathing, { type: 'bool' });
    assert.deepEqual(ours.attributes.packer_user_variables, { type: 'map(string)' });
    assert.deepEqual(ours.attributes.valid_exit_codes, { type: 'any' }); // list(number)

    const json = JSON.parse(configJson(spec, { inline: ['echo hi'], valid_exit_codes: ['0', 3] }).toString()) as { value: Record<string, unknown>; type: unknown[] };
    assert.deepEqual(json.value.inline, ['echo hi']);
    assert.deepEqual(json.value.valid_exit_codes, [0, 3]);
    assert.equal(json.value.script, null);
    assert.deepEqual((json.type[1] as Record<string, unknown>).valid_exit_codes, ['list', 'number']);
    assert.throws(() => configJson(spec, { bogus: 1 }), /bogus: unsupported argument/);
    assert.throws(() => configJson(spec, { inline: 'x' }), /inline: list\(string\) required/);
  });
});

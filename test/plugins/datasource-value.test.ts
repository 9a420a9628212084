/**
 * Decoding a plugin data source's result (a gob cty.Value) and its OutputSpec. The bytes come from
 * test/plugins/gob-encoder.ts, which follows Go's gob encoder (no Go plugin with the SDK's
 * gob-keeping go-cty builds offline here: Debian's go-cty 1.12 dropped gob support).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeConfigSpec, impliedType } from '../../src/plugins/config-spec.js';
import { valueType } from '../../src/plugins/cty.js';
import { decodeBigFloat, decodeGobCtyValue } from '../../src/plugins/datasource-value.js';
import { typeExpression } from '../../src/values/value.js';
import { bigFloatBytes, ctyValueGob, objectSpecGob, type TestCtyType } from './gob-encoder.js';

describe('plugin data source values (gob)', () => {
  it('decodes big.Float bytes exactly', () => {
    for (const x of [0, 1, 42, -3.25, 0.1, 1e300, 123456789.125]) {
      assert.equal(Number(decodeBigFloat(bigFloatBytes(x))), x);
    }
    assert.equal(decodeBigFloat(bigFloatBytes(0.5)), '0.5');
    assert.equal(decodeBigFloat(bigFloatBytes(-3.25)), '-3.25');
  });

  it('decodes an object of every kind of attribute, nested interfaces and nulls included', () => {
    const t: TestCtyType = { object: { output: 'string', n: 'number', ok: 'bool', tags: { list: 'string' }, labels: { map: 'string' }, none: 'string', inner: { object: { x: { list: 'number' } } } } };
    const v = decodeGobCtyValue(ctyValueGob(t, { output: 'hi', n: 42.5, ok: true, tags: ['a', 'b'], labels: { k: 'v', e: '' }, none: null, inner: { x: [1, 2] } }));
    assert.deepEqual(v.toJS(), { output: 'hi', n: 42.5, ok: true, tags: ['a', 'b'], labels: { e: '', k: 'v' }, none: null, inner: { x: [1, 2] } });
    assert.equal(typeExpression(v.type), 'object({inner=object({x=list(number)}), labels=map(string), n=number, none=string, ok=bool, output=string, tags=list(string)})');
  });

  it('reads an OutputSpec into the type of the result', () => {
    const spec = decodeConfigSpec(objectSpecGob({ output: { type: 'string' }, length: { type: 'number' }, tags: { type: { list: 'string' } } }));
    assert.equal(typeExpression(valueType(impliedType(spec))), 'object({output=string, length=number, tags=list(string)})');
  });

  it('refuses bytes that hold no cty.Value, and truncated ones, with a gob error', () => {
    assert.throws(() => decodeGobCtyValue(objectSpecGob({ a: { type: 'string' } })), /gob/);
    const b = ctyValueGob('string', 'x');
    assert.throws(() => decodeGobCtyValue(b.subarray(0, b.length - 3)), /gob/);
  });
});

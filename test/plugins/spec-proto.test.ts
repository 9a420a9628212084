/**
 * The protobuf form of ConfigSpecs (current SDK plugins saying `"protocol_version":"v2"`, started
 * with `--protobuf`):
 * - every captured Packer 1.6.6 ConfigSpec, encoded to protobuf here (spec-proto-encode.ts, its
 *   own .proto text), decodes to exactly the PluginSpec its gob form gives;
 * - when builder passes `--protobuf` (as current Packer: one run-wide decision, the flag before
 *   the component name, PACKER_FORCE_GOB);
 * - through the CLI with the fake plugin (test/plugins/fake-plugin.ts) serving Packer 1.6.6's
 *   `converge` spec (map, bool, string, list, a block list): `validate` reports a wrong attribute
 *   at file:line:col from the protobuf spec, and a build sends the plugin exactly the typed values;
 *   a v1 plugin is started without the flag and still works over gob.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { decodeConfigSpec, type SpecNode } from '../../src/plugins/config-spec.js';
import { typeString } from '../../src/plugins/cty.js';
import { decodeProtoSpec, decodeSpecReply, protobufForRun, startArgs } from '../../src/plugins/spec-proto.js';
import { runProcess } from '../cli/run.js';
import { encodeProtoSpec } from './spec-proto-encode.js';

const fixtures = join(process.cwd(), 'test', 'fixtures', 'plugins');
const captured = Object.entries(JSON.parse(gunzipSync(readFileSync(join(fixtures, 'packer-1.6.6-configspecs.json.gz'))).toString()) as Record<string, string>);
const fakeScript = join(process.cwd(), 'dist', 'test', 'plugins', 'fake-plugin.js');

describe('protobuf ConfigSpecs', () => {
  it("decode every captured Packer 1.6.6 spec exactly as its gob form, for every attribute type they use", () => {
    const types = new Set<string>();
    const kinds = new Set<string>();
    const walk = (n: SpecNode): void => {
      kinds.add(n.kind);
      if (n.kind === 'attr') types.add(typeString(n.type));
      if (n.kind === 'object') Object.values(n.fields).forEach(walk);
      if (n.kind === 'block' || n.kind === 'blockList') walk(n.nested);
    };
    for (const [name, b64] of captured) {
      const gob = decodeConfigSpec(Buffer.from(b64, 'base64'));
      walk(gob);
      const proto = encodeProtoSpec(gob);
      assert.deepEqual(decodeProtoSpec(proto), gob, name);
      assert.deepEqual(decodeSpecReply(proto, ['start', 'builder', '--protobuf', 'x']), gob, name);
    }
    assert.equal(captured.length, 81);
    assert.deepEqual([...types].sort(), ['bool', 'list(list(string))', 'list(number)', 'list(string)', 'map(string)', 'number', 'string']);
    assert.deepEqual([...kinds].sort(), ['attr', 'block', 'blockList', 'object']);
    // Without the flag, the reply is read as gob.
    assert.deepEqual(decodeSpecReply(Buffer.from(captured[0]![1], 'base64'), ['start', 'builder', 'x']), decodeConfigSpec(Buffer.from(captured[0]![1], 'base64')));
  });

  it('refuses what is not an object spec, with a clear message', () => {
    assert.throws(() => decodeProtoSpec(Buffer.from([0xff, 0xff, 0xff])), /not a protobuf Spec message/);
    const attrOnly = encodeProtoSpec({ kind: 'object', fields: {} });
    assert.deepEqual(decodeProtoSpec(attrOnly), { kind: 'object', fields: {} });
    assert.throws(() => decodeProtoSpec(Buffer.alloc(0)), /protobuf spec is empty, not an object spec/);
  });

  it('decides --protobuf as current Packer: all plugins v2, PACKER_FORCE_GOB, the flag before the name', () => {
    const v2 = { protocol_version: 'v2', componentCount: 2 };
    assert.equal(protobufForRun([v2, v2], {}), true);
    assert.equal(protobufForRun([v2, { componentCount: 1 }], {}), false);
    assert.equal(protobufForRun([v2, { componentCount: 0 }], {}), true);
    assert.equal(protobufForRun([v2], { PACKER_FORCE_GOB: '1' }), false);
    assert.equal(protobufForRun([v2], { PACKER_FORCE_GOB: '0' }), true);
    assert.deepEqual(startArgs('provisioner', 'x', true), ['start', 'provisioner', '--protobuf', 'x']);
    assert.deepEqual(startArgs('provisioner', 'x', false), ['start', 'provisioner', 'x']);
  });
});

describe('a v2 plugin through the CLI (the fake plugin)', () => {
  let dir: string;
  let n = 0;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'builder-spec-proto-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const template = (provisioner: string): string => `source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]
  provisioner "fakepb" {
${provisioner}
  }
}
`;

  async function run(args: string[], body: string, env: NodeJS.ProcessEnv = {}, plugins = ['fakepb']): Promise<{ code: number; stdout: string; stderr: string; records: Array<{ argv: string[]; configs: unknown[] }> }> {
    const w = join(dir, `w${++n}`);
    mkdirSync(join(w, 'home'), { recursive: true });
    for (const p of plugins) {
      // NAME or NAME:v1 (a plugin of an SDK before v0.6).
      const [name, v1] = p.split(':');
      writeFileSync(join(w, `packer-plugin-${name}`), `#!/bin/sh\n${v1 ? 'FAKE_PROTOCOL=v1 ' : ''}exec ${JSON.stringify(process.execPath)} ${JSON.stringify(fakeScript)} "$@"\n`);
      chmodSync(join(w, `packer-plugin-${name}`), 0o755);
    }
    writeFileSync(join(w, 't.pkr.hcl'), template(body));
    const record = join(w, 'record.jsonl');
    const r = await runProcess(args.concat('t.pkr.hcl'), {
      cwd: w,
      env: { HOME: join(w, 'home'), CHECKPOINT_DISABLE: '1', TMPDIR: w, PACKER_PLUGIN_PATH: '', SPEC_FIXTURE: 'provisioner/converge', RECORD_FILE: record, ...env },
    });
    let records: Array<{ argv: string[]; configs: unknown[] }> = [];
    try {
      records = readFileSync(record, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { argv: string[]; configs: unknown[] });
    } catch { /* no Prepare */ }
    return { ...r, records };
  }

  const good = `    module    = "web"
    bootstrap = "true"
    params    = { port = 8080 }
    module_dirs {
      source      = "src"
      destination = "/opt/m"
      exclude     = ["a", 2]
    }
    module_dirs {
      source      = "more"
      destination = "/opt/n"
    }`;

  it('validate reports a wrong attribute at file:line:col from the protobuf spec', async () => {
    const r = await run(['validate'], `    module = "web"
    module_dirs {
      source   = "src"
      no_such  = true
    }`);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /Error: Unsupported argument\n\n {2}on t\.pkr\.hcl line 11, in build:\n {2}11: {7}no_such {2}= true\n {12}\^{7}\n/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    const wrongType = await run(['validate'], '    bootstrap = ["x"]');
    assert.equal(wrongType.code, 1, wrongType.stdout + wrongType.stderr);
    assert.match(wrongType.stderr, /t\.pkr\.hcl line 8/);
  });

  it('build starts the plugin with --protobuf before the name, and sends exactly the typed values', async () => {
    const r = await run(['build'], good);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /hello from the fake plugin/);
    assert.equal(r.records.length, 1);
    assert.deepEqual(r.records[0]!.argv, ['start', 'provisioner', '--protobuf', '-packer-default-plugin-name-']);
    const [vars, config, override] = r.records[0]!.configs as [Record<string, unknown>, { value: Record<string, unknown>; type: unknown }, unknown];
    assert.equal(vars.packer_build_name, 'a');
    assert.equal(override ?? null, null);
    const v = config.value;
    assert.equal(v.module, 'web');
    assert.equal(v.bootstrap, true);
    assert.deepEqual(v.params, { port: '8080' });
    assert.deepEqual(v.module_dirs, [
      { source: 'src', destination: '/opt/m', exclude: ['a', '2'] },
      { source: 'more', destination: '/opt/n', exclude: null },
    ]);
    assert.equal(v.version, null);
    const type = config.type as [string, Record<string, unknown>];
    assert.deepEqual(type[1].module_dirs, ['list', ['object', { destination: 'string', exclude: ['list', 'string'], source: 'string' }]]);
    assert.deepEqual(type[1].params, ['map', 'string']);
  });

  it('a v1 plugin, or PACKER_FORCE_GOB=1, or a v1 plugin beside a v2 one: started without the flag, over gob, same values', async () => {
    const cases: Array<[NodeJS.ProcessEnv, string[]]> = [[{}, ['fakepb:v1']], [{ PACKER_FORCE_GOB: '1' }, ['fakepb']], [{}, ['fakepb', 'oldpb:v1']]];
    for (const [env, plugins] of cases) {
      const r = await run(['build'], good, env, plugins);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.deepEqual(r.records[0]!.argv, ['start', 'provisioner', '-packer-default-plugin-name-']);
      assert.deepEqual((r.records[0]!.configs[1] as { value: Record<string, unknown> }).value.params, { port: '8080' });
    }
  });
});

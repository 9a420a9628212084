/**
 * A small plugin in the current SDK's shape, for tests: `describe`, and `start provisioner NAME`
 * with the four-field handshake, served by builder's own multiplexer in the plugin's role.
 * Components: the default one says hello (and one 600 KiB message, larger than the window) through
 * the parent's Ui; `crash` exits in the middle of Provision; `garbage` answers with bytes that are
 * not msgpack; `slow-accept` waits 2 s before accepting its connection.
 * ConfigSpec answers with the spec in SPEC_FILE (a captured gob), or with SPEC_FIXTURE (a
 * component of the captured Packer 1.6.6 specs, e.g. "provisioner/converge").
 *
 * Protocol versions, as the SDK: `describe` says `"protocol_version":"v2"`, and `--protobuf`
 * anywhere in the arguments makes ConfigSpec answer in the protobuf form (without it, gob).
 * FAKE_PROTOCOL=v1 plays an SDK before v0.6: no protocol_version, and `--protobuf` is not
 * understood (start then takes three arguments and fails, as such a plugin does).
 * RECORD_FILE: each Prepare appends a JSON line `{argv, configs}` (the cty JSON configuration
 * parsed), so tests can check the exact start arguments and typed values received.
 * Data sources (`start datasource NAME`): the default one takes `input` (required) and `count`
 * and gives `{output = upper(input), length, tags = [input × count]}`; `fail` answers Execute
 * with an error; `crash` exits in the middle of Execute. Their specs and results are gob, or,
 * under `--protobuf`, a protobuf spec and a go-cty msgpack value (of the dynamic type), as the
 * SDK sends them.
 */
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Broker } from '../../src/plugins/broker.js';
import { Session } from '../../src/plugins/mux.js';
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from '../../src/plugins/process.js';
import { RpcClient, bytesToBuffer, field, serveRpc, type RpcHandler } from '../../src/plugins/rpc.js';
import { decodeConfigSpec } from '../../src/plugins/config-spec.js';
import { gunzipSync } from 'node:zlib';
import { encode } from '@msgpack/msgpack';
import { encodeProtoSpec } from './spec-proto-encode.js';
import { ctyValueGob, objectSpecGob, type TestCtyType } from './gob-encoder.js';

const v2 = process.env.FAKE_PROTOCOL !== 'v1';
const argv = process.argv.slice(2);
const useProto = v2 && argv.includes('--protobuf');
const [cmd, kind, name, ...extra] = v2 ? argv.filter((a) => a !== '--protobuf') : argv;
if (cmd === 'describe') {
  process.stdout.write(JSON.stringify({
    version: '1.2.3', sdk_version: v2 ? '0.6.0' : '0.5.0', api_version: 'x5.0', builders: [], post_processors: [],
    datasources: ['-packer-default-plugin-name-', 'fail', 'crash'],
    provisioners: ['-packer-default-plugin-name-', 'crash', 'garbage', 'slow-accept'], ...(v2 ? { protocol_version: 'v2' } : {}),
  }));
  process.exit(0);
}
if (cmd === 'start' && extra.length > 0) {
  process.stderr.write(`start takes two arguments, for example 'start builder example-builder'. Found: ${argv.slice(1).join(' ')}\n`);
  process.exit(1);
}
if (cmd !== 'start' || (kind !== 'provisioner' && kind !== 'datasource') || process.env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
  process.stderr.write('This plugin must be started by Packer.\n');
  process.exit(1);
}

function gobSpec(): Buffer {
  const fixture = process.env.SPEC_FIXTURE;
  if (!fixture) return readFileSync(process.env.SPEC_FILE!);
  const all = JSON.parse(gunzipSync(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'plugins', 'packer-1.6.6-configspecs.json.gz'))).toString()) as Record<string, string>;
  return Buffer.from(all[fixture]!, 'base64');
}

/** The ConfigSpec reply: gob, or protobuf when started with --protobuf. */
function configSpec(): Buffer {
  const gob = gobSpec();
  return useProto ? encodeProtoSpec(decodeConfigSpec(gob)) : gob;
}

function record(arg: unknown): void {
  if (!process.env.RECORD_FILE) return;
  const configs = (field(arg, 'Configs') as unknown[]).map((c) => (c instanceof Uint8Array ? JSON.parse(Buffer.from(c).toString()) as unknown : c));
  appendFileSync(process.env.RECORD_FILE, `${JSON.stringify({ argv, configs })}\n`);
}
process.on('SIGTERM', () => process.stderr.write('Received interrupt signal. Ignoring\n'));
const socketPath = join(process.env.TMPDIR ?? tmpdir(), `fake-plugin-${process.pid}`);
const server = createServer((conn) => {
  server.close();
  rmSync(socketPath, { force: true });
  const session = new Session(conn, { client: false });
  const broker = new Broker(session);
  void broker.accept(0).then((main) => {
    if (kind === 'datasource') {
      void serveRpc(main, dataSourceHandlers());
      return;
    }
    void serveRpc(main, {
      'Provisioner.ConfigSpec': () => ({ ConfigSpec: configSpec() }),
      'Provisioner.Prepare': (arg) => { record(arg); return null; },
      'Provisioner.Provision': async (arg) => {
        if (name === 'crash') process.exit(3);
        if (name === 'garbage') {
          main.write(Buffer.from([0xc1, 0xc1, 0xc1, 0xc1]));
          return new Promise(() => undefined);
        }
        const ui = new RpcClient(await broker.dial(Number(field(arg, 'StreamID'))));
        await ui.call('Ui.Say', 'hello from the fake plugin');
        await ui.call('Ui.Message', 'x'.repeat(600 * 1024));
        ui.close();
        return null;
      },
      'Provisioner.Cancel': () => null,
    });
  });
});
server.listen(socketPath, () => {
  const announce = (): void => { process.stdout.write(`5|0|unix|${socketPath}\n`); };
  if (name === 'slow-accept') setTimeout(announce, 2000);
  else announce();
});

const OUTPUT: TestCtyType = { object: { output: 'string', length: 'number', tags: { list: 'string' } } };

/** A spec in the form the plugin was started for: gob, or protobuf under --protobuf. */
function specReply(attrs: Record<string, { type: TestCtyType; required?: boolean }>): Buffer {
  const gob = objectSpecGob(attrs);
  return useProto ? encodeProtoSpec(decodeConfigSpec(gob)) : gob;
}

/** A cty type in cty's JSON form. */
function typeJson(t: TestCtyType): unknown {
  if (typeof t === 'string') return t;
  if ('list' in t) return ['list', typeJson(t.list)];
  if ('map' in t) return ['map', typeJson(t.map)];
  return ['object', Object.fromEntries(Object.entries(t.object).map(([k, v]) => [k, typeJson(v)]))];
}

/** A result in the plugin's form: a gob cty.Value, or go-cty msgpack of the dynamic type
 * ([type JSON as bytes, value]) under --protobuf. */
function valueReply(t: TestCtyType, v: unknown): Buffer {
  return useProto ? Buffer.from(encode([Buffer.from(JSON.stringify(typeJson(t))), v])) : ctyValueGob(t, v);
}

function dataSourceHandlers(): Record<string, RpcHandler> {
  let config: { input?: string; count?: number | null } = {};
  return {
    'Datasource.ConfigSpec': () => ({ ConfigSpec: specReply({ input: { type: 'string', required: true }, count: { type: 'number' } }) }),
    'Datasource.OutputSpec': () => ({ OutputSpec: specReply({ output: { type: 'string' }, length: { type: 'number' }, tags: { type: { list: 'string' } } }) }),
    'Datasource.Configure': (arg) => {
      const configs = field(arg, 'Configs') as unknown[];
      config = (JSON.parse(bytesToBuffer(configs[0]).toString('utf8')) as { value: typeof config }).value;
      if (!config.input) throw new Error('the `input` must be specified');
      return { Error: null };
    },
    'Datasource.Execute': () => {
      if (name === 'crash') process.exit(3);
      if (name === 'fail') throw new Error('the fake data source failed on purpose');
      const input = config.input ?? '';
      const tags = Array.from({ length: config.count ?? 1 }, () => input);
      return { Value: valueReply(OUTPUT, { output: input.toUpperCase(), length: input.length, tags }), Error: null };
    },
    'Datasource.Cancel': () => null,
  };
}

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
 */
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Broker } from '../../src/plugins/broker.js';
import { Session } from '../../src/plugins/mux.js';
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from '../../src/plugins/process.js';
import { RpcClient, field, serveRpc } from '../../src/plugins/rpc.js';
import { decodeConfigSpec } from '../../src/plugins/config-spec.js';
import { gunzipSync } from 'node:zlib';
import { encodeProtoSpec } from './spec-proto-encode.js';

const v2 = process.env.FAKE_PROTOCOL !== 'v1';
const argv = process.argv.slice(2);
const useProto = v2 && argv.includes('--protobuf');
const [cmd, kind, name, ...extra] = v2 ? argv.filter((a) => a !== '--protobuf') : argv;
if (cmd === 'describe') {
  process.stdout.write(JSON.stringify({
    version: '1.2.3', sdk_version: v2 ? '0.6.0' : '0.5.0', api_version: 'x5.0', builders: [], post_processors: [], datasources: [],
    provisioners: ['-packer-default-plugin-name-', 'crash', 'garbage', 'slow-accept'], ...(v2 ? { protocol_version: 'v2' } : {}),
  }));
  process.exit(0);
}
if (cmd === 'start' && extra.length > 0) {
  process.stderr.write(`start takes two arguments, for example 'start builder example-builder'. Found: ${argv.slice(1).join(' ')}\n`);
  process.exit(1);
}
if (cmd !== 'start' || kind !== 'provisioner' || process.env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
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

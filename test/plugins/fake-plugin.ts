/**
 * A small plugin in the current SDK's shape, for tests: `describe`, and `start provisioner NAME`
 * with the four-field handshake, served by builder's own multiplexer in the plugin's role.
 * Components: the default one says hello (and one 600 KiB message, larger than the window) through
 * the parent's Ui; `crash` exits in the middle of Provision; `garbage` answers with bytes that are
 * not msgpack; `slow-accept` waits 2 s before accepting its connection.
 * ConfigSpec answers with the spec in SPEC_FILE (a captured gob).
 * Data sources (`start datasource NAME`, gob form): the default one takes `input` (required) and
 * `count` and gives `{output = upper(input), length, tags = [input × count]}`; `fail` answers
 * Execute with an error; `crash` exits in the middle of Execute.
 */
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../../src/plugins/broker.js';
import { Session } from '../../src/plugins/mux.js';
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from '../../src/plugins/process.js';
import { RpcClient, bytesToBuffer, field, serveRpc, type RpcHandler } from '../../src/plugins/rpc.js';
import { ctyValueGob, objectSpecGob, type TestCtyType } from './gob-encoder.js';

const [cmd, kind, name] = process.argv.slice(2);
if (cmd === 'describe') {
  process.stdout.write(JSON.stringify({
    version: '1.2.3', sdk_version: '0.5.0', api_version: 'x5.0', builders: [], post_processors: [],
    datasources: ['-packer-default-plugin-name-', 'fail', 'crash'],
    provisioners: ['-packer-default-plugin-name-', 'crash', 'garbage', 'slow-accept'], protocol_version: 'v2',
  }));
  process.exit(0);
}
if (cmd !== 'start' || (kind !== 'provisioner' && kind !== 'datasource') || process.env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
  process.stderr.write('This plugin must be started by Packer.\n');
  process.exit(1);
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
      'Provisioner.ConfigSpec': () => ({ ConfigSpec: readFileSync(process.env.SPEC_FILE!) }),
      'Provisioner.Prepare': () => null,
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

function dataSourceHandlers(): Record<string, RpcHandler> {
  let config: { input?: string; count?: number | null } = {};
  return {
    'Datasource.ConfigSpec': () => ({ ConfigSpec: objectSpecGob({ input: { type: 'string', required: true }, count: { type: 'number' } }) }),
    'Datasource.OutputSpec': () => ({ OutputSpec: objectSpecGob({ output: { type: 'string' }, length: { type: 'number' }, tags: { type: { list: 'string' } } }) }),
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
      return { Value: ctyValueGob(OUTPUT, { output: input.toUpperCase(), length: input.length, tags }), Error: null };
    },
    'Datasource.Cancel': () => null,
  };
}

/**
 * A small plugin in the current SDK's shape, for tests: `describe`, and `start provisioner NAME`
 * with the four-field handshake, served by builder's own multiplexer in the plugin's role.
 * Components: the default one says hello (and one 600 KiB message, larger than the window) through
 * the parent's Ui; `crash` exits in the middle of Provision; `garbage` answers with bytes that are
 * not msgpack; `slow-accept` waits 2 s before accepting its connection.
 * ConfigSpec answers with the spec in SPEC_FILE (a captured gob).
 */
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../../src/plugins/broker.js';
import { Session } from '../../src/plugins/mux.js';
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from '../../src/plugins/process.js';
import { RpcClient, field, serveRpc } from '../../src/plugins/rpc.js';

const [cmd, kind, name] = process.argv.slice(2);
if (cmd === 'describe') {
  process.stdout.write(JSON.stringify({
    version: '1.2.3', sdk_version: '0.5.0', api_version: 'x5.0', builders: [], post_processors: [], datasources: [],
    provisioners: ['-packer-default-plugin-name-', 'crash', 'garbage', 'slow-accept'], protocol_version: 'v2',
  }));
  process.exit(0);
}
if (cmd !== 'start' || kind !== 'provisioner' || process.env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
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

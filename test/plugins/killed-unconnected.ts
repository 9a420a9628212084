/**
 * Test helper process: starts a Packer plugin that is never connected (its handshake goes to
 * /dev/null, so it waits for a connection forever, as one caught between its start and builder's
 * connect does), prints the plugin's pid, then SIGKILLs itself: no exit hook runs. The plugin must
 * not outlive it (builder's watchdog kills its group).
 *   node killed-unconnected.js PACKER SOCKET_DIR
 */
import { runningPluginPids, startPlugin } from '../../src/plugins/process.js';

const [packer, socketDir] = process.argv.slice(2);
startPlugin({
  command: '/bin/sh',
  args: ['-c', 'exec "$0" plugin packer-provisioner-shell-local >/dev/null', packer!],
  socketDir: socketDir!,
}).catch(() => undefined);
// The watchdog is started on the next turn of the event loop and told the group; then die.
setTimeout(() => {
  process.stdout.write(`${runningPluginPids().join(',')}\n`, () => process.kill(process.pid, 'SIGKILL'));
}, 300);

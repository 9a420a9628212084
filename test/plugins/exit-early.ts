/**
 * Test helper process: starts a Packer plugin and exits (process.exit) at its first stderr line,
 * before the handshake is read, printing the plugin's pid first. The plugin must not outlive it.
 *   node exit-early.js PACKER SOCKET_DIR
 */
import { runningPluginPids, startPlugin } from '../../src/plugins/process.js';

const [packer, socketDir] = process.argv.slice(2);
void startPlugin({
  command: packer!,
  args: ['plugin', 'packer-provisioner-shell-local'],
  socketDir: socketDir!,
  debug: () => {
    process.stdout.write(`${runningPluginPids().join(',')}\n`);
    process.exit(1);
  },
});

/**
 * The `ssh` communicator: its configuration (ssh-config.ts, pure data and validation) and its
 * connection code (ssh-connect.ts), which is imported only when a connection is opened, so that
 * validating or building templates that never connect over SSH does not load `ssh2`.
 */
import type { CommunicatorDef, StepContext } from '../sdk/component.js';
import { prepareSshConfig, sshConfigSpec, type SshConfig } from './ssh-config.js';

export const sshCommunicator = {
  type: 'ssh',
  configSpec: sshConfigSpec,
  prepare: prepareSshConfig,
  async connect(config: SshConfig, ctx: StepContext) {
    const { connectSsh } = await import('./ssh-connect.js');
    return connectSsh(config, ctx);
  },
} satisfies CommunicatorDef<SshConfig>;

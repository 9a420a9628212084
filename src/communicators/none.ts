/**
 * The `none` communicator: no connection. As in Packer, a command "runs" and exits 0 without doing
 * anything, and every file transfer fails with "X is not implemented when communicator = 'none'".
 * Those failures are `UserError`s (code NO_COMMUNICATOR), which provisioners do not retry.
 */
import { UserError } from '../errors.js';
import type { Communicator, CommunicatorDef, ConnectionInfo } from '../sdk/component.js';

function notImplemented(op: string): Promise<never> {
  return Promise.reject(new UserError('NO_COMMUNICATOR', `${op} is not implemented when communicator = 'none'`));
}

const noConnection: Communicator = {
  start: async () => ({ exitStatus: 0, disconnected: false }),
  upload: () => notImplemented('Upload'),
  uploadDir: () => notImplemented('UploadDir'),
  download: () => notImplemented('Download'),
  downloadDir: () => notImplemented('DownloadDir'),
  close: async () => undefined,
};

export const noneCommunicator = {
  type: 'none',
  configSpec: { attributes: { communicator: { type: 'string' } } },
  prepare: () => ({ config: {}, errors: [], warnings: [] }),
  async connect() {
    const info: ConnectionInfo = { type: 'none' };
    return { comm: noConnection, info };
  },
} satisfies CommunicatorDef<Record<string, never>>;

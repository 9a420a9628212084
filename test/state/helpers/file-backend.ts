/** The local file backend as the conformance suite and the child processes create it. */
import { FileStateClient } from '../../../src/state/file/client.js';
import type { StateClient } from '../../../src/state/interfaces.js';

export interface FileBackendOptions {
  path: string;
  compactBytes?: number;
}

export function createFileClient(options: FileBackendOptions): StateClient {
  return new FileStateClient({ path: options.path, compactBytes: options.compactBytes, onWarning: (w) => process.stderr.write(`warning: ${w}\n`) });
}

/** Opens a StateManager over the local file backend: what commands and the build runner use. */
import { FileStateClient } from './file/client.js';
import { StateManager } from './manager.js';

export interface OpenFileStateOptions {
  path: string;
  /** false: no locks (-lock=false). */
  lock?: boolean;
  /** -lock-timeout, in milliseconds. */
  lockTimeoutMs?: number;
  onWarning?: (message: string) => void;
}

export function openFileState(options: OpenFileStateOptions): Promise<StateManager> {
  const client = new FileStateClient({ path: options.path, onWarning: options.onWarning });
  return StateManager.open({
    client,
    lock: options.lock,
    lockTimeoutMs: options.lockTimeoutMs,
    onWarning: options.onWarning,
  });
}

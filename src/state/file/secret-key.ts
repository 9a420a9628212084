/**
 * The secret key of a local file state, `<state>.key`: 32 random bytes (hex), mode 0600, beside
 * the state and never inside it. Sensitive values are recorded in the state only as hashes keyed
 * by it (src/state/sensitive.ts), so whoever reads the state file, a backup or a `state pull`
 * cannot test guesses of a low-entropy secret against them without also reading this file.
 *
 * Contracts:
 * - Reading never creates anything (`plan` and `build -plan` leave no file behind): a state
 *   without a key gets a new one in memory (newSecretKey), which the client writes with its next
 *   write of the state (writeSecretKey), so the hashes recorded by that write use it.
 * - Written appearing whole (to a temporary file of a random name, created exclusively, then
 *   hard-linked to its name): a key already there is kept (writeSecretKey returns it).
 * - Opened like every state file (no link followed, regular files only); a key file of the wrong
 *   size is reported, never replaced (a new key would make every sensitive value look changed).
 */
import { randomBytes } from 'node:crypto';
import { StateAccessError } from '../errors.js';
import { isErrno, type FileSystem } from './fs.js';

const keyFile = (statePath: string): string => `${statePath}.key`;

/** The key of the state at `statePath`, or undefined when it has none yet. */
export function readSecretKey(fs: FileSystem, statePath: string): string | undefined {
  const file = keyFile(statePath);
  let text: string;
  try {
    text = fs.readFile(file, 1024).toString('utf8').trim();
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw new StateAccessError(file, 'read the secret key of the state', err);
  }
  if (!/^[0-9a-f]{64}$/.test(text)) {
    throw new StateAccessError(file, 'read the secret key of the state', new Error('it does not hold 64 hex digits: it is damaged. Restore it from a copy, or remove it (every sensitive value then counts as changed once)'));
  }
  return text;
}

export function newSecretKey(): string {
  return randomBytes(32).toString('hex');
}

/** Writes `key` as the state's key unless it has one; returns the key the state now has. */
export function writeSecretKey(fs: FileSystem, statePath: string, key: string): string {
  const file = keyFile(statePath);
  const temp = `${file}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
  try {
    const fd = fs.open(temp, 'wx', 0o600);
    try {
      fs.write(fd, Buffer.from(`${key}\n`));
      fs.fsync(fd);
    } finally {
      fs.close(fd);
    }
    fs.link(temp, file);
    return key;
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return readSecretKey(fs, statePath) ?? key;
    throw new StateAccessError(file, 'write the secret key of the state', err);
  } finally {
    try {
      fs.unlink(temp);
    } catch {
      // not created, or already gone
    }
  }
}
